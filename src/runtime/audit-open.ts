/**
 * The audit store of the configuration for a process that has not resolved its secrets otherwise
 * (the CLI's commands, schedule changes, the refusal recorder): the URL of a PostgreSQL audit is
 * read by runtime/secrets.ts and handed to the adapter as a value.
 */
import {
  openAuditStore,
  openPostgresAuditStore,
  type AuditStoreSettings,
  type OpenAuditStoreOptions,
} from '../adapters/audit-store-open';
import type { AuditStore } from '../adapters/audit-store';
import type { PostgresAuditStore } from '../adapters/audit-store-postgres';
import type { AuditConfig } from '../domain/config';
import { auditUrlFromEnv, postgresUrlFromEnv, type SecretEnv } from './secrets';

type Options = Omit<OpenAuditStoreOptions, 'postgresUrl'>;

/** The configured store; an unset URL variable of a PostgreSQL audit is refused naming the setting. */
export async function openConfiguredAuditStore(
  config: AuditStoreSettings,
  options: Options = {},
  env: SecretEnv = process.env,
): Promise<AuditStore> {
  return openAuditStore(config, { ...options, postgresUrl: auditUrlFromEnv(config.audit, env) });
}

/** The PostgreSQL store of the configuration, whatever audit.store says (audit migrate). */
export async function openConfiguredPostgresAuditStore(
  audit: AuditConfig,
  options: Options = {},
  env: SecretEnv = process.env,
): Promise<PostgresAuditStore> {
  return openPostgresAuditStore(audit, { ...options, postgresUrl: postgresUrlFromEnv(audit, env) });
}

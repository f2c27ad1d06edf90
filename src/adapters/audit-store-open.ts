/**
 * Opens the audit store the configuration names (`audit.store`): the SQLite file in the data dir,
 * or PostgreSQL through the URL the caller resolved from `audit.postgres.urlEnv` (runtime/secrets.ts
 * reads it; this adapter only takes the value). Every process that reads or writes the audit
 * (worker, web app, CLI, refusal recorder) opens it here, so they all use the same one.
 */
import fs from 'node:fs';
import type { AuditConfig } from '../domain/config';
import { auditStoreFile, SqliteAuditStore, type AuditStore } from './audit-store';
import type * as PostgresModule from './audit-store-postgres';
import type { PostgresAuditStore } from './audit-store-postgres';
import { AuditStoreSettingError, auditUrlUnsetMessage } from './audit-setting-error';

export { AuditStoreSettingError } from './audit-setting-error';

// Loaded only when the audit is on PostgreSQL: the `pg` package costs 60–170 ms of every start
// and CLI command otherwise (bench/README.md, "Start to ready").
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when the audit is on PostgreSQL
const postgres = () => require('./audit-store-postgres') as typeof PostgresModule;

export interface OpenAuditStoreOptions {
  /** Reads only: no migration, no write, no write lock (CLI list/show/export/verify). */
  readOnly?: boolean;
  /** SQLite only: one line when an append waits for another process's write lock. */
  onWait?: (message: string) => void;
  /** PostgreSQL only: the audit database URL, resolved at start (runtime/secrets.ts auditUrlFromEnv). */
  postgresUrl?: string | undefined;
}

export interface AuditStoreSettings {
  dataDir: string;
  /** Absent (an older caller or a test's hand-made config): the SQLite file in dataDir. */
  audit?: AuditConfig;
}

/** Where the configured audit lives, for messages: the file, or the PostgreSQL setting. */
export function describeAuditStore(config: AuditStoreSettings): string {
  if (config.audit?.store !== 'postgres') return auditStoreFile(config.dataDir);
  return `audit.postgres.urlEnv ${config.audit.postgres.urlEnv}`;
}

/** Opens the PostgreSQL store of the configuration, whatever audit.store says (audit migrate). */
export async function openPostgresAuditStore(
  audit: AuditConfig,
  options: OpenAuditStoreOptions = {},
): Promise<PostgresAuditStore> {
  const url = options.postgresUrl;
  // A caller that did not resolve the URL gets the same error as an unset variable.
  if (!url) throw new AuditStoreSettingError(auditUrlUnsetMessage(audit.postgres.urlEnv));
  const { PostgresAuditStore, redactUrl, sslOptions } = postgres();
  const ssl = sslOptions(audit.postgres.ssl);
  return PostgresAuditStore.open({
    url,
    describe: `audit.postgres.urlEnv ${audit.postgres.urlEnv} = ${redactUrl(url)}`,
    ...(ssl === undefined ? {} : { ssl }),
    readOnly: options.readOnly === true,
    connectTimeoutMs: audit.postgres.connectTimeout,
    poolSize: audit.postgres.poolSize,
  });
}

/**
 * The configured store. A read-only SQLite open of a data dir with no audit file yet gives an
 * empty in-memory store (nothing has been recorded), as the CLI's readers always did.
 */
export async function openAuditStore(
  config: AuditStoreSettings,
  options: OpenAuditStoreOptions = {},
): Promise<AuditStore> {
  if (config.audit?.store === 'postgres') return openPostgresAuditStore(config.audit, options);
  const file = auditStoreFile(config.dataDir);
  if (options.readOnly) {
    return fs.existsSync(file) ? new SqliteAuditStore(file, { readOnly: true }) : new SqliteAuditStore(':memory:');
  }
  return new SqliteAuditStore(file, options.onWait ? { onWait: options.onWait } : {});
}

/** Whether the configured store may hold records (SQLite: its file exists; PostgreSQL: always asked). */
export function auditStoreMayExist(config: AuditStoreSettings): boolean {
  return config.audit?.store === 'postgres' || fs.existsSync(auditStoreFile(config.dataDir));
}

/**
 * Opens the audit store the configuration names (`audit.store`): the SQLite file in the data dir,
 * or PostgreSQL through the URL in the environment variable `audit.postgres.urlEnv`. Every process
 * that reads or writes the audit (worker, web app, CLI, refusal recorder) opens it here, so they
 * all use the same one.
 */
import fs from 'node:fs';
import type { AuditConfig } from '../domain/config';
import { auditStoreFile, SqliteAuditStore, type AuditStore } from './audit-store';
import { PostgresAuditStore, redactUrl, sslOptions } from './audit-store-postgres';

export interface OpenAuditStoreOptions {
  /** Reads only: no migration, no write, no write lock (CLI list/show/export/verify). */
  readOnly?: boolean;
  /** SQLite only: one line when an append waits for another process's write lock. */
  onWait?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface AuditStoreSettings {
  dataDir: string;
  /** Absent (an older caller or a test's hand-made config): the SQLite file in dataDir. */
  audit?: AuditConfig;
}

/** Thrown when audit.store is postgres and the URL's environment variable is not set. */
export class AuditStoreSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditStoreSettingError';
  }
}

/** Where the configured audit lives, for messages: the file, or the PostgreSQL setting. */
export function describeAuditStore(config: AuditStoreSettings): string {
  if (config.audit?.store !== 'postgres') return auditStoreFile(config.dataDir);
  return `audit.postgres.urlEnv ${config.audit.postgres.urlEnv}`;
}

/** The PostgreSQL URL of the configuration, from its environment variable; a clear error without. */
export function postgresUrlOf(audit: AuditConfig, env: NodeJS.ProcessEnv = process.env): string {
  const name = audit.postgres.urlEnv;
  const url = env[name];
  if (!url) {
    throw new AuditStoreSettingError(
      `audit.store is postgres but the environment variable ${name} (audit.postgres.urlEnv) is not set: ` +
        'set it to the audit database URL, postgres://<role>:<password>@<host>:5432/<database>',
    );
  }
  return url;
}

/** Opens the PostgreSQL store of the configuration, whatever audit.store says (audit migrate). */
export async function openPostgresAuditStore(
  audit: AuditConfig,
  options: OpenAuditStoreOptions = {},
): Promise<PostgresAuditStore> {
  const url = postgresUrlOf(audit, options.env);
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

/**
 * The audit store's setting error, in a file of its own so that runtime/secrets.ts (which every
 * start loads) can throw it without loading the SQLite and PostgreSQL drivers.
 */

/** Thrown when audit.store is postgres and the URL's environment variable is not set. */
export class AuditStoreSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditStoreSettingError';
  }
}

/** The message of a PostgreSQL audit whose URL variable is unset: names the variable and the setting. */
export function auditUrlUnsetMessage(urlEnv: string): string {
  return (
    `audit.store is postgres but the environment variable ${urlEnv} (audit.postgres.urlEnv) is not set: ` +
    'set it to the audit database URL, postgres://<role>:<password>@<host>:5432/<database>'
  );
}

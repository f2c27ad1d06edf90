/**
 * The audit store's contract (audit-store-contract.ts) over the SQLite file, without PostgreSQL:
 * audit-store-postgres.test.ts runs the same suite over a real PostgreSQL.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteAuditStore } from '../../src/adapters/audit-store';
import { auditStoreContract, clock, scratchStores, type Backend } from './audit-store-contract';

const scratch = scratchStores('audit-store-');

/** The SQLite file: tampered with as sqlite3 would, guard triggers dropped first. */
function sqliteBackend(): Backend {
  let file = '';
  return {
    fresh: () => {
      file = path.join(scratch.dir(), 'data', 'audit.sqlite');
    },
    store: async (options = {}) => {
      const s = new SqliteAuditStore(file, { clock, ...options });
      scratch.open.push(s);
      return s;
    },
    tamper: (sql) => {
      const db = new Database(file);
      db.exec('DROP TRIGGER audit_records_no_update; DROP TRIGGER audit_records_no_delete;');
      db.exec(sql);
      db.close();
    },
    raw: (sql) => {
      const db = new Database(file);
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
  };
}

auditStoreContract('sqlite', sqliteBackend);

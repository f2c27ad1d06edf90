/**
 * The audit store's contract (audit-store-contract.ts) over the SQLite file, without PostgreSQL:
 * audit-store-postgres.test.ts runs the same suite over a real PostgreSQL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteAuditStore } from '../../src/adapters/audit-store';
import { auditStoreContract, clock, type Backend } from './audit-store-contract';

let dir: string;
const open: SqliteAuditStore[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-store-'));
});

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The SQLite file: tampered with as sqlite3 would, guard triggers dropped first. */
function sqliteBackend(): Backend {
  let file = '';
  return {
    fresh: () => {
      file = path.join(dir, 'data', 'audit.sqlite');
    },
    store: async (options = {}) => {
      const s = new SqliteAuditStore(file, { clock, ...options });
      open.push(s);
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

/**
 * The audit store's contract (audit-store-contract.ts) over a real PostgreSQL (Debian's server in
 * a throw-away cluster, test/helpers/postgres.ts), tampered with through psql with the guard
 * triggers disabled; audit-store.test.ts runs the same contract over the SQLite file. Then what only PostgreSQL has: readers beside a held append
 * lock, a server down at start, a restart between appends, schema versions.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import {
  AuditStoreConnectError,
  PG_SCHEMA_VERSION,
  PostgresAuditStore,
  PostgresSchemaError,
} from '../../src/adapters/audit-store-postgres';
import { AuditStoreSettingError } from '../../src/adapters/audit-store-open';
import { openConfiguredAuditStore } from '../../src/runtime/audit-open';
import { parseConfig, type AuditConfig } from '../../src/domain/config';
import { freePort, startPostgres, type PostgresCluster } from '../helpers/postgres';
import { auditStoreContract, clock, scratchStores, ev, sixRecords, type Backend } from './audit-store-contract';

let cluster: PostgresCluster;
const scratch = scratchStores('audit-contract-');

beforeAll(async () => {
  cluster = await startPostgres();
}, 60_000);

afterAll(() => cluster?.remove());

function postgresBackend(): Backend {
  let db = { url: '', name: '' };
  return {
    fresh: () => {
      db = cluster.createDatabase();
    },
    store: async (options = {}) => {
      const s = await PostgresAuditStore.open({ url: db.url, clock, ...options });
      scratch.open.push(s);
      return s;
    },
    tamper: (sql) => {
      cluster.psql(`BEGIN; ALTER TABLE audit_records DISABLE TRIGGER USER; ${sql}; COMMIT;`, db.name);
    },
    raw: (sql) => {
      cluster.psql(sql, db.name);
    },
  };
}

auditStoreContract('postgres', postgresBackend);

describe('the PostgreSQL audit store', () => {
  let db: { url: string; name: string };
  beforeEach(() => {
    db = cluster.createDatabase();
  });
  const store = async (options: { readOnly?: boolean } = {}) => {
    const s = await PostgresAuditStore.open({ url: db.url, clock, ...options });
    scratch.open.push(s);
    return s;
  };

  it('answers readers while an appender holds the append lock, and orders that append after it', async () => {
    const writer = await store();
    await sixRecords(writer);
    // Another process inside its append: it holds the lock until it commits.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT pg_advisory_xact_lock(${0x61756474})`);
      let appended = false;
      const waiting = writer.append(ev('wf', 7)).then((r) => {
        appended = true;
        return r;
      });
      const reader = await store({ readOnly: true });
      expect(await reader.verify()).toMatchObject({ ok: true, count: 6 });
      expect(await reader.list()).toHaveLength(1);
      expect(await reader.timeline('cycle-north-1')).toHaveLength(6);
      expect(appended).toBe(false);
      await holder.query('COMMIT');
      expect(await waiting).toMatchObject({ seq: 7 });
    } finally {
      await holder.end();
    }
  });

  it('opens read-only connections on which the database itself refuses writes', async () => {
    await sixRecords(await store());
    const reader = await store({ readOnly: true });
    const pool = (reader as unknown as { pool: pg.Pool }).pool;
    await expect(pool.query('DELETE FROM audit_head')).rejects.toThrow('read-only transaction');
  });

  it('refuses a read-only open of a database no writer has migrated yet, naming the version', async () => {
    await expect(store({ readOnly: true })).rejects.toThrow(PostgresSchemaError);
    await expect(store({ readOnly: true })).rejects.toThrow(`schema version 0, older than ${PG_SCHEMA_VERSION}`);
  });

  it('refuses a database written by a newer schema', async () => {
    await store();
    cluster.psql(`UPDATE audit_schema SET version = ${PG_SCHEMA_VERSION + 1}`, db.name);
    await expect(store()).rejects.toThrow(`schema version ${PG_SCHEMA_VERSION + 1}; this airgap knows up to`);
  });

  it('migrates once when several writers open a new database at the same time', async () => {
    const stores = await Promise.all([store(), store(), store()]);
    expect(cluster.psql('SELECT version FROM audit_schema', db.name).trim()).toBe(String(PG_SCHEMA_VERSION));
    await stores[0]!.append(ev('wf', 1));
    expect(await stores[2]!.verify()).toMatchObject({ ok: true, count: 1 });
  });

  it('keeps appending after PostgreSQL restarts, each record once', async () => {
    const s = await store();
    await sixRecords(s);
    cluster.stop();
    try {
      // An activity's append while the database is down fails clearly; Temporal retries it.
      await expect(s.append(ev('cycle-north-1', 7))).rejects.toThrow(AuditStoreConnectError);
    } finally {
      cluster.start();
    }
    const retried = await s.append(ev('cycle-north-1', 7));
    expect(await s.append(ev('cycle-north-1', 7))).toEqual(retried);
    expect(retried.seq).toBe(7);
    expect(await s.verify()).toMatchObject({ ok: true, count: 7 });
  });

  describe('opened from the configuration', () => {
    const config = (audit: Record<string, unknown>) =>
      parseConfig(
        {
          dataDir: scratch.dir(),
          audit,
          sites: [
            {
              id: 'north',
              dmz: {
                manager: { url: 'https://dmz.example:4119/api', apiKeyEnv: 'DMZ_KEY' },
                relay: { name: 'dmz-relay', computerId: 1 },
              },
              airgapped: {
                manager: { url: 'https://ag.example:4119/api', apiKeyEnv: 'AG_KEY' },
                relays: [{ name: 'ag-relay', computerId: 2 }],
              },
              people: { operators: ['ops@north.example'] },
            },
          ],
        },
        'airgap.yaml',
      );

    it('uses PostgreSQL when audit.store is postgres, with the URL from the named variable', async () => {
      const c = config({ store: 'postgres', postgres: { urlEnv: 'AUDIT_URL' } });
      const s = await openConfiguredAuditStore(c, {}, { AUDIT_URL: db.url });
      scratch.open.push(s);
      expect(s).toBeInstanceOf(PostgresAuditStore);
      await s.append(ev('wf', 1));
      expect(cluster.psql('SELECT count(*) FROM audit_records', db.name).trim()).toBe('1');
      expect(fs.existsSync(path.join(scratch.dir(), 'audit.sqlite'))).toBe(false);
    });

    it('says which variable is missing when the URL is not set', async () => {
      const c = config({ store: 'postgres' });
      const opening = openConfiguredAuditStore(c, {}, {});
      await expect(opening).rejects.toThrow(AuditStoreSettingError);
      await expect(openConfiguredAuditStore(c, {}, {})).rejects.toThrow(
        'the environment variable AIRGAP_AUDIT_DATABASE_URL (audit.postgres.urlEnv) is not set',
      );
    });

    it('names the setting, not the password, when PostgreSQL is down at start', async () => {
      const port = await freePort();
      const c = config({ store: 'postgres', postgres: { urlEnv: 'AUDIT_URL', connectTimeout: '5s' } });
      const url = `postgres://airgap_audit:secret-pw@127.0.0.1:${port}/airgap_audit`;
      const err = await openConfiguredAuditStore(c, {}, { AUDIT_URL: url }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuditStoreConnectError);
      expect((err as Error).message).toContain(
        `audit.postgres.urlEnv AUDIT_URL = postgres://airgap_audit:***@127.0.0.1:${port}/airgap_audit`,
      );
      expect((err as Error).message).toContain('ECONNREFUSED');
      expect((err as Error).message).not.toContain('secret-pw');
    });

    it('refuses an audit block with a wrong store, variable name or TLS field, naming the path', () => {
      expect(() => config({ store: 'mysql' })).toThrow('audit.store: expected "sqlite" or "postgres"');
      expect(() => config({ store: 'postgres', postgres: { urlEnv: 'postgres://x' } })).toThrow(
        'audit.postgres.urlEnv: expected the NAME of an environment variable',
      );
      expect(() => config({ store: 'postgres', postgres: { ssl: { rejectUnauthorised: false } } })).toThrow(
        'audit.postgres.ssl: unknown field(s) rejectUnauthorised',
      );
      const defaults: AuditConfig = config({}).audit;
      expect(defaults).toEqual({
        store: 'sqlite',
        postgres: { urlEnv: 'AIRGAP_AUDIT_DATABASE_URL', connectTimeout: 10_000, poolSize: 4 },
      });
    });
  });
});

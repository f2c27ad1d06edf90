/**
 * `airgap audit …` with `audit.store: postgres`: migrate a SQLite chain in (verified, refused into
 * a non-empty database), then list / show / verify read it from PostgreSQL, and a database down
 * at start is named by its setting, not mistaken for Temporal. Real PostgreSQL, CLI in-process.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AuditEvent } from '../../src/domain/audit';
import { auditStoreFile, SqliteAuditStore } from '../../src/adapters/audit-store';
import { PostgresAuditStore } from '../../src/adapters/audit-store-postgres';
import { main } from '../../src/cli/main';
import { freePort, startPostgres, type PostgresCluster } from '../helpers/postgres';

const URL_ENV = 'AIRGAP_TEST_AUDIT_URL';
const BIN = path.resolve(__dirname, '..', '..', 'bin', 'airgap.js');
let cluster: PostgresCluster;
let dir: string;
let configFile: string;
let sqliteFile: string;
let db: { url: string; name: string };

beforeAll(async () => {
  cluster = await startPostgres();
}, 60_000);

afterAll(() => cluster?.remove());

function writeConfig(store: 'sqlite' | 'postgres'): void {
  fs.writeFileSync(
    configFile,
    `dataDir: ./data
audit:
  store: ${store}
  postgres: { urlEnv: ${URL_ENV}, connectTimeout: 5s }
sites:
  - id: north
    dmz:
      manager: { url: 'https://dmz.example:4119/api', apiKeyEnv: DMZ_KEY }
      relay: { name: dmz-relay, computerId: 1 }
    airgapped:
      manager: { url: 'https://ag.example:4119/api', apiKeyEnv: AG_KEY }
      relays: [{ name: ag-relay, computerId: 2 }]
    people: { operators: [ops@north.example] }
`,
  );
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-pg-cli-'));
  configFile = path.join(dir, 'airgap.yaml');
  sqliteFile = auditStoreFile(path.join(dir, 'data'));
  db = cluster.createDatabase();
  process.env[URL_ENV] = db.url;
  writeConfig('sqlite');
});

afterEach(() => {
  delete process.env[URL_ENV];
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function airgap(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  try {
    const code = await main(['node', 'airgap', '--config', configFile, ...args]);
    return { code, stdout, stderr };
  } finally {
    jest.restoreAllMocks();
  }
}

async function sqliteHistory(runs: number): Promise<void> {
  const store = new SqliteAuditStore(sqliteFile);
  try {
    for (let n = 0; n < runs; n++) {
      const base: Omit<AuditEvent, 'id' | 'type' | 'at'> = {
        workflowId: `cycle-north-${n}`,
        runId: 'r1',
        site: 'north',
        kind: 'cycle',
      };
      const day = `2025-05-${String(1 + (n % 28)).padStart(2, '0')}`;
      await store.append({ ...base, id: `${n}/1`, type: 'cycle.started', at: `${day}T06:00:00Z` });
      await store.append({
        ...base,
        id: `${n}/2`,
        type: 'import.completed',
        at: `${day}T07:00:00Z`,
        actor: { who: 'ann', channel: 'link', address: '10.0.0.7' },
        data: { sha256: `${n}`.padStart(64, '0'), note: 'a\nb "c"' },
      });
      await store.append({
        ...base,
        id: `${n}/3`,
        type: 'cycle.ended',
        at: `${day}T08:00:00Z`,
        outcome: n % 3 === 0 ? 'failed' : 'completed',
      });
    }
  } finally {
    await store.close();
  }
}

describe('airgap audit migrate --from sqlite:<file> --to postgres', () => {
  it('copies the whole chain, hashes and summaries alike, and verifies the copy', async () => {
    await sqliteHistory(400); // 1200 records: more than one page and one insert batch
    const source = new SqliteAuditStore(sqliteFile, { readOnly: true });
    const sourceHead = (await source.head())!;
    const sourceRuns = await source.list();
    const sourceRecords = [];
    for await (const r of source.export()) sourceRecords.push(r);
    await source.close();

    const migrated = await airgap('audit', 'migrate', '--from', `sqlite:${sqliteFile}`, '--to', 'postgres');
    expect(migrated.stderr).toBe('');
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain(`copied 1200 audit records from ${sqliteFile} to PostgreSQL`);
    expect(migrated.stdout).toContain(`head ${sourceHead.seq}:${sourceHead.hash}`);
    expect(migrated.stdout).not.toContain('audit-test-password');

    const target = await PostgresAuditStore.open({ url: db.url, readOnly: true });
    try {
      const copied = [];
      for await (const r of target.export()) copied.push(r);
      expect(copied).toEqual(sourceRecords);
      expect(await target.list()).toEqual(sourceRuns);
      expect(await target.head()).toEqual(sourceHead);
      expect(await target.lastSuccessfulImport('north')).toMatchObject({ workflowId: 'cycle-north-55' });
      expect(await target.verify({ expectHead: sourceHead })).toMatchObject({ ok: true, count: 1200 });
    } finally {
      await target.close();
    }

    // The CLI now reads PostgreSQL: list, show and verify answer from the copy.
    writeConfig('postgres');
    fs.rmSync(sqliteFile);
    const list = await airgap('--json', 'audit', 'list', '--site', 'north', '--outcome', 'failed');
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { runs: unknown[] }).runs).toHaveLength(134);
    const show = await airgap('audit', 'show', 'cycle-north-5');
    expect(show.stdout).toContain('ann (link 10.0.0.7)');
    const verify = await airgap('audit', 'verify', '--expect-head', `${sourceHead.seq}:${sourceHead.hash}`);
    expect(verify.stdout).toContain(`audit chain ok: 1200 records, head ${sourceHead.seq}:${sourceHead.hash}`);
  });

  it('refuses to write into a database that already holds records, and writes nothing', async () => {
    await sqliteHistory(3);
    const target = await PostgresAuditStore.open({ url: db.url });
    await target.append({
      id: 'x',
      workflowId: 'cycle-other',
      site: 'north',
      kind: 'cycle',
      type: 'cycle.started',
      at: '2025-06-01T06:00:00Z',
    });
    const refused = await airgap('audit', 'migrate', '--from', `sqlite:${sqliteFile}`, '--to', 'postgres');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already holds records: migrate copies a whole chain into an empty database only');
    expect(await target.verify()).toMatchObject({ ok: true, count: 1 });
    await target.close();
  });

  it('refuses a broken source, naming its first bad record, and copies nothing', async () => {
    await sqliteHistory(3);
    const file = new Database(sqliteFile);
    file.exec('DROP TRIGGER audit_records_no_update');
    file.exec(`UPDATE audit_records SET outcome = 'completed' WHERE seq = 3`);
    file.close();
    const refused = await airgap('audit', 'migrate', '--from', `sqlite:${sqliteFile}`, '--to', 'postgres');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is broken at record 3 (changed)');
    expect(cluster.psql(`SELECT to_regclass('audit_records') IS NULL`, db.name).trim()).toBe('t');
  });

  it('names the flag of a wrong source or target', async () => {
    const a = await airgap('audit', 'migrate', '--from', sqliteFile, '--to', 'postgres');
    expect(a.stderr).toContain(`--from: "${sqliteFile}" is not sqlite:<file>`);
    const b = await airgap('audit', 'migrate', '--from', `sqlite:${sqliteFile}`, '--to', 'oracle');
    expect(b.stderr).toContain('--to: "oracle" is not postgres');
    const c = await airgap('audit', 'migrate', '--from', `sqlite:${sqliteFile}`, '--to', 'postgres');
    expect(c.stderr).toContain(`--from: no audit store at ${sqliteFile}`);
  });
});

describe('the CLI with audit.store postgres', () => {
  it('names the setting when PostgreSQL is down, not Temporal, and never prints the password', async () => {
    writeConfig('postgres');
    process.env[URL_ENV] = `postgres://airgap_audit:pw-not-shown@127.0.0.1:${await freePort()}/airgap_audit`;
    const result = await airgap('audit', 'verify');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the audit store on PostgreSQL (audit.postgres.urlEnv ${URL_ENV} = postgres://`);
    expect(result.stderr).toContain('cannot be reached');
    expect(result.stderr).not.toContain('Temporal');
    expect(result.stderr).not.toContain('pw-not-shown');
  });

  it('says which environment variable to set when the URL is missing', async () => {
    writeConfig('postgres');
    delete process.env[URL_ENV];
    const result = await airgap('audit', 'list');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the environment variable ${URL_ENV} (audit.postgres.urlEnv) is not set`);
  });

  // As processes (bin/airgap.js runs dist/: build first). The Temporal address is one nobody
  // listens on either: the process must stop at the audit, before it tries Temporal.
  it.each([['worker', '--control'], ['web']])(
    'airgap %s exits at once naming the audit setting when PostgreSQL is down, nothing started',
    async (...command) => {
      writeConfig('postgres');
      const started = Date.now();
      const r = spawnSync(process.execPath, [BIN, '--config', configFile, ...command], {
        env: {
          ...process.env,
          [URL_ENV]: `postgres://airgap_audit:pw-not-shown@127.0.0.1:${await freePort()}/airgap_audit`,
          TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
        },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`the audit store on PostgreSQL (audit.postgres.urlEnv ${URL_ENV} = postgres://`);
      expect(r.stderr).not.toContain('Temporal is not reachable');
      expect(r.stderr).not.toContain('pw-not-shown');
      expect(r.stdout + r.stderr).not.toMatch(/worker running|web app on/);
      expect(Date.now() - started).toBeLessThan(20_000);
    },
  );
});

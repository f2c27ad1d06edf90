/**
 * The audit store on PostgreSQL, for a site whose worker, web app and CLI run on different
 * machines. The same records, hashes and guarantees as the SQLite store (src/adapters/audit-store.ts):
 *
 * - One chain, whoever appends: each append runs in one transaction that first takes
 *   `pg_advisory_xact_lock(APPEND_LOCK)`, so reading the head, checking the id and writing the next
 *   record (with its run summary, protection row and head anchor) is ordered by the database,
 *   across every process and machine. The lock ends with the transaction, also when a client dies.
 * - Readers never take that lock: list/show/export are plain SELECTs, verify one REPEATABLE READ
 *   READ ONLY transaction (one snapshot for the walk, the anchor and the summaries). A store opened
 *   `readOnly` sets default_transaction_read_only on its connections, neither migrates nor writes.
 * - The schema is versioned (`audit_schema.version`) and migrated by a writer under another
 *   advisory lock, one step per version, like the SQLite store's user_version.
 *
 * Triggers refuse UPDATE, DELETE and TRUNCATE on the records: a guard rail against mistakes, not a
 * defence (the table's owner can drop them). The hash chain and the head anchor show tampering; a
 * head kept elsewhere (`--expect-head`) shows a consistent rewrite.
 */
import fs from 'node:fs';
import pg from 'pg';
import {
  applyToRun,
  eventTimeMs,
  isSuccessfulImport,
  OPEN_OUTCOME,
  validateAuditEvent,
  type AuditEvent,
  type AuditRecord,
  type RunFilter,
  type RunSummary,
} from '../domain/audit';
import {
  checkAnchor,
  checkExpectedHead,
  ChainWalker,
  GENESIS_HASH,
  recordHash,
  recordHashOfStored,
  type AuditHead,
  type ChainBreak,
  type VerifyResult,
} from '../domain/audit-chain';
import {
  isLaterImport,
  recordOf,
  rowOf,
  runOf,
  runRowOf,
  summaryBreak,
  type AuditStore,
  type VerifyOptions,
} from './audit-store';
import type { RecordRow, RunRow } from './audit-schema';

/** Keys of the advisory locks (any two fixed bigints no other code of the database uses). */
const APPEND_LOCK = 0x61756474; // 'audt'
const MIGRATE_LOCK = 0x6175646d; // 'audm'

/**
 * Versioned migrations: migration n brings the schema from version n-1 to n. Append only; a
 * released step is never edited. Text columns that order results use the "C" collation so the
 * order is the SQLite store's (bytewise) whatever the database's locale.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
CREATE TABLE audit_records (
  seq BIGINT PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  workflow_id TEXT COLLATE "C" NOT NULL,
  run_id TEXT,
  site TEXT NOT NULL,
  kind TEXT NOT NULL,
  type TEXT NOT NULL,
  at TEXT NOT NULL,
  at_ms BIGINT NOT NULL,
  actor TEXT,
  outcome TEXT,
  data TEXT,
  recorded_at TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_records_workflow ON audit_records (workflow_id, seq);
CREATE INDEX audit_records_hash ON audit_records (hash);

CREATE TABLE audit_runs (
  workflow_id TEXT COLLATE "C" PRIMARY KEY,
  run_id TEXT,
  site TEXT NOT NULL,
  kind TEXT NOT NULL,
  started TEXT NOT NULL,
  started_ms BIGINT NOT NULL,
  ended TEXT,
  outcome TEXT,
  sha256 TEXT,
  last_seq BIGINT NOT NULL,
  last_type TEXT NOT NULL,
  last_at TEXT NOT NULL,
  events BIGINT NOT NULL
);
CREATE INDEX audit_runs_started ON audit_runs (started_ms DESC, workflow_id);
CREATE INDEX audit_runs_site ON audit_runs (site, started_ms DESC, workflow_id);
CREATE INDEX audit_runs_open ON audit_runs (started_ms, workflow_id) WHERE ended IS NULL;

CREATE TABLE audit_protection (
  site TEXT PRIMARY KEY,
  seq BIGINT NOT NULL,
  at_ms BIGINT NOT NULL
);

CREATE TABLE audit_head (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);

CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit records are append-only';
END $$;
CREATE TRIGGER audit_records_no_update BEFORE UPDATE OR DELETE ON audit_records
  FOR EACH ROW EXECUTE FUNCTION audit_records_append_only();
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only();
`,
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

const EXPORT_PAGE = 1000;
const VERIFY_PAGE = 5000;

export interface PostgresAuditStoreOptions {
  /** postgres://role:password@host:port/database */
  url: string;
  /** Named in every error instead of the URL (which may hold a password). */
  describe?: string;
  ssl?: pg.ClientConfig['ssl'];
  readOnly?: boolean;
  clock?: () => Date;
  connectTimeoutMs?: number;
  poolSize?: number;
}

/** Thrown when the database cannot be reached or refuses the login, naming the setting to check. */
export class AuditStoreConnectError extends Error {
  constructor(
    readonly where: string,
    options?: { cause?: unknown },
  ) {
    const reason = (options?.cause as Error | undefined)?.message ?? 'no answer';
    super(`the audit store on PostgreSQL (${where}) cannot be reached: ${reason}`, options);
    this.name = 'AuditStoreConnectError';
  }
}

/** Thrown when the database's audit schema is not the one this code writes. */
export class PostgresSchemaError extends Error {
  constructor(
    readonly where: string,
    readonly version: number,
  ) {
    super(
      version > PG_SCHEMA_VERSION
        ? `the audit store on PostgreSQL (${where}) has schema version ${version}; this airgap knows up to ${PG_SCHEMA_VERSION}: upgrade airgap`
        : `the audit store on PostgreSQL (${where}) has schema version ${version}, older than ${PG_SCHEMA_VERSION}: start the worker once to migrate it`,
    );
    this.name = 'PostgresSchemaError';
  }
}

// BIGINT arrives as a string by default; every bigint here (seq, ms since 1970, counts) fits a double.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

export class PostgresAuditStore implements AuditStore {
  private readonly clock: () => Date;

  private constructor(
    private readonly pool: pg.Pool,
    readonly where: string,
    private readonly readOnly: boolean,
    clock: (() => Date) | undefined,
  ) {
    this.clock = clock ?? (() => new Date());
  }

  /** Connects (a clear AuditStoreConnectError when it cannot), then migrates or checks the schema. */
  static async open(options: PostgresAuditStoreOptions): Promise<PostgresAuditStore> {
    const where = options.describe ?? redactUrl(options.url);
    const readOnly = options.readOnly === true;
    const pool = new pg.Pool({
      connectionString: options.url,
      ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
      max: options.poolSize ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      application_name: readOnly ? 'airgap-audit-reader' : 'airgap-audit',
      types,
      ...(readOnly ? { options: '-c default_transaction_read_only=on' } : {}),
    });
    // An idle connection the server closed (a restart) is dropped from the pool; the next query
    // opens a new one. Without a listener the error would end the process.
    pool.on('error', () => undefined);
    const store = new PostgresAuditStore(pool, where, readOnly, options.clock);
    try {
      const client = await pool.connect().catch((err: unknown) => {
        throw new AuditStoreConnectError(where, { cause: err });
      });
      client.release();
      if (readOnly) await store.checkVersion();
      else await store.migrate();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return store;
  }

  private async version(q: pg.ClientBase | pg.Pool): Promise<number> {
    const exists = await q.query<{ t: string | null }>(`SELECT to_regclass('audit_schema')::text AS t`);
    if (!exists.rows[0]?.t) return 0;
    const row = await q.query<{ version: number }>('SELECT version FROM audit_schema');
    return row.rows[0]?.version ?? 0;
  }

  private async checkVersion(): Promise<void> {
    const version = await this.version(this.pool);
    if (version !== PG_SCHEMA_VERSION) throw new PostgresSchemaError(this.where, version);
  }

  private async migrate(): Promise<void> {
    if ((await this.version(this.pool)) === PG_SCHEMA_VERSION) return;
    await this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
      await c.query('CREATE TABLE IF NOT EXISTS audit_schema (version INTEGER NOT NULL)');
      const version = await this.version(c);
      if (version > PG_SCHEMA_VERSION) throw new PostgresSchemaError(this.where, version);
      for (let v = version; v < PG_SCHEMA_VERSION; v++) await c.query(PG_MIGRATIONS[v]!);
      await c.query('DELETE FROM audit_schema');
      await c.query('INSERT INTO audit_schema (version) VALUES ($1)', [PG_SCHEMA_VERSION]);
    });
  }

  private async transaction<T>(work: (c: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    const client = await this.pool.connect().catch((err: unknown) => {
      throw new AuditStoreConnectError(this.where, { cause: err });
    });
    let broken = false;
    // A checked-out client has no listener: a server gone mid-transaction would end the process.
    // The query in flight fails as well, which is what the caller sees.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      if (isConnectionError(err)) throw new AuditStoreConnectError(this.where, { cause: err });
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /**
   * Four round trips: BEGIN with the lock, one read of everything the append needs, one statement
   * writing the record, its run summary, the protection row and the head anchor, COMMIT. The lock
   * is held for all of them, so the fewer the faster every appender goes.
   */
  async append(event: AuditEvent): Promise<AuditRecord> {
    if (this.readOnly) throw new Error(`the audit store on PostgreSQL (${this.where}) was opened read-only`);
    const valid = validateAuditEvent(event);
    // The chain's order is decided here: one appender at a time, across every process.
    const begin = `BEGIN; SELECT pg_advisory_xact_lock(${APPEND_LOCK})`;
    return this.transaction(async (c) => {
      const { rows } = await c.query<{
        existing: RecordRow | null;
        head: AuditHead | null;
        run: RunRow | null;
        protection_ms: number | null;
      }>(
        `SELECT (SELECT row_to_json(r) FROM audit_records r WHERE r.id = $1) AS existing,
           (SELECT row_to_json(h) FROM (SELECT seq, hash FROM audit_head WHERE one = 1) h) AS head,
           (SELECT row_to_json(u) FROM audit_runs u WHERE u.workflow_id = $2) AS run,
           (SELECT at_ms FROM audit_protection WHERE site = $3) AS protection_ms`,
        [valid.id, valid.workflowId, valid.site],
      );
      const state = rows[0]!;
      if (state.existing) return recordOf(state.existing);
      const content: Omit<AuditRecord, 'hash'> = {
        ...valid,
        seq: (state.head?.seq ?? 0) + 1,
        prevHash: state.head?.hash ?? GENESIS_HASH,
        recordedAt: this.clock().toISOString(),
      };
      const record: AuditRecord = { ...content, hash: recordHash(content) };
      const atMs = eventTimeMs(record.at);
      const protect = isSuccessfulImport(record) && isLaterImport(state.protection_ms ?? undefined, atMs);
      await writeAppend(c, record, runRowOf(applyToRun(state.run ? runOf(state.run) : undefined, record)), protect);
      return record;
    }, begin);
  }

  /**
   * Writes records that already have their seq, hashes and recordedAt (a whole chain copied from
   * another store), rebuilding the summaries, in one transaction. Refuses a store that holds
   * anything: copying into a chain would fork it.
   */
  async importChain(records: AsyncIterable<AuditRecord>): Promise<number> {
    if (this.readOnly) throw new Error(`the audit store on PostgreSQL (${this.where}) was opened read-only`);
    return this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
      const held = (
        await c.query<{ n: number }>(
          'SELECT (SELECT count(*) FROM audit_records) + (SELECT count(*) FROM audit_head) AS n',
        )
      ).rows[0]!.n;
      if (held > 0) throw new AuditStoreNotEmptyError(this.where, held);
      const runs = new Map<string, RunSummary>();
      const imports = new Map<string, { seq: number; atMs: number }>();
      let batch: AuditRecord[] = [];
      let last: AuditRecord | undefined;
      let count = 0;
      for await (const record of records) {
        batch.push(record);
        runs.set(record.workflowId, applyToRun(runs.get(record.workflowId), record));
        const atMs = eventTimeMs(record.at);
        if (isSuccessfulImport(record) && isLaterImport(imports.get(record.site)?.atMs, atMs)) {
          imports.set(record.site, { seq: record.seq, atMs });
        }
        last = record;
        count += 1;
        if (batch.length >= 500) {
          await insertRecords(c, batch);
          batch = [];
        }
      }
      if (batch.length > 0) await insertRecords(c, batch);
      const runRows = [...runs.values()].map(runRowOf);
      for (let i = 0; i < runRows.length; i += 500) await putRuns(c, runRows.slice(i, i + 500));
      for (const [site, p] of imports) await putProtection(c, site, p.seq, p.atMs);
      if (last) await putHead(c, last);
      return count;
    });
  }

  async list(filter: RunFilter = {}): Promise<RunSummary[]> {
    const where: string[] = [];
    const params: (string | number | null)[] = [];
    const and = (condition: string, value?: string | number): void => {
      if (value === undefined) {
        where.push(condition);
        return;
      }
      params.push(value);
      where.push(condition.replace('?', `$${params.length}`));
    };
    if (filter.site !== undefined) and('site = ?', filter.site);
    if (filter.kind !== undefined) and('kind = ?', filter.kind);
    if (filter.outcome === OPEN_OUTCOME) and('ended IS NULL');
    else if (filter.outcome !== undefined) and('outcome = ?', filter.outcome);
    if (filter.since) and('started_ms >= ?', filter.since.getTime());
    if (filter.until) and('started_ms < ?', filter.until.getTime());
    params.push(filter.limit ?? null);
    const sql = `SELECT * FROM audit_runs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY started_ms DESC, workflow_id LIMIT $${params.length}`;
    return (await this.query<RunRow>(sql, params)).map(runOf);
  }

  async run(workflowId: string): Promise<RunSummary | undefined> {
    const [row] = await this.query<RunRow>('SELECT * FROM audit_runs WHERE workflow_id = $1', [workflowId]);
    return row && runOf(row);
  }

  async timeline(workflowId: string): Promise<AuditRecord[]> {
    const rows = await this.query<RecordRow>('SELECT * FROM audit_records WHERE workflow_id = $1 ORDER BY seq', [
      workflowId,
    ]);
    return rows.map(recordOf);
  }

  async *export(): AsyncGenerator<AuditRecord> {
    const [max] = await this.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM audit_records');
    const end = max?.seq ?? 0;
    for (let after = 0; after < end;) {
      const rows = await this.query<RecordRow>(
        'SELECT * FROM audit_records WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3',
        [after, end, EXPORT_PAGE],
      );
      if (rows.length === 0) return;
      for (const row of rows) yield recordOf(row);
      after = rows[rows.length - 1]!.seq;
    }
  }

  async head(): Promise<AuditHead | undefined> {
    const [row] = await this.query<AuditHead>('SELECT seq, hash FROM audit_head WHERE one = 1');
    return row;
  }

  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    return this.transaction((c) => this.verifyIn(c, options), 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  private async verifyIn(c: pg.PoolClient, options: VerifyOptions): Promise<VerifyResult> {
    const seqOfHash = async (hash: string): Promise<number | undefined> =>
      (await c.query<{ seq: number }>('SELECT seq FROM audit_records WHERE hash = $1 ORDER BY seq LIMIT 1', [hash]))
        .rows[0]?.seq;
    // The walker asks for a predecessor only when a link is broken: looked up then, not per record.
    const known = new Map<string, number | undefined>();
    const walker = new ChainWalker((hash) => known.get(hash));
    const runs = new Map<string, RunSummary>();
    const imports = new Map<string, { seq: number; atMs: number }>();
    const fail = (firstBad: ChainBreak): VerifyResult => ({ ok: false, count: walker.count, firstBad });
    // Paged by seq from a single snapshot (REPEATABLE READ): the pages are one consistent walk.
    for (let after: number | null = null; ;) {
      const { rows }: pg.QueryResult<RecordRow> = await c.query<RecordRow>(
        `SELECT * FROM audit_records ${after === null ? '' : 'WHERE seq > $2'} ORDER BY seq LIMIT $1`,
        after === null ? [VERIFY_PAGE] : [VERIFY_PAGE, after],
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        let record: AuditRecord;
        try {
          record = recordOf(row);
        } catch {
          return fail({ seq: row.seq, reason: 'changed', detail: `record ${row.seq} holds JSON that does not parse` });
        }
        if (record.prevHash !== (walker.head?.hash ?? GENESIS_HASH) && !known.has(record.prevHash)) {
          known.set(record.prevHash, await seqOfHash(record.prevHash));
        }
        const bad = walker.push(record, recordHashOfStored(record, row.actor, row.data));
        if (bad) return fail(bad);
        if (row.at_ms !== eventTimeMs(row.at)) {
          return fail({ seq: row.seq, reason: 'index-mismatch', detail: `record ${row.seq}'s time index was altered` });
        }
        runs.set(record.workflowId, applyToRun(runs.get(record.workflowId), record));
        if (isSuccessfulImport(record) && isLaterImport(imports.get(record.site)?.atMs, row.at_ms)) {
          imports.set(record.site, { seq: record.seq, atMs: row.at_ms });
        }
      }
      after = rows[rows.length - 1]!.seq;
    }
    const anchor = (await c.query<AuditHead>('SELECT seq, hash FROM audit_head WHERE one = 1')).rows[0];
    let bad = checkAnchor(walker.head, anchor);
    if (!bad && options.expectHead) {
      const expected = options.expectHead;
      const seq = expected.seq ?? (await seqOfHash(expected.hash));
      const hashAt =
        seq === undefined
          ? undefined
          : (await c.query<{ hash: string }>('SELECT hash FROM audit_records WHERE seq = $1', [seq])).rows[0]?.hash;
      bad = checkExpectedHead(expected, walker.head, {
        seqOfHash: (hash) => (hash === expected.hash ? seq : undefined),
        hashOfSeq: (s) => (s === seq ? hashAt : undefined),
      });
    }
    if (!bad) {
      const runRows = (await c.query<RunRow>('SELECT * FROM audit_runs')).rows;
      const protection = (await c.query<{ site: string; seq: number; at_ms: number }>('SELECT * FROM audit_protection'))
        .rows;
      bad = summaryBreak(runs, imports, runRows, protection);
    }
    if (bad) return fail(bad);
    return walker.head ? { ok: true, count: walker.count, head: walker.head } : { ok: true, count: 0 };
  }

  async lastSuccessfulImport(site: string): Promise<AuditRecord | undefined> {
    const [row] = await this.query<RecordRow>(
      'SELECT r.* FROM audit_protection p JOIN audit_records r ON r.seq = p.seq WHERE p.site = $1',
      [site],
    );
    return row && recordOf(row);
  }

  async protectionAge(site: string, now: Date): Promise<number | undefined> {
    const last = await this.lastSuccessfulImport(site);
    return last && Math.max(0, now.getTime() - eventTimeMs(last.at));
  }

  async openRunsWithoutEnd(): Promise<string[]> {
    const rows = await this.query<{ workflow_id: string }>(
      'SELECT workflow_id FROM audit_runs WHERE ended IS NULL ORDER BY started_ms, workflow_id',
    );
    return rows.map((r) => r.workflow_id);
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (err) {
      if (isConnectionError(err)) throw new AuditStoreConnectError(this.where, { cause: err });
      throw err;
    }
  }
}

/** Thrown by importChain (audit migrate) when the target already holds records. */
export class AuditStoreNotEmptyError extends Error {
  constructor(
    readonly where: string,
    readonly rows: number,
  ) {
    super(
      `the audit store on PostgreSQL (${where}) already holds records: migrate copies a whole chain into an empty database only; nothing was written`,
    );
    this.name = 'AuditStoreNotEmptyError';
  }
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    /^Connection terminated/.test((err as Error | null)?.message ?? '') ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ENOTFOUND' ||
    code === 'ETIMEDOUT' ||
    code === '57P01' || // admin_shutdown
    code === '57P03' // cannot_connect_now
  );
}

const RECORD_COLUMNS = [
  'seq',
  'id',
  'workflow_id',
  'run_id',
  'site',
  'kind',
  'type',
  'at',
  'at_ms',
  'actor',
  'outcome',
  'data',
  'recorded_at',
  'prev_hash',
  'hash',
] as const satisfies readonly (keyof RecordRow)[];

const RUN_COLUMNS = [
  'workflow_id',
  'run_id',
  'site',
  'kind',
  'started',
  'started_ms',
  'ended',
  'outcome',
  'sha256',
  'last_seq',
  'last_type',
  'last_at',
  'events',
] as const satisfies readonly (keyof RunRow)[];

/** `($1,$2,…),($n+1,…)` for rows of `width` values. */
function placeholders(rows: number, width: number): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    out.push(`(${Array.from({ length: width }, (_, i) => `$${r * width + i + 1}`).join(',')})`);
  }
  return out.join(',');
}

async function insertRecords(c: pg.ClientBase, records: readonly AuditRecord[]): Promise<void> {
  const rows = records.map(rowOf);
  await c.query(
    `INSERT INTO audit_records (${RECORD_COLUMNS.join(',')}) VALUES ${placeholders(rows.length, RECORD_COLUMNS.length)}`,
    rows.flatMap((row) => RECORD_COLUMNS.map((k) => row[k])),
  );
}

async function putRuns(c: pg.ClientBase, rows: readonly RunRow[]): Promise<void> {
  const updates = RUN_COLUMNS.filter((k) => k !== 'workflow_id')
    .map((k) => `${k} = EXCLUDED.${k}`)
    .join(', ');
  await c.query(
    `INSERT INTO audit_runs (${RUN_COLUMNS.join(',')}) VALUES ${placeholders(rows.length, RUN_COLUMNS.length)}
     ON CONFLICT (workflow_id) DO UPDATE SET ${updates}`,
    rows.flatMap((row) => RUN_COLUMNS.map((k) => row[k])),
  );
}

async function putProtection(c: pg.ClientBase, site: string, seq: number, atMs: number): Promise<void> {
  await c.query(
    `INSERT INTO audit_protection (site, seq, at_ms) VALUES ($1, $2, $3)
     ON CONFLICT (site) DO UPDATE SET seq = EXCLUDED.seq, at_ms = EXCLUDED.at_ms`,
    [site, seq, atMs],
  );
}

async function putHead(c: pg.ClientBase, head: AuditHead): Promise<void> {
  await c.query(
    `INSERT INTO audit_head (one, seq, hash) VALUES (1, $1, $2)
     ON CONFLICT (one) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash`,
    [head.seq, head.hash],
  );
}

/** The record, its run summary, (when later) the protection row and the head anchor, in one statement. */
async function writeAppend(c: pg.ClientBase, record: AuditRecord, run: RunRow, protect: boolean): Promise<void> {
  const row = rowOf(record);
  const params: unknown[] = [];
  const slots = (values: unknown[]): string =>
    values
      .map((v) => {
        params.push(v);
        return `$${params.length}`;
      })
      .join(',');
  const recordValues = slots(RECORD_COLUMNS.map((k) => row[k]));
  const runValues = slots(RUN_COLUMNS.map((k) => run[k]));
  const runUpdates = RUN_COLUMNS.filter((k) => k !== 'workflow_id')
    .map((k) => `${k} = EXCLUDED.${k}`)
    .join(', ');
  const headValues = slots([record.seq, record.hash]);
  const protection = protect
    ? `, protection AS (INSERT INTO audit_protection (site, seq, at_ms) VALUES (${slots([record.site, record.seq, row.at_ms])})
         ON CONFLICT (site) DO UPDATE SET seq = EXCLUDED.seq, at_ms = EXCLUDED.at_ms)`
    : '';
  await c.query(
    `WITH rec AS (INSERT INTO audit_records (${RECORD_COLUMNS.join(',')}) VALUES (${recordValues})),
       run AS (INSERT INTO audit_runs (${RUN_COLUMNS.join(',')}) VALUES (${runValues})
         ON CONFLICT (workflow_id) DO UPDATE SET ${runUpdates}),
       head AS (INSERT INTO audit_head (one, seq, hash) VALUES (1, ${headValues})
         ON CONFLICT (one) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash)${protection}
     SELECT 1`,
    params,
  );
}

/** TLS options as `pg` takes them, from the configuration's audit.postgres.ssl. */
export function sslOptions(
  ssl: { caFile?: string | undefined; rejectUnauthorized: boolean } | undefined,
): pg.ClientConfig['ssl'] | undefined {
  if (!ssl) return undefined;
  if (!ssl.caFile) return { rejectUnauthorized: ssl.rejectUnauthorized };
  let ca: string;
  try {
    ca = fs.readFileSync(ssl.caFile, 'utf8');
  } catch (err) {
    throw new Error(`audit.postgres.ssl.caFile: cannot read ${ssl.caFile}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { ca, rejectUnauthorized: ssl.rejectUnauthorized };
}

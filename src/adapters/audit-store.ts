/**
 * The audit store: append-only, hash-chained records of every run, kept in our own file so they
 * outlive Temporal's retention. An interface, so a PostgreSQL store can follow; the SQLite one is
 * the embedded default at `<dataDir>/audit.sqlite`.
 *
 * Appends from several processes (worker, CLI, web) are serialised by SQLite itself: each runs in a
 * BEGIN IMMEDIATE transaction, so reading the head, checking the id and writing the next record
 * cannot interleave with another writer, and the busy timeout makes the others wait their turn.
 * Readers never need that lock: in WAL mode they read the last committed state while a writer
 * works. A store opened `readOnly` (the CLI's list, show, export, verify) neither migrates nor
 * writes; a writer migrates only when the schema is behind, so opening one takes no lock either.
 *
 * Limits, honestly: the chain shows changes, removals and reordering; the head anchor (a row
 * written in the same transaction) shows records cut from the end. Someone who can write this
 * file can still rewrite everything consistently, records, anchor and summaries alike. The real
 * anchor is a head copied somewhere they cannot reach (a ticket, a mail, the other network) and
 * checked with `airgap audit verify --expect-head <seq>:<hash>`.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  applyToRun,
  canonicalJson,
  eventTimeMs,
  isSuccessfulImport,
  OPEN_OUTCOME,
  refusedActionEvent,
  validateAuditEvent,
  type AuditEvent,
  type RefusedAction,
  type AuditKind,
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
import { SCHEMA, SCHEMA_VERSION, type RecordRow, type RunRow } from './audit-schema';

export interface VerifyOptions {
  /** A head kept elsewhere (`parseHead` of `<seq>:<hash>`); the chain must still contain it. */
  expectHead?: { seq?: number; hash: string };
}

export interface AuditStore {
  /** Idempotent by `event.id`: a second append of the same id returns the first record unchanged. */
  append(event: AuditEvent): Promise<AuditRecord>;
  /** Run summaries, newest start first. */
  list(filter?: RunFilter): Promise<RunSummary[]>;
  run(workflowId: string): Promise<RunSummary | undefined>;
  /** Every record of a workflow, in the order written. */
  timeline(workflowId: string): Promise<AuditRecord[]>;
  /** Every record in seq order, read in pages so memory stays flat over a large store. */
  export(): AsyncIterable<AuditRecord>;
  head(): Promise<AuditHead | undefined>;
  verify(options?: VerifyOptions): Promise<VerifyResult>;
  /** The latest `import.completed`, or cycle ended `completed`, of a site by event time. */
  lastSuccessfulImport(site: string): Promise<AuditRecord | undefined>;
  /** Milliseconds since the last successful import; undefined when none was ever recorded. */
  protectionAge(site: string, now: Date): Promise<number | undefined>;
  /** Workflow ids with records but no run-ending event, oldest first. */
  openRunsWithoutEnd(): Promise<string[]>;
  close(): Promise<void>;
}

export interface SqliteAuditStoreOptions {
  /**
   * `full` (default) syncs the WAL on every commit: an acknowledged audit record survives power
   * loss. `normal` may lose the last commits on power loss (never corrupts); for bulk loads.
   */
  durability?: 'full' | 'normal';
  /** Stamps `recordedAt`; tests pass a fixed clock. */
  clock?: () => Date;
  /** How long an append waits for another process's write to finish. */
  busyTimeoutMs?: number;
  /**
   * Open for reading only: no migration, no pragma that writes, no append. Reads go through the
   * WAL without the write lock, so they answer while another process holds it. The file must exist.
   */
  readOnly?: boolean;
  /**
   * Called once, with one line to show, when an append finds another process writing and has to
   * wait; without it the append waits silently (up to busyTimeoutMs) as before.
   */
  onWait?: (message: string) => void;
}

/** Thrown when an append waited its whole busy timeout for another process's write lock. */
export class AuditStoreBusyError extends Error {
  constructor(
    readonly file: string,
    readonly waitedMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      `the audit store ${file} stayed locked by another process for ${Math.round(waitedMs / 1000)} s; nothing was recorded: try again when that process has finished`,
      options,
    );
    this.name = 'AuditStoreBusyError';
  }
}

/** Thrown when a read-only open finds a store older than this code (a writer migrates it on open). */
export class AuditStoreNotMigratedError extends Error {
  constructor(
    readonly file: string,
    readonly version: number,
  ) {
    super(
      `${file} has audit schema version ${version}, older than ${SCHEMA_VERSION}: start the worker (npm start) once to migrate it`,
    );
    this.name = 'AuditStoreNotMigratedError';
  }
}

const isBusy = (err: unknown): boolean =>
  (err as { code?: unknown } | null)?.code === 'SQLITE_BUSY' ||
  (err as { code?: unknown } | null)?.code === 'SQLITE_BUSY_SNAPSHOT';

/** Runs `step` again every 20 ms while it fails with SQLITE_BUSY, for at most `timeoutMs`. */
function whileBusy(timeoutMs: number, step: () => void): void {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return step();
    } catch (err) {
      if (!isBusy(err) || Date.now() >= until) throw err;
      // A synchronous pause: the constructor cannot await, and the wait is for another process.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

/** Thrown when opening a store written by a newer schema than this code knows. */
export class AuditStoreVersionError extends Error {
  constructor(
    readonly file: string,
    readonly version: number,
  ) {
    super(`${file} has audit schema version ${version}; this airgap knows up to ${SCHEMA_VERSION}: upgrade airgap`);
    this.name = 'AuditStoreVersionError';
  }
}

const EXPORT_PAGE = 1000;

/** Where the embedded stack keeps the audit: one file per data dir, shared by worker and CLI. */
export function auditStoreFile(dataDir: string): string {
  return path.join(dataDir, 'audit.sqlite');
}

export class SqliteAuditStore implements AuditStore {
  private readonly db: Database.Database;
  private readonly clock: () => Date;
  private readonly s: Statements;
  private readonly appendTx: Database.Transaction<(event: AuditEvent) => AuditRecord>;
  private readonly readOnly: boolean;
  private readonly busyTimeoutMs: number;
  private readonly onWait?: (message: string) => void;

  constructor(
    readonly file: string,
    options: SqliteAuditStoreOptions = {},
  ) {
    this.readOnly = options.readOnly === true && file !== ':memory:';
    this.busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
    this.onWait = options.onWait;
    this.clock = options.clock ?? (() => new Date());
    if (this.readOnly) {
      this.db = new Database(file, { readonly: true, fileMustExist: true, timeout: this.busyTimeoutMs });
      const version = this.db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) throw new AuditStoreVersionError(this.file, version);
      if (version < SCHEMA_VERSION) throw new AuditStoreNotMigratedError(this.file, version);
    } else {
      if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
      this.db = new Database(file, { timeout: this.busyTimeoutMs });
      const db = this.db;
      // Both persist in the file: set (under a lock) only when a new or older store needs it. While
      // another process is switching a new file to WAL, SQLite can answer BUSY here without calling
      // the busy handler, so the opening pragmas wait for that switch themselves.
      whileBusy(this.busyTimeoutMs, () => {
        if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
      });
      this.db.pragma(`synchronous = ${options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
      if (this.db.pragma('user_version', { simple: true }) !== SCHEMA_VERSION) this.whenFree(() => this.migrate());
    }
    this.s = prepareStatements(this.db);
    this.appendTx = this.db.transaction((event: AuditEvent) => this.appendNow(event));
  }

  /**
   * Runs a write. When another process holds the write lock and `onWait` is set, says so once and
   * then waits the busy timeout; a lock held past it becomes AuditStoreBusyError (one line).
   */
  private whenFree<T>(write: () => T): T {
    try {
      if (!this.onWait) return write();
      this.db.pragma('busy_timeout = 0');
      try {
        return write();
      } catch (err) {
        if (!isBusy(err)) throw err;
        this.onWait(
          `the audit store ${this.file} is being written by another process; waiting up to ${Math.round(this.busyTimeoutMs / 1000)} s…`,
        );
      } finally {
        this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      }
      return write();
    } catch (err) {
      if (isBusy(err)) throw new AuditStoreBusyError(this.file, this.busyTimeoutMs, { cause: err });
      throw err;
    }
  }

  private migrate(): void {
    this.db
      .transaction(() => {
        const version = this.db.pragma('user_version', { simple: true }) as number;
        if (version > SCHEMA_VERSION) throw new AuditStoreVersionError(this.file, version);
        this.db.exec(SCHEMA);
        if (version < SCHEMA_VERSION) this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })
      .immediate();
  }

  async append(event: AuditEvent): Promise<AuditRecord> {
    if (this.readOnly) throw new Error(`the audit store ${this.file} was opened read-only`);
    const valid = validateAuditEvent(event);
    return this.whenFree(() => this.appendTx.immediate(valid));
  }

  private appendNow(event: AuditEvent): AuditRecord {
    const existing = this.s.byId.get(event.id);
    if (existing) return recordOf(existing);
    const head = this.s.head.get();
    const content: Omit<AuditRecord, 'hash'> = {
      ...event,
      seq: (head?.seq ?? 0) + 1,
      prevHash: head?.hash ?? GENESIS_HASH,
      recordedAt: this.clock().toISOString(),
    };
    const record: AuditRecord = { ...content, hash: recordHash(content) };
    this.s.insert.run(rowOf(record));
    const run = this.s.run.get(record.workflowId);
    this.s.putRun.run(runRowOf(applyToRun(run && runOf(run), record)));
    if (isSuccessfulImport(record)) {
      const current = this.s.protection.get(record.site);
      const atMs = eventTimeMs(record.at);
      if (isLaterImport(current?.at_ms, atMs)) this.s.putProtection.run(record.site, record.seq, atMs);
    }
    this.s.setHead.run(record.seq, record.hash);
    return record;
  }

  async list(filter: RunFilter = {}): Promise<RunSummary[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const and = (condition: string, ...values: (string | number)[]): void => {
      where.push(condition);
      params.push(...values);
    };
    if (filter.site !== undefined) and('site = ?', filter.site);
    if (filter.kind !== undefined) and('kind = ?', filter.kind);
    if (filter.outcome === OPEN_OUTCOME) and('ended IS NULL');
    else if (filter.outcome !== undefined) and('outcome = ?', filter.outcome);
    if (filter.since) and('started_ms >= ?', filter.since.getTime());
    if (filter.until) and('started_ms < ?', filter.until.getTime());
    const sql = `SELECT * FROM audit_runs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY started_ms DESC, workflow_id LIMIT ?`;
    const rows = this.db.prepare<(string | number)[], RunRow>(sql).all(...params, filter.limit ?? -1);
    return rows.map(runOf);
  }

  async run(workflowId: string): Promise<RunSummary | undefined> {
    const row = this.s.run.get(workflowId);
    return row && runOf(row);
  }

  async timeline(workflowId: string): Promise<AuditRecord[]> {
    return this.s.timeline.all(workflowId).map(recordOf);
  }

  // Pages by seq rather than holding one cursor open across awaits: better-sqlite3 would refuse
  // appends on this connection meanwhile. Records past the starting max are left for the next export.
  async *export(): AsyncGenerator<AuditRecord> {
    const end = this.s.maxSeq.get()?.seq ?? 0;
    for (let after = 0; after < end;) {
      const rows = this.s.page.all(after, end, EXPORT_PAGE);
      if (rows.length === 0) return;
      for (const row of rows) yield recordOf(row);
      after = rows[rows.length - 1]!.seq;
    }
  }

  async head(): Promise<AuditHead | undefined> {
    return this.s.head.get();
  }

  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    // One read transaction: the walk, the anchor and the summaries are compared at one snapshot.
    return this.db.transaction(() => this.verifyNow(options)).deferred();
  }

  private verifyNow(options: VerifyOptions): VerifyResult {
    const seqOfHash = (hash: string): number | undefined => this.s.seqOfHash.get(hash)?.seq;
    const walker = new ChainWalker(seqOfHash);
    const runs = new Map<string, RunSummary>();
    const imports = new Map<string, { seq: number; atMs: number }>();
    const fail = (firstBad: ChainBreak): VerifyResult => ({ ok: false, count: walker.count, firstBad });
    for (const row of this.s.all.iterate()) {
      let record: AuditRecord;
      try {
        record = recordOf(row);
      } catch {
        return fail({ seq: row.seq, reason: 'changed', detail: `record ${row.seq} holds JSON that does not parse` });
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
    const bad =
      checkAnchor(walker.head, this.s.head.get()) ??
      (options.expectHead &&
        checkExpectedHead(options.expectHead, walker.head, {
          seqOfHash,
          hashOfSeq: (seq) => this.s.hashOfSeq.get(seq)?.hash,
        })) ??
      this.checkSummaries(runs, imports);
    if (bad) return fail(bad);
    return walker.head ? { ok: true, count: walker.count, head: walker.head } : { ok: true, count: 0 };
  }

  private checkSummaries(
    runs: Map<string, RunSummary>,
    imports: Map<string, { seq: number; atMs: number }>,
  ): ChainBreak | undefined {
    return summaryBreak(runs, imports, this.s.allRuns.iterate(), this.s.allProtection.iterate());
  }

  async lastSuccessfulImport(site: string): Promise<AuditRecord | undefined> {
    const row = this.s.lastImport.get(site);
    return row && recordOf(row);
  }

  async protectionAge(site: string, now: Date): Promise<number | undefined> {
    const last = await this.lastSuccessfulImport(site);
    return last && Math.max(0, now.getTime() - eventTimeMs(last.at));
  }

  async openRunsWithoutEnd(): Promise<string[]> {
    return this.s.open.all().map((r) => r.workflow_id);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/**
 * Records a refused human action (a validator's no, a wrong digest, a non-approver) as an
 * `action.refused` record of the run it was aimed at, with who, channel and reason. The one helper
 * the CLI and the web gateway share: validators cannot write, so whoever receives the refusal does.
 * A run the audit has never seen gets no record (there is no run to attach it to): undefined.
 */
export async function recordRefusedAction(store: AuditStore, refused: RefusedAction): Promise<AuditRecord | undefined> {
  const run = await store.run(refused.workflowId);
  if (!run) return undefined;
  return store.append(refusedActionEvent(run, refused, randomUUID()));
}

/**
 * The summary tables must equal what the verified records rebuild; reports the earliest
 * difference. Shared by every store, so both compare the same way.
 */
export function summaryBreak(
  runs: Map<string, RunSummary>,
  imports: Map<string, { seq: number; atMs: number }>,
  runRows: Iterable<RunRow>,
  protectionRows: Iterable<{ site: string; seq: number; at_ms: number }>,
): ChainBreak | undefined {
  const differing: number[] = [];
  const seen = new Set<string>();
  for (const row of runRows) {
    const expected = runs.get(row.workflow_id);
    seen.add(row.workflow_id);
    // Whole rows, derived columns included: a doctored started_ms would skew --since silently.
    if (!expected || canonicalJson(row) !== canonicalJson(runRowOf(expected))) {
      differing.push(expected?.lastEvent.seq ?? row.last_seq);
    }
  }
  for (const [id, run] of runs) if (!seen.has(id)) differing.push(run.lastEvent.seq);
  const sites = new Set<string>();
  for (const row of protectionRows) {
    const expected = imports.get(row.site);
    sites.add(row.site);
    if (!expected || expected.seq !== row.seq || expected.atMs !== row.at_ms) differing.push(expected?.seq ?? row.seq);
  }
  for (const [site, expected] of imports) if (!sites.has(site)) differing.push(expected.seq);
  if (differing.length === 0) return undefined;
  const seq = Math.min(...differing);
  return {
    seq,
    reason: 'index-mismatch',
    detail: `the run or protection summary around record ${seq} does not match the records`,
  };
}

type Statements = ReturnType<typeof prepareStatements>;

function prepareStatements(db: Database.Database) {
  return {
    byId: db.prepare<[string], RecordRow>('SELECT * FROM audit_records WHERE id = ?'),
    head: db.prepare<[], AuditHead>('SELECT seq, hash FROM audit_head WHERE one = 1'),
    setHead: db.prepare('INSERT OR REPLACE INTO audit_head (one, seq, hash) VALUES (1, ?, ?)'),
    insert: db.prepare(
      `INSERT INTO audit_records (seq, id, workflow_id, run_id, site, kind, type, at, at_ms, actor, outcome, data,
         recorded_at, prev_hash, hash)
       VALUES (@seq, @id, @workflow_id, @run_id, @site, @kind, @type, @at, @at_ms, @actor, @outcome, @data,
         @recorded_at, @prev_hash, @hash)`,
    ),
    run: db.prepare<[string], RunRow>('SELECT * FROM audit_runs WHERE workflow_id = ?'),
    putRun: db.prepare(
      `INSERT OR REPLACE INTO audit_runs (workflow_id, run_id, site, kind, started, started_ms, ended, outcome,
         sha256, last_seq, last_type, last_at, events)
       VALUES (@workflow_id, @run_id, @site, @kind, @started, @started_ms, @ended, @outcome, @sha256, @last_seq,
         @last_type, @last_at, @events)`,
    ),
    protection: db.prepare<[string], { seq: number; at_ms: number }>(
      'SELECT seq, at_ms FROM audit_protection WHERE site = ?',
    ),
    putProtection: db.prepare('INSERT OR REPLACE INTO audit_protection (site, seq, at_ms) VALUES (?, ?, ?)'),
    lastImport: db.prepare<[string], RecordRow>(
      'SELECT r.* FROM audit_protection p JOIN audit_records r ON r.seq = p.seq WHERE p.site = ?',
    ),
    timeline: db.prepare<[string], RecordRow>('SELECT * FROM audit_records WHERE workflow_id = ? ORDER BY seq'),
    page: db.prepare<[number, number, number], RecordRow>(
      'SELECT * FROM audit_records WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
    ),
    maxSeq: db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM audit_records'),
    all: db.prepare<[], RecordRow>('SELECT * FROM audit_records ORDER BY seq'),
    seqOfHash: db.prepare<[string], { seq: number }>('SELECT seq FROM audit_records WHERE hash = ? LIMIT 1'),
    hashOfSeq: db.prepare<[number], { hash: string }>('SELECT hash FROM audit_records WHERE seq = ?'),
    allRuns: db.prepare<[], RunRow>('SELECT * FROM audit_runs'),
    allProtection: db.prepare<[], { site: string; seq: number; at_ms: number }>('SELECT * FROM audit_protection'),
    open: db.prepare<[], { workflow_id: string }>(
      'SELECT workflow_id FROM audit_runs WHERE ended IS NULL ORDER BY started_ms, workflow_id',
    ),
  };
}

/** The same rule in append and in verify's rebuild: a later event time wins, a tie keeps the first. */
export function isLaterImport(currentMs: number | undefined, candidateMs: number): boolean {
  return currentMs === undefined || candidateMs > currentMs;
}

export function rowOf(r: AuditRecord): RecordRow {
  return {
    seq: r.seq,
    id: r.id,
    workflow_id: r.workflowId,
    run_id: r.runId ?? null,
    site: r.site,
    kind: r.kind,
    type: r.type,
    at: r.at,
    at_ms: eventTimeMs(r.at),
    actor: r.actor ? canonicalJson(r.actor) : null,
    outcome: r.outcome ?? null,
    data: r.data ? canonicalJson(r.data) : null,
    recorded_at: r.recordedAt,
    prev_hash: r.prevHash,
    hash: r.hash,
  };
}

export function recordOf(row: RecordRow): AuditRecord {
  const r: AuditRecord = {
    seq: row.seq,
    id: row.id,
    workflowId: row.workflow_id,
    site: row.site,
    kind: row.kind as AuditKind,
    type: row.type,
    at: row.at,
    recordedAt: row.recorded_at,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
  if (row.run_id !== null) r.runId = row.run_id;
  if (row.actor !== null) r.actor = JSON.parse(row.actor) as AuditRecord['actor'];
  if (row.outcome !== null) r.outcome = row.outcome;
  if (row.data !== null) r.data = JSON.parse(row.data) as AuditRecord['data'];
  return r;
}

export function runRowOf(r: RunSummary): RunRow {
  return {
    workflow_id: r.workflowId,
    run_id: r.runId ?? null,
    site: r.site,
    kind: r.kind,
    started: r.started,
    started_ms: eventTimeMs(r.started),
    ended: r.ended ?? null,
    outcome: r.outcome ?? null,
    sha256: r.sha256 ?? null,
    last_seq: r.lastEvent.seq,
    last_type: r.lastEvent.type,
    last_at: r.lastEvent.at,
    events: r.events,
  };
}

export function runOf(row: RunRow): RunSummary {
  const r: RunSummary = {
    workflowId: row.workflow_id,
    site: row.site,
    kind: row.kind as AuditKind,
    started: row.started,
    lastEvent: { seq: row.last_seq, type: row.last_type, at: row.last_at },
    events: row.events,
  };
  if (row.run_id !== null) r.runId = row.run_id;
  if (row.ended !== null) r.ended = row.ended;
  if (row.outcome !== null) r.outcome = row.outcome;
  if (row.sha256 !== null) r.sha256 = row.sha256;
  return r;
}

/**
 * PostgreSQL audit store benchmark, run by hand (see bench/README.md, "Audit on PostgreSQL"):
 *
 * 1. append throughput with 4 concurrent appender processes, PostgreSQL vs SQLite, both durable
 *    (fsync and synchronous commit on; SQLite synchronous=FULL), each append its own transaction;
 * 2. `list` with filters over N records (default 100,000) vs the same SELECT through `psql` and
 *    through a bare `pg` client, on the same data;
 * 3. `verify` per record on both stores.
 *
 * It starts its own throw-away cluster with Debian's binaries (test/helpers/postgres.ts).
 *
 *   npx tsc --ignoreConfig bench/audit-postgres.ts --outDir /tmp/bench-build --rootDir . --module node16 \
 *     --target es2022 --esModuleInterop --skipLibCheck --types node --strict
 *   NODE_PATH=$PWD/node_modules node /tmp/bench-build/bench/audit-postgres.js [records] [appends-per-appender]
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { RunFilter } from '../src/domain/audit';
import { EPOCH, events, median, ms, ratio } from './audit-history';
import { SqliteAuditStore, type AuditStore } from '../src/adapters/audit-store';
import { PostgresAuditStore } from '../src/adapters/audit-store-postgres';
import { startPostgres } from '../test/helpers/postgres';

const RECORDS = Number(process.argv[2] ?? 100_000);
const PER_APPENDER = Number(process.argv[3] ?? 500);
const APPENDERS = 4;
const REPEATS = 5;

async function time(fn: () => unknown, repeats = REPEATS): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(samples);
}

/** Child mode: one appender process. */
async function appender(kind: string, target: string, me: string, count: number, startAt: number): Promise<void> {
  const store: AuditStore =
    kind === 'postgres' ? await PostgresAuditStore.open({ url: target }) : new SqliteAuditStore(target);
  while (Date.now() < startAt) await new Promise((r) => setTimeout(r, 5));
  for (const e of events(count, `${me}-`)) await store.append(e);
  await store.close();
}

function runAppender(kind: string, target: string, me: string, startAt: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [__filename, 'appender', kind, target, me, String(PER_APPENDER), String(startAt)],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`appender ${me} exited ${code}`))));
  });
}

/** Appends/s of APPENDERS processes started together; the chain is verified afterwards. */
async function throughput(kind: 'sqlite' | 'postgres', target: string, verifier: () => Promise<AuditStore>) {
  const startAt = Date.now() + 1500;
  await Promise.all(Array.from({ length: APPENDERS }, (_, i) => runAppender(kind, target, `p${i}`, startAt)));
  const wallMs = Date.now() - startAt;
  const store = await verifier();
  const verified = await store.verify();
  await store.close();
  if (!verified.ok || verified.count !== APPENDERS * PER_APPENDER)
    throw new Error(`${kind}: ${JSON.stringify(verified)}`);
  return { wallMs, perSecond: (APPENDERS * PER_APPENDER) / (wallMs / 1000) };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-pg-bench-'));
  const cluster = await startPostgres({ durable: true });
  const pgVersion = cluster.psql('SHOW server_version').trim();
  console.log(
    `audit on PostgreSQL bench: ${RECORDS} records, ${APPENDERS} appenders x ${PER_APPENDER}, median of ${REPEATS}, ` +
      `node ${process.version}, ${os.cpus().length} cpus, PostgreSQL ${pgVersion} (fsync on)`,
  );
  try {
    // 1. Append throughput, 4 processes at once.
    const sqliteFile = path.join(dir, 'appenders.sqlite');
    const sq = await throughput('sqlite', sqliteFile, async () => new SqliteAuditStore(sqliteFile, { readOnly: true }));
    const appendDb = cluster.createDatabase();
    const pgt = await throughput('postgres', appendDb.url, () => PostgresAuditStore.open({ url: appendDb.url }));
    console.log('\n| 4 concurrent appenders | appends | wall | appends/s |\n|---|---|---|---|');
    console.log(
      `| SQLite (BEGIN IMMEDIATE, synchronous=FULL) | ${APPENDERS * PER_APPENDER} | ${ms(sq.wallMs)} | ${Math.round(sq.perSecond)} |`,
    );
    console.log(
      `| PostgreSQL (advisory lock, fsync on) | ${APPENDERS * PER_APPENDER} | ${ms(pgt.wallMs)} | ${Math.round(pgt.perSecond)} |`,
    );
    console.log(`PostgreSQL / SQLite: ${ratio(pgt.perSecond, sq.perSecond)}`);

    // 2. The same N records in both stores: loaded into SQLite, copied to PostgreSQL as `audit migrate` does.
    const file = path.join(dir, 'audit.sqlite');
    const loader = new SqliteAuditStore(file, { durability: 'normal' });
    for (const e of events(RECORDS)) await loader.append(e);
    await loader.close();
    const sqlite = new SqliteAuditStore(file, { readOnly: true });
    const db = cluster.createDatabase();
    const pgStore = await PostgresAuditStore.open({ url: db.url });
    const t = process.hrtime.bigint();
    const copied = await pgStore.importChain(sqlite.export());
    const migrateMs = Number(process.hrtime.bigint() - t) / 1e6;
    cluster.psql('VACUUM ANALYZE', db.name);
    console.log(`\nmigrate (copy of ${copied} records into PostgreSQL, one transaction): ${ms(migrateMs)}`);

    const since = EPOCH + 30 * 86_400_000;
    const filter: RunFilter = { site: 'south', kind: 'cycle', outcome: 'failed', since: new Date(since) };
    const ours = (await pgStore.list(filter)).map((r) => r.workflowId);
    const fromSqlite = (await sqlite.list(filter)).map((r) => r.workflowId);
    if (ours.join() !== fromSqlite.join()) throw new Error('the two stores list different runs');
    const runsSql = `SELECT * FROM audit_runs WHERE site = 'south' AND kind = 'cycle' AND outcome = 'failed'
      AND started_ms >= ${since} ORDER BY started_ms DESC, workflow_id`;
    const rawCount = cluster.psql(`SELECT count(*) FROM (${runsSql}) x`, db.name).trim();
    if (Number(rawCount) !== ours.length) throw new Error(`list ${ours.length} vs psql ${rawCount}`);
    const psql = (sql: string) => () =>
      execFileSync(
        'psql',
        ['-h', '127.0.0.1', '-p', String(cluster.port), '-U', 'postgres', '-d', db.name, '-Atq', '-c', sql],
        {
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
    const bare = new pg.Client({ connectionString: db.url });
    await bare.connect();
    const psqlStart = await time(psql('SELECT 1'));
    console.log(`psql: process start + connect + SELECT 1 = ${ms(psqlStart)}, included in its rows`);

    const operations: { name: string; ours: () => unknown; baselines: [string, () => unknown][] }[] = [
      {
        name: 'PostgreSQL list, filtered by site+kind+outcome+since',
        ours: () => pgStore.list(filter),
        baselines: [
          ['psql: the same SELECT over audit_runs', psql(runsSql)],
          ['pg client: the same SELECT over audit_runs', () => bare.query(runsSql)],
          ['SQLite store: list, same filter', () => sqlite.list(filter)],
        ],
      },
      {
        name: 'PostgreSQL list, newest 50 (CLI default)',
        ours: () => pgStore.list({ limit: 50 }),
        baselines: [
          ['psql: SELECT … LIMIT 50', psql('SELECT * FROM audit_runs ORDER BY started_ms DESC, workflow_id LIMIT 50')],
          [
            'pg client: SELECT … LIMIT 50',
            () => bare.query('SELECT * FROM audit_runs ORDER BY started_ms DESC, workflow_id LIMIT 50'),
          ],
        ],
      },
    ];
    console.log(`\n| operation | ours | baseline | baseline time | ours / baseline |\n|---|---|---|---|---|`);
    for (const op of operations) {
      const oursMs = await time(op.ours);
      for (const [name, run] of op.baselines) {
        const baseMs = await time(run);
        console.log(`| ${op.name} | ${ms(oursMs)} | ${name} | ${ms(baseMs)} | ${ratio(oursMs, baseMs)} |`);
      }
    }

    // 3. verify per record.
    const pgVerify = await time(() => pgStore.verify(), 3);
    const sqVerify = await time(() => sqlite.verify(), 3);
    const rawAll = await time(() => bare.query('SELECT * FROM audit_records ORDER BY seq'), 3);
    const us = (total: number) => `${((total * 1000) / RECORDS).toFixed(1)} µs`;
    console.log('\n| verify (chain + anchor + summaries) | total | per record |\n|---|---|---|');
    console.log(`| PostgreSQL | ${ms(pgVerify)} | ${us(pgVerify)} |`);
    console.log(`| SQLite | ${ms(sqVerify)} | ${us(sqVerify)} |`);
    console.log(`| pg client: SELECT * FROM audit_records (no hashing) | ${ms(rawAll)} | ${us(rawAll)} |`);

    await bare.end();
    await pgStore.close();
    await sqlite.close();
  } finally {
    cluster.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'appender') {
  const [, , , kind, target, me, count, startAt] = process.argv;
  appender(kind!, target!, me!, Number(count), Number(startAt)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}

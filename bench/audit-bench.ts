/**
 * Audit store benchmark, run by hand (see bench/README.md, "Audit"): list + filter and verify over
 * N records (default 100,000), each against a plain query over the same file in the same run —
 * the sqlite3 CLI when installed, and better-sqlite3 in-process — and the ratio between them.
 *
 *   npx tsc bench/audit-bench.ts --outDir /tmp/bench-build --rootDir . --module node16 \
 *     --target es2022 --esModuleInterop --skipLibCheck --types node
 *   NODE_PATH=$PWD/node_modules node /tmp/bench-build/bench/audit-bench.js [records]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RunFilter } from '../src/domain/audit';
import { EPOCH, events, median, ms, ratio } from './audit-history';
import { SqliteAuditStore } from '../src/adapters/audit-store';

const RECORDS = Number(process.argv[2] ?? 100_000);
const REPEATS = 5;

function sqlite3Available(): boolean {
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function time(fn: () => unknown): Promise<number> {
  await fn(); // warm: statement cache, page cache
  const samples: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(samples);
}

/** The same run list straight from the records, as someone with only sqlite3 would write it. */
function rawListSql(site: string, since: number): string {
  return `WITH runs AS (
      SELECT workflow_id, site, kind, min(at_ms) AS started_ms, max(seq) AS last_seq, count(*) AS events,
        (SELECT outcome FROM audit_records e WHERE e.workflow_id = r.workflow_id AND e.type LIKE '%.ended'
          ORDER BY seq LIMIT 1) AS outcome
      FROM audit_records r GROUP BY workflow_id)
    SELECT * FROM runs WHERE site = '${site}' AND kind = 'cycle' AND outcome = 'failed' AND started_ms >= ${since}
    ORDER BY started_ms DESC, workflow_id`;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-bench-'));
  const file = path.join(dir, 'audit.sqlite');
  const haveCli = sqlite3Available();
  console.log(
    `audit bench: ${RECORDS} records, median of ${REPEATS}, node ${process.version}, ${os.cpus().length} cpus`,
  );

  const loader = new SqliteAuditStore(file, { durability: 'normal' });
  let t = process.hrtime.bigint();
  for (const e of events(RECORDS)) await loader.append(e);
  const loadMs = Number(process.hrtime.bigint() - t) / 1e6;
  await loader.close();
  console.log(
    `load (one transaction per append, synchronous=NORMAL): ${ms(loadMs)}, ${Math.round(RECORDS / (loadMs / 1000))} appends/s`,
  );

  const store = new SqliteAuditStore(file);
  const raw = new Database(file, { readonly: true });
  const since = EPOCH + 30 * 86_400_000;
  const filter: RunFilter = { site: 'south', kind: 'cycle', outcome: 'failed', since: new Date(since) };

  const listSql = rawListSql('south', since);
  const ours = (await store.list(filter)).map((r) => r.workflowId);
  const theirs = raw
    .prepare<[], { workflow_id: string }>(listSql)
    .all()
    .map((r) => r.workflow_id);
  if (ours.join() !== theirs.join())
    throw new Error(`list and the raw query disagree: ${ours.length} vs ${theirs.length} runs`);

  const verified = await store.verify();
  if (!verified.ok || verified.count !== RECORDS) throw new Error(`verify: ${JSON.stringify(verified)}`);

  const cli = (sql: string) => () => execFileSync('sqlite3', [file, sql], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (haveCli) {
    const version = execFileSync('sqlite3', ['-version']).toString().split(' ')[0];
    console.log(
      `sqlite3 CLI ${version}: process start + SELECT 1 = ${ms(await time(cli('SELECT 1')))}, included in its rows`,
    );
  } else {
    console.log('sqlite3 CLI not installed: better-sqlite3 baselines only');
  }
  const runsSql = `SELECT * FROM audit_runs WHERE site = 'south' AND kind = 'cycle' AND outcome = 'failed'
    AND started_ms >= ${since} ORDER BY started_ms DESC, workflow_id`;
  const recordsSql = 'SELECT * FROM audit_records ORDER BY seq';
  type Baseline = [name: string, run: () => unknown];
  const ifCli = (baselines: Baseline[]): Baseline[] => (haveCli ? baselines : []);
  const operations: { name: string; ours: () => unknown; baselines: Baseline[] }[] = [
    {
      name: 'list, filtered by site+kind+outcome+since',
      ours: () => store.list(filter),
      baselines: [
        ['better-sqlite3: GROUP BY over audit_records', () => raw.prepare(listSql).all()],
        ['better-sqlite3: SELECT over audit_runs', () => raw.prepare(runsSql).all()],
        ...ifCli([['sqlite3 CLI: GROUP BY over audit_records', cli(listSql)]]),
      ],
    },
    {
      name: 'list, newest 50 (CLI default)',
      ours: () => store.list({ limit: 50 }),
      baselines: [
        [
          'better-sqlite3: SELECT … LIMIT 50 over audit_runs',
          () => raw.prepare('SELECT * FROM audit_runs ORDER BY started_ms DESC LIMIT 50').all(),
        ],
      ],
    },
    {
      name: 'verify: chain + anchor + summaries',
      ours: () => store.verify(),
      baselines: [
        ['better-sqlite3: SELECT * FROM audit_records', () => raw.prepare(recordsSql).all()],
        ...ifCli([
          ['sqlite3 CLI: SELECT * FROM audit_records', cli(recordsSql)],
          ['sqlite3 CLI: PRAGMA integrity_check', cli('PRAGMA integrity_check')],
        ]),
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
  console.log(`\nfile: ${(fs.statSync(file).size / 1e6).toFixed(1)} MB, ${ours.length} runs matched the filter`);

  t = process.hrtime.bigint();
  let exported = 0;
  for await (const _ of store.export()) exported++;
  console.log(`export iteration of ${exported} records: ${ms(Number(process.hrtime.bigint() - t) / 1e6)}`);

  raw.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

/**
 * CLI start (bench/README.md, "CLI start"): how long `airgap --help`, `airgap cycle status <id>`
 * and `airgap cycle list` take as processes, against `node -e 0` and against a minimal Node client
 * that connects and asks Temporal one thing (the round trip every status command needs), in one run.
 * Its own Temporal dev server (SQLite in a temporary folder); dist/ must be built (npm run build).
 * Medians of 9, interleaved.
 *
 *   node /tmp/bench-build/bench/cli-start.js [runs]     (build: see bench/README.md)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Connection } from '@temporalio/client';
import { freePort, startDevServer } from '../src/runtime/dev-server';
import { ensureNamespace } from '../src/runtime/temporal-setup';
import { describeMachine, median, ms, NAMESPACE, ratio, REPO, runBench } from './cycle-kit';

const RUNS = Number(process.argv[2] ?? 9);
const AIRGAP = path.join(REPO, 'bin', 'airgap.js');

runBench(async () => {
  if (!fs.existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: npm run build');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-cli-start-'));
  const server = await startDevServer({
    dbFile: path.join(dir, 'temporal.db'),
    port: await freePort(),
    logFile: path.join(dir, 'temporal.log'),
  });
  try {
    const connection = await Connection.connect({ address: server.address });
    await ensureNamespace(connection, NAMESPACE, 86_400_000);
    await connection.close();
    const env = { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: NAMESPACE };
    const minimalClient = [
      "const { Connection, Client } = require('@temporalio/client');",
      '(async () => { const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });',
      'const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE });',
      'for await (const w of client.workflow.list({ query: "AirgapKind = \'cycle\'" })) void w;',
      'await connection.close(); })();',
    ].join(' ');
    const contenders: [string, string[], number | undefined][] = [
      ['node -e 0', ['-e', '0'], 0],
      ['node + @temporalio/client, one list (round-trip baseline)', ['-e', minimalClient], 0],
      ['airgap --help', [AIRGAP, '--help'], 0],
      ['airgap cycle status <unknown id>', [AIRGAP, 'cycle', 'status', 'cycle-bench-none'], 1],
      ['airgap cycle list', [AIRGAP, 'cycle', 'list'], 0],
    ];
    const samples = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const [name, args, expected] of contenders) {
        const t0 = performance.now();
        const r = spawnSync(process.execPath, args, { cwd: REPO, env, encoding: 'utf8' });
        const took = performance.now() - t0;
        if (expected !== undefined && r.status !== expected) {
          throw new Error(`${name}: exit ${r.status}, expected ${expected}\n${r.stderr}`);
        }
        samples.get(name)!.push(took);
      }
    }
    const node = median(samples.get('node -e 0')!);
    const trip = median(samples.get(contenders[1]![0])!);
    console.log(`CLI start, medians of ${RUNS} (${describeMachine()})`);
    console.log('| command | median | vs node -e 0 | vs node + client round trip |');
    console.log('| --- | --- | --- | --- |');
    for (const [name] of contenders) {
      const m = median(samples.get(name)!);
      console.log(`| ${name} | ${ms(m)} | ${ratio(m, node)} | ${ratio(m, trip)} |`);
    }
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Start to ready (bench/README.md, "Start to ready"): how long `airgap start` takes, as a process,
 * from spawn until it prints "Press Ctrl-C to stop.", against the bare Temporal dev server from spawn
 * until it answers (startDevServer, the same call `airgap start` makes), in one run. Two kinds of
 * `airgap start`: with the data folder's workflow bundle removed first (it is bundled with webpack,
 * what every start did before issue 16) and with the bundle cached by the previous start. The demo
 * configuration with the simulator, free ports, one temporary data folder kept across the starts
 * (a restart, as an operator does it). dist/ must be built (npm run build). Medians, interleaved.
 * Two floors in the same run, as processes: `node -e 0`, and Node loading the Temporal SDK's client
 * and worker packages and nothing else (what any start of the workers in Node pays).
 * With `--compare <folder>`, also the warm start of another build (a copy of the repository's bin/,
 * dist/, package.json and package-lock.json, with links to its node_modules and scripts) on a data
 * folder of its own: before and after a change, in one run.
 *
 *   node /tmp/bench-build/bench/start-ready.js [runs] [--compare <folder>]   (build: see bench/README.md)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { freePort, startDevServer } from '../src/runtime/dev-server';
import { describeMachine, median, ms, ratio, REPO, runBench } from './cycle-kit';

const args = process.argv.slice(2);
const compareAt = args.indexOf('--compare');
const COMPARE = compareAt >= 0 ? path.resolve(args.splice(compareAt, 2)[1] ?? '') : undefined;
const RUNS = Number(args[0] ?? 3);
const AIRGAP = path.join(REPO, 'bin', 'airgap.js');

async function demoConfig(dir: string) {
  const host = (name: string) => path.join(dir, 'sim', 'hosts', name, 'opt', 'ds_agent');
  const [temporal, ui, web, dmz, airgap] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  return {
    dataDir: dir,
    temporal: { namespace: 'airgap', retention: '30d', embedded: { port: temporal, uiPort: ui } },
    web: { host: '127.0.0.1', port: web },
    simulator: { enabled: true },
    sites: [
      {
        id: 'demo',
        dmz: {
          manager: { url: `https://127.0.0.1:${dmz}/api`, apiKeyEnv: 'BENCH_DMZ_KEY', caFile: `${dir}/sim/tls/ca.pem` },
          relay: { name: 'bench-dmz-relay', computerId: 11, installDir: host('bench-dmz-relay') },
        },
        airgapped: {
          manager: {
            url: `https://127.0.0.1:${airgap}/api`,
            apiKeyEnv: 'BENCH_AG_KEY',
            caFile: `${dir}/sim/tls/ca.pem`,
            host: 'bench-ag-manager',
          },
          relays: [{ name: 'bench-ag-relay', computerId: 21, installDir: host('bench-ag-relay') }],
        },
        people: { operators: ['operator@demo.example'], approvers: ['approver@demo.example'] },
        rules: { importFolder: path.join(dir, 'sim', 'hosts', 'bench-ag-manager', 'var', 'dsru-import') },
      },
    ],
  };
}

/** Spawns `node <args>` and resolves with the time until it exits (0, else it throws). */
async function timeNode(nodeArgs: string[]): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, nodeArgs, { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`node ${nodeArgs.join(' ')} exited ${code}`);
  return performance.now() - t0;
}

/** Spawns `airgap start`, resolves with the time to its ready line, then stops it with Ctrl-C. */
async function timeStart(configFile: string, airgap = AIRGAP): Promise<number> {
  const env = { ...process.env };
  for (const name of ['TEMPORAL_ADDRESS', 'AIRGAP_CONFIG', 'BENCH_DMZ_KEY', 'BENCH_AG_KEY']) delete env[name];
  const t0 = performance.now();
  const child = spawn(process.execPath, [airgap, '--config', configFile, 'start'], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const took = await new Promise<number>((resolve, reject) => {
    const seen = (d: Buffer) => {
      output += d.toString();
      if (output.includes('Press Ctrl-C to stop.')) resolve(performance.now() - t0);
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    void exited.then((code) => reject(new Error(`airgap start exited (${code}) before ready:\n${output}`)));
  });
  child.kill('SIGINT');
  const code = await exited;
  if (code !== 0) throw new Error(`airgap start exited ${code} after Ctrl-C:\n${output}`);
  return took;
}

runBench(async () => {
  if (!fs.existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: npm run build');
  const compareBin = COMPARE && path.join(COMPARE, 'bin', 'airgap.js');
  if (compareBin && !fs.existsSync(path.join(COMPARE, 'dist', 'cli', 'main.js'))) {
    throw new Error(`--compare ${COMPARE}: no dist/cli/main.js there`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-start-ready-'));
  const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-start-bare-'));
  const other = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-start-other-'));
  try {
    const configFile = path.join(dir, 'airgap.yaml');
    fs.writeFileSync(configFile, stringify(await demoConfig(dir)));
    const otherConfig = path.join(other, 'airgap.yaml');
    fs.writeFileSync(otherConfig, stringify(await demoConfig(other)));
    const bundleDir = path.join(dir, 'workflow-bundle');
    await timeStart(configFile); // first start: keys, simulator TLS, database, namespace, schedules
    if (compareBin) await timeStart(otherConfig, compareBin);
    const samples = {
      bare: [] as number[],
      nodeOnly: [] as number[],
      sdk: [] as number[],
      rebuilt: [] as number[],
      cached: [] as number[],
      compared: [] as number[],
    };
    const sdk = "require('@temporalio/client'); require('@temporalio/worker')";
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const server = await startDevServer({
        dbFile: path.join(bare, 'temporal.db'),
        port: await freePort(),
        logFile: path.join(bare, 'temporal.log'),
      });
      samples.bare.push(performance.now() - t0);
      await server.stop();
      samples.nodeOnly.push(await timeNode(['-e', '0']));
      samples.sdk.push(await timeNode(['-e', sdk]));

      fs.rmSync(bundleDir, { recursive: true, force: true });
      samples.rebuilt.push(await timeStart(configFile));
      if (fs.readdirSync(bundleDir).length !== 1) throw new Error('start did not store its bundle');
      samples.cached.push(await timeStart(configFile));
      if (compareBin) samples.compared.push(await timeStart(otherConfig, compareBin));
    }
    const base = median(samples.bare);
    console.log(`start to ready, medians of ${RUNS} (${describeMachine()})`);
    console.log('| start | median | samples | vs bare dev server |\n| --- | --- | --- | --- |');
    const rows: [string, number[]][] = [
      ['bare Temporal dev server (startDevServer)', samples.bare],
      ['floor: node -e 0', samples.nodeOnly],
      ['floor: node loading @temporalio/client and @temporalio/worker, nothing else', samples.sdk],
      ['airgap start, bundle removed first (bundled with webpack, as before)', samples.rebuilt],
      ['airgap start, bundle cached in the data folder', samples.cached],
    ];
    if (compareBin) rows.push([`airgap start of ${COMPARE}, bundle cached`, samples.compared]);
    for (const [name, s] of rows) {
      console.log(
        `| ${name} | ${ms(median(s))} | ${s.map((v) => v.toFixed(0)).join(', ')} | ${ratio(median(s), base)} |`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(bare, { recursive: true, force: true });
    fs.rmSync(other, { recursive: true, force: true });
  }
});

/**
 * Start to ready (bench/README.md, "Start to ready"): how long `airgap start` takes, as a process,
 * from spawn until it prints "Press Ctrl-C to stop.", against the bare Temporal dev server from spawn
 * until it answers (startDevServer, the same call `airgap start` makes), in one run. Two kinds of
 * `airgap start`: with the data folder's workflow bundle removed first (it is bundled with webpack,
 * what every start did before issue 16) and with the bundle cached by the previous start. The demo
 * configuration with the simulator, free ports, one temporary data folder kept across the starts
 * (a restart, as an operator does it). dist/ must be built (npm run build). Medians, interleaved.
 *
 *   node /tmp/bench-build/bench/start-ready.js [runs]     (build: see bench/README.md)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { freePort, startDevServer } from '../src/runtime/dev-server';
import { describeMachine, median, ms, ratio, REPO, runBench } from './cycle-kit';

const RUNS = Number(process.argv[2] ?? 3);
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

/** Spawns `airgap start`, resolves with the time to its ready line, then stops it with Ctrl-C. */
async function timeStart(configFile: string): Promise<number> {
  const env = { ...process.env };
  for (const name of ['TEMPORAL_ADDRESS', 'AIRGAP_CONFIG', 'BENCH_DMZ_KEY', 'BENCH_AG_KEY']) delete env[name];
  const t0 = performance.now();
  const child = spawn(process.execPath, [AIRGAP, '--config', configFile, 'start'], {
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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-start-ready-'));
  const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-start-bare-'));
  try {
    const configFile = path.join(dir, 'airgap.yaml');
    fs.writeFileSync(configFile, stringify(await demoConfig(dir)));
    const bundleDir = path.join(dir, 'workflow-bundle');
    await timeStart(configFile); // first start: keys, simulator TLS, database, namespace, schedules
    const samples = {
      bare: [] as number[],
      rebuilt: [] as number[],
      cached: [] as number[],
    };
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const server = await startDevServer({
        dbFile: path.join(bare, 'temporal.db'),
        port: await freePort(),
        logFile: path.join(bare, 'temporal.log'),
      });
      samples.bare.push(performance.now() - t0);
      await server.stop();

      fs.rmSync(bundleDir, { recursive: true, force: true });
      samples.rebuilt.push(await timeStart(configFile));
      if (fs.readdirSync(bundleDir).length !== 1) throw new Error('start did not store its bundle');
      samples.cached.push(await timeStart(configFile));
    }
    const base = median(samples.bare);
    console.log(`start to ready, medians of ${RUNS} (${describeMachine()})`);
    console.log('| start | median | samples | vs bare dev server |\n| --- | --- | --- | --- |');
    const rows: [string, number[]][] = [
      ['bare Temporal dev server (startDevServer)', samples.bare],
      ['airgap start, bundle removed first (bundled with webpack, as before)', samples.rebuilt],
      ['airgap start, bundle cached in the data folder', samples.cached],
    ];
    for (const [name, s] of rows) {
      console.log(
        `| ${name} | ${ms(median(s))} | ${s.map((v) => v.toFixed(0)).join(', ')} | ${ratio(median(s), base)} |`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(bare, { recursive: true, force: true });
  }
});

/**
 * Upgrade rollout benchmark, run by hand (see bench/README.md, "Upgrade rollout"): one rollout
 * over a simulated fleet (default 5,000 agents behind 2 relays, the simulator's agentsPerRelay),
 * on a real Temporal dev server with real workers in this process. U1–U4 are already at their
 * targets (their cost is a precheck each); U5 runs in manual waves, a simulated person upgrading
 * each wave in `personMs` and confirming it, or in external mode, a simulated tool upgrading
 * the fleet at a fixed rate while the rollout watches.
 *
 * Reports: history events per workflow run and per child (bounded by waves.perRun, not by the
 * fleet), worker process memory (peak RSS and heap), and the orchestration overhead: wall time
 * minus the simulated upgrade time.
 *
 *   npx tsc --ignoreConfig bench/upgrade-bench.ts src/workflows/index.ts --outDir /tmp/bench-build --rootDir . --module node16 \
 *     --target es2022 --esModuleInterop --skipLibCheck --types node --strict
 *   ln -sfn $PWD/scripts /tmp/bench-build/scripts && ln -sfn $PWD/node_modules /tmp/bench-build/node_modules
 *   NODE_PATH=$PWD/node_modules node /tmp/bench-build/bench/upgrade-bench.js \
 *     [--agents 5000] [--wave 100] [--concurrency 4] [--per-run 10] [--person-ms 300] [--mode manual|external]
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { SqliteAuditStore } from '../src/adapters/audit-store';
import { OutboxMailer } from '../src/adapters/outbox';
import { parseConfig } from '../src/domain/config';
import { targetsFrom } from '../src/domain/upgrade-stages';
import { freePort, startDevServer } from '../src/runtime/dev-server';
import { ensureNamespace } from '../src/runtime/temporal-setup';
import { startSimulator } from '../src/sim';
import { createWorkerSet } from '../src/worker';
import { confirmStageUpdate, upgradeStateQuery, type RolloutResult } from '../src/workflows/upgrade-messages';

const { values: args } = parseArgs({
  options: {
    agents: { type: 'string', default: '5000' },
    wave: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '4' },
    'per-run': { type: 'string', default: '10' },
    'person-ms': { type: 'string', default: '300' },
    mode: { type: 'string', default: 'manual' },
  },
});
const AGENTS = Number(args.agents);
const RELAYS = 2;
const WAVE = Number(args.wave);
const CONCURRENCY = Number(args.concurrency);
const PER_RUN = Number(args['per-run']);
const PERSON_MS = Number(args['person-ms']);
const MODE = args.mode === 'external' ? 'external' : 'manual';
const NAMESPACE = 'airgap-bench';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-upgrade-bench-'));
  const port = await freePort();
  const server = await startDevServer({
    dbFile: path.join(dir, 'temporal.db'),
    port,
    logFile: path.join(dir, 'temporal.log'),
  });
  const connection = await Connection.connect({ address: server.address });
  await ensureNamespace(connection, NAMESPACE, 86_400_000);
  const client = new Client({ connection, namespace: NAMESPACE });

  const host = (n: string) => path.join(dir, 'hosts', n, 'opt', 'ds_agent');
  const [dmzPort, agPort] = [await freePort(), await freePort()];
  const relays = Array.from({ length: RELAYS }, (_, i) => ({
    name: `bench-ag-relay-${i + 1}`,
    computerId: 21 + i,
    installDir: host(`bench-ag-relay-${i + 1}`),
  }));
  const config = parseConfig(
    {
      dataDir: dir,
      temporal: { namespace: NAMESPACE, taskQueue: 'bench-control' },
      sites: [
        {
          id: 'big',
          dmz: {
            manager: { url: `https://127.0.0.1:${dmzPort}/api`, apiKeyEnv: 'B_DMZ', caFile: `${dir}/sim/tls/ca.pem` },
            relay: { name: 'bench-dmz-relay', computerId: 11, installDir: host('bench-dmz-relay') },
          },
          airgapped: {
            manager: { url: `https://127.0.0.1:${agPort}/api`, apiKeyEnv: 'B_AG', caFile: `${dir}/sim/tls/ca.pem` },
            relays,
          },
          people: { operators: ['operator@big.example'] },
          upgrade: {
            verifyTimeout: '10m',
            pollInterval: '200ms',
            maxPollInterval: '2s',
            stages: { U5: { mode: MODE } },
            waves: { size: WAVE, concurrency: CONCURRENCY, failureThresholdPercent: 5, perRun: PER_RUN },
          },
        },
      ],
    },
    'bench config',
  );
  const env = {
    B_DMZ: randomBytes(12).toString('hex'),
    B_AG: randomBytes(12).toString('hex'),
    AIRGAP_LINK_KEY: randomBytes(32).toString('hex'),
  };
  let t = Date.now();
  // The vendor's default rate limit (500 requests/minute per key) stays on: paging keeps us under it.
  const sim = await startSimulator({ config, dataDir: dir, apiKeys: env, agentsPerRelay: AGENTS / RELAYS });
  const simStart = Date.now() - t;
  const snapshot = sim.control.snapshot().managers['big/airgapped']!;
  const agentIds = Object.values(snapshot.computers)
    .filter((c) => c.role === 'agent')
    .map((c) => c.id)
    .sort((a, b) => a - b);

  const targets = targetsFrom({ manager: '20.0.1000', relay: '20.0.1.100', agent: '20.0.1.100' });
  sim.control.setManagerVersion({ siteId: 'big', side: 'dmz', version: targets.manager });
  sim.control.setManagerVersion({ siteId: 'big', side: 'airgapped', version: targets.manager });
  sim.control.setAgentVersions({ siteId: 'big', side: 'dmz', computerIds: [11], version: targets.relay });
  sim.control.setAgentVersions({
    siteId: 'big',
    side: 'airgapped',
    computerIds: relays.map((r) => r.computerId),
    version: targets.relay,
  });

  t = Date.now();
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never,
  });
  const bundleMs = Date.now() - t;
  const memory = { baseRss: process.memoryUsage().rss, peakRss: 0, peakHeap: 0 };
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    memory.peakRss = Math.max(memory.peakRss, m.rss);
    memory.peakHeap = Math.max(memory.peakHeap, m.heapUsed);
  }, 200);
  const workerConnection = await NativeConnection.connect({ address: server.address });
  const outbox = OutboxMailer.inDataDir(dir, config.mail.from);
  const audit = new SqliteAuditStore(path.join(dir, 'audit.sqlite'));
  const workers = await createWorkerSet({
    config,
    connection: workerConnection,
    namespace: NAMESPACE,
    roles: { control: true, hosts: [], zones: [] },
    env,
    workflowBundle: { code: bundle.code },
    mailer: outbox,
    audit,
  });
  const running = workers.run();

  const id = `upgrade-big-bench-${Date.now()}`;
  const started = Date.now();
  const handle = await client.workflow.start('upgradeRolloutWorkflow', {
    taskQueue: config.temporal.taskQueue,
    workflowId: id,
    args: [{ site: 'big', targets, trigger: { who: 'bench', channel: 'cli' } }],
  });

  // The simulated people: a person upgrades each manual wave in PERSON_MS and confirms it; or a
  // tool upgrades the whole fleet, in id order, at a fixed rate (external mode).
  let simulatedMs = 0;
  let done = false;
  const result = handle.result() as Promise<RolloutResult>;
  void result.finally(() => (done = true));
  if (MODE === 'manual') {
    let lastWave = 0;
    while (!done) {
      const view = await handle.query(upgradeStateQuery).catch(() => undefined);
      const waiting = view?.agents.waveWaiting;
      if (waiting && waiting.wave > lastWave) {
        lastWave = waiting.wave;
        await sleep(PERSON_MS);
        simulatedMs += PERSON_MS;
        sim.control.setAgentVersions({
          siteId: 'big',
          side: 'airgapped',
          computerIds: waiting.agents.map((a) => a.id),
          version: targets.agent,
        });
        await handle.executeUpdate(confirmStageUpdate, { args: [{ stage: 'U5', by: 'person@big.example' }] });
      } else await sleep(100);
    }
  } else {
    const batch = WAVE;
    for (let i = 0; i < agentIds.length; i += batch) {
      await sleep(PERSON_MS);
      simulatedMs += PERSON_MS;
      sim.control.setAgentVersions({
        siteId: 'big',
        side: 'airgapped',
        computerIds: agentIds.slice(i, i + batch),
        version: targets.agent,
      });
    }
  }
  const outcome = await result;
  const wallMs = Date.now() - started;
  clearInterval(sampler);

  // History of every run of the rollout (continue-as-new) and of every child.
  const runs: { runId: string; events: number }[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${id}'` })) {
    const history = await client.workflow.getHandle(id, w.runId).fetchHistory();
    runs.push({ runId: w.runId, events: history.events?.length ?? 0 });
  }
  const childIds = [...Array.from({ length: outcome.agents.wavesStarted }, (_, i) => `${id}/U5-wave-${i + 1}`)];
  const childEvents: number[] = [];
  for (const childId of childIds) {
    const history = await client.workflow.getHandle(childId).fetchHistory();
    childEvents.push(history.events?.length ?? 0);
  }
  const auditRecords = (await audit.timeline(id)).length;

  const mb = (b: number) => `${Math.round(b / 1024 / 1024)} MB`;
  const overhead = wallMs - simulatedMs;
  const report = {
    agents: agentIds.length,
    mode: MODE,
    wave: WAVE,
    concurrency: CONCURRENCY,
    perRun: PER_RUN,
    outcome: outcome.state,
    verified: outcome.agents.verified,
    waves: outcome.agents.wavesDone,
    workflowRuns: runs.length,
    historyEventsPerRun: runs.map((r) => r.events),
    maxEventsPerRun: Math.max(...runs.map((r) => r.events)),
    childWorkflows: childEvents.length,
    maxEventsPerChild: Math.max(...childEvents),
    auditRecords,
    wallMs,
    simulatedUpgradeMs: simulatedMs,
    overheadMs: overhead,
    overheadPerWaveMs: Math.round(overhead / Math.max(1, outcome.agents.wavesDone)),
    overheadPerAgentMs: Number((overhead / agentIds.length).toFixed(2)),
    simulatorStartMs: simStart,
    workflowBundleMs: bundleMs,
    rssBeforeWorkers: mb(memory.baseRss),
    peakRss: mb(memory.peakRss),
    peakHeapUsed: mb(memory.peakHeap),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);

  workers.shutdown();
  await running;
  await workerConnection.close();
  await sim.stop();
  await outbox.close();
  await audit.close();
  await connection.close();
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

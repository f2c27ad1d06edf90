/**
 * What the cycle benchmarks share (bench/README.md, "Cycle"): their own Temporal dev server (the
 * project's startDevServer, SQLite in a temporary folder, namespace and search attributes by
 * ensureNamespace), the workflow bundle built from src/workflows, a simulated site like the tests'
 * one, and small statistics helpers. Nothing here is used by the test suite.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { SqliteAuditStore } from '../src/adapters/audit-store';
import { parseConfig, type AppConfig, type SiteConfig } from '../src/domain/config';
import { freePort, startDevServer } from '../src/runtime/dev-server';
import { installWorkerLogging } from '../src/runtime/logging';
import { ensureNamespace } from '../src/runtime/temporal-setup';
import { startSimulator, type RunningSimulator } from '../src/sim';
import { cycleStateQuery, type CycleInput, type CycleView } from '../src/workflows/cycle-messages';

export const NAMESPACE = 'airgap-bench';

/** The repository: where node_modules/@temporalio/worker is (the bench runs compiled elsewhere). */
export const REPO = path.resolve(path.dirname(require.resolve('@temporalio/worker/package.json')), '../../..');

export interface BenchTemporal {
  address: string;
  dir: string;
  /** The workflow bundle, written once; workers load it with `{ codePath }`. */
  bundlePath: string;
  client: Client;
  stop(): Promise<void>;
}

export async function startBenchTemporal(label: string): Promise<BenchTemporal> {
  installWorkerLogging({ AIRGAP_LOG_LEVEL: process.env.AIRGAP_LOG_LEVEL ?? 'ERROR' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `airgap-${label}-`));
  const server = await startDevServer({
    dbFile: path.join(dir, 'temporal.db'),
    port: await freePort(),
    logFile: path.join(dir, 'temporal.log'),
  });
  const connection = await Connection.connect({ address: server.address });
  await ensureNamespace(connection, NAMESPACE, 86_400_000);
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(REPO, 'src/workflows/index.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never,
  });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, bundle.code);
  return {
    address: server.address,
    dir,
    bundlePath,
    client: new Client({ connection, namespace: NAMESPACE }),
    async stop() {
      await connection.close();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface BenchSiteOptions {
  waits?: Record<string, unknown>;
  approval?: Record<string, unknown>;
  importDelayMs?: number;
  bundleSizeBytes?: number;
  rateLimitPerMinute?: number;
}

export interface BenchSite {
  dir: string;
  config: AppConfig;
  site: SiteConfig;
  env: NodeJS.ProcessEnv;
  sim: RunningSimulator;
  audit: SqliteAuditStore;
  startCycle(input?: Partial<CycleInput>): Promise<WorkflowHandle>;
  waitFor(handle: WorkflowHandle, test: (v: CycleView) => boolean, timeoutMs?: number): Promise<CycleView>;
  close(): Promise<void>;
}

/** One simulated site (one DMZ relay, one air-gapped relay) on `temporal`, without workers. */
export async function startBenchSite(temporal: BenchTemporal, options: BenchSiteOptions = {}): Promise<BenchSite> {
  const tag = `b${randomBytes(3).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `airgap-${tag}-`));
  const host = (name: string) => path.join(dir, 'hosts', name, 'opt', 'ds_agent');
  const [dmzPort, airgapPort] = [await freePort(), await freePort()];
  const manager = (port: number, keyEnv: string) => ({
    url: `https://127.0.0.1:${port}/api`,
    apiKeyEnv: keyEnv,
    caFile: path.join(dir, 'sim/tls/ca.pem'),
    requestTimeout: '30s',
  });
  const config = parseConfig(
    {
      dataDir: dir,
      temporal: { namespace: NAMESPACE, taskQueue: `${tag}-control` },
      sites: [
        {
          id: 'plant',
          name: 'Plant (bench)',
          dmz: {
            manager: manager(dmzPort, 'B_DMZ_KEY'),
            relay: { name: `${tag}-dmz-relay`, computerId: 11, installDir: host(`${tag}-dmz-relay`) },
          },
          airgapped: {
            manager: manager(airgapPort, 'B_AG_KEY'),
            relays: [{ name: `${tag}-ag-relay`, computerId: 21, installDir: host(`${tag}-ag-relay`) }],
          },
          people: {
            operators: ['operator@plant.example'],
            escalation: ['lead@plant.example'],
            approvers: ['approver@plant.example'],
          },
          waits: { reminderEvery: '1d', escalateAfter: '2d', deadline: '7d', pollInterval: '200ms', ...options.waits },
          approval: { policy: 'none', ...options.approval },
          steps: { import: 'automated' },
        },
      ],
    },
    `bench config ${tag}`,
  );
  const env: NodeJS.ProcessEnv = {
    B_DMZ_KEY: randomBytes(12).toString('hex'),
    B_AG_KEY: randomBytes(12).toString('hex'),
    AIRGAP_LINK_KEY: randomBytes(32).toString('hex'),
  };
  const sim = await startSimulator({
    config,
    dataDir: dir,
    apiKeys: env,
    importDelayMs: options.importDelayMs ?? 100,
    bundleSizeBytes: options.bundleSizeBytes,
    rateLimitPerMinute: options.rateLimitPerMinute,
  });
  const audit = new SqliteAuditStore(path.join(dir, 'audit.sqlite'));
  let n = 0;
  return {
    dir,
    config,
    site: config.sites[0]!,
    env,
    sim,
    audit,
    startCycle(input = {}) {
      return temporal.client.workflow.start('cycleWorkflow', {
        taskQueue: config.temporal.taskQueue,
        workflowId: `cycle-plant-${tag}-${++n}`,
        args: [{ site: 'plant', trigger: { who: 'bench@plant.example', channel: 'cli' }, ...input }],
      });
    },
    async waitFor(handle, test, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const view = await handle.query(cycleStateQuery).catch(() => undefined);
        if (view && test(view)) return view;
        if (Date.now() > until) {
          throw new Error(`${handle.workflowId} did not reach the expected state (last: ${view?.state})`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await sim.stop();
      await audit.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- statistics and output -------------------------------------------------------------------------

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const median = (samples: number[]) => percentile(samples, 50);
export const ms = (v: number) => `${v.toFixed(1)} ms`;
export const ratio = (ours: number, base: number) => `${(ours / base).toFixed(2)}x`;
export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Runs `work` over `items` with at most `limit` at a time. */
export async function inBatches<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]!);
      }
    }),
  );
  return results;
}

export function describeMachine(): string {
  return `node ${process.version}, ${os.cpus().length} cpus, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`;
}

/** Runs a bench's main, reporting a failure on stderr with exit code 1. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

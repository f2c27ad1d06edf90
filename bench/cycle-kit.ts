/**
 * What the cycle benchmarks share (bench/README.md, "Cycle"): their own Temporal dev server (the
 * project's startDevServer, SQLite in a temporary folder, namespace and search attributes by
 * ensureNamespace), the workflow bundle built from src/workflows, the tests' simulated site
 * (test/helpers/site-harness.ts), and small statistics helpers. Nothing here is used by the test suite.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { SqliteAuditStore } from '../src/adapters/audit-store';
import type { AppConfig, SiteConfig } from '../src/domain/config';
import { freePort, startDevServer } from '../src/runtime/dev-server';
import { installWorkerLogging } from '../src/runtime/logging';
import { ensureNamespace } from '../src/runtime/temporal-setup';
import { startSimulatedSite } from '../test/helpers/site-harness';
import type { RunningSimulator } from '../src/sim';
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

/**
 * `workflowsPath`: the bundle's entry, relative to the repository; default the project's workflows
 * (cycle-scale.ts bundles bench/baseline-workflows.ts, which adds its baseline to them).
 */
export async function startBenchTemporal(
  label: string,
  workflowsPath = 'src/workflows/index.ts',
): Promise<BenchTemporal> {
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
    workflowsPath: path.join(REPO, workflowsPath),
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

/** One simulated site (one DMZ relay, one air-gapped relay) on `temporal`, without workers: the tests' site harness. */
export async function startBenchSite(temporal: BenchTemporal, options: BenchSiteOptions = {}): Promise<BenchSite> {
  const site = await startSimulatedSite({
    tagPrefix: 'b',
    namespace: NAMESPACE,
    name: 'Plant (bench)',
    approvers: ['approver@plant.example'],
    requestTimeout: '30s',
    waits: { reminderEvery: '1d', escalateAfter: '2d', deadline: '7d', importTimeout: '1h', ...options.waits },
    ...(options.approval ? { approval: options.approval } : {}),
    simulator: {
      importDelayMs: options.importDelayMs ?? 100,
      bundleSizeBytes: options.bundleSizeBytes,
      rateLimitPerMinute: options.rateLimitPerMinute,
    },
  });
  const { config, tag } = site;
  let n = 0;
  return {
    ...site,
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
    close: () => site.close(),
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

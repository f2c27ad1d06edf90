/**
 * A whole site for cycle workflow tests: the shared simulated site (site-harness.ts) with real
 * workers on the test run's Temporal dev server, plus starting and watching cycles.
 */
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { AuditStore } from '../../src/adapters/audit-store';
import { parseConfig, type AppConfig } from '../../src/domain/config';
import { cycleStateQuery, type CycleInput, type CycleView } from '../../src/workflows/cycle-messages';
import { pollQuery } from './poll-query';
import { TEST_NAMESPACE, testTemporalAddress, testWorkflowBundlePath } from './env';
import { siteConfigDocument, startSiteOnTemporal, type SiteDocumentOptions, type SiteOnTemporal } from './site-harness';

export interface StackOptions extends Omit<SiteDocumentOptions, 'namespace'> {
  importDelayMs?: number;
  /** false: no in-process workers (the test runs them, e.g. in child processes). */
  workers?: boolean;
  /** The audit store the workers write (e.g. PostgreSQL); default a SQLite file in the stack's folder. */
  audit?: AuditStore;
}

export interface CycleStack extends SiteOnTemporal {
  startCycle(input?: Partial<CycleInput>): Promise<WorkflowHandle>;
  view(handle: WorkflowHandle): Promise<CycleView>;
  /** Polls the cycle until `test(view)` holds. */
  waitFor(handle: WorkflowHandle, test: (v: CycleView) => boolean, timeoutMs?: number): Promise<CycleView>;
}

export async function buildTestConfig(dir: string, tag: string, options: StackOptions = {}): Promise<AppConfig> {
  return parseConfig(await testConfigDocument(dir, tag, options), `test config ${tag}`);
}

/** The configuration as an operator would write it (YAML-able), for workers in child processes. */
export async function testConfigDocument(
  dir: string,
  tag: string,
  options: StackOptions = {},
): Promise<Record<string, unknown>> {
  return siteConfigDocument(dir, tag, { ...options, namespace: TEST_NAMESPACE });
}

export async function startCycleStack(options: StackOptions = {}): Promise<CycleStack> {
  const { importDelayMs, audit, workers, ...document } = options;
  const site = await startSiteOnTemporal({
    ...document,
    tagPrefix: 't',
    namespace: TEST_NAMESPACE,
    simulator: { importDelayMs: importDelayMs ?? 200 },
    ...(audit ? { audit } : {}),
    address: testTemporalAddress(),
    workflowBundlePath: testWorkflowBundlePath(),
    workers: workers !== false,
    auditMaintenance: true,
  });
  const methods: Omit<CycleStack, keyof SiteOnTemporal> = {
    startCycle(input = {}) {
      return site.client.workflow.start('cycleWorkflow', {
        taskQueue: site.config.temporal.taskQueue,
        workflowId: `cycle-plant-${site.tag}-${randomBytes(3).toString('hex')}`,
        args: [{ site: 'plant', trigger: { who: 'test@plant.example', channel: 'cli' }, ...input }],
      });
    },
    view: (handle) => handle.query(cycleStateQuery),
    waitFor: (handle, test, timeoutMs) => pollQuery(handle, cycleStateQuery, test, timeoutMs),
  };
  return Object.assign(site, methods);
}

/**
 * A whole site for upgrade-rollout tests: the shared simulated site with real workers
 * (site-harness.ts), plus the site's `upgrade` block, more
 * agents, and "a person" who performs upgrades through the simulator's SimControl.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { SqliteAuditStore } from '../../src/adapters/audit-store';
import { targetsFrom, type UpgradeTargets } from '../../src/domain/upgrade-stages';
import {
  confirmStageUpdate,
  upgradeStateQuery,
  type RolloutInput,
  type UpgradeView,
} from '../../src/workflows/upgrade-messages';
import type { upgradeRolloutWorkflow } from '../../src/workflows/upgrade-rollout';
import type { StackOptions } from './cycle-stack';
import { pollQuery } from './poll-query';
import { TEST_NAMESPACE, testTemporalAddress, testWorkflowBundlePath } from './env';
import { startSiteOnTemporal, type SiteOnTemporal } from './site-harness';

export interface UpgradeStackOptions extends Pick<
  StackOptions,
  'relays' | 'approvers' | 'waits' | 'mail' | 'approval'
> {
  agentsPerRelay?: number;
  /** The site's `upgrade` block, as an operator writes it. */
  upgrade?: Record<string, unknown>;
}

export type Rollout = WorkflowHandle<typeof upgradeRolloutWorkflow>;

export interface UpgradeStack extends SiteOnTemporal<SqliteAuditStore> {
  /** Air-gapped agent ids, in id order. */
  agentIds(): number[];
  /** `workflowId`: a fixed id, e.g. for a history recorded under its file name. */
  start(targets: Parameters<typeof targetsFrom>[0], by?: string, workflowId?: string): Promise<Rollout>;
  view(handle: WorkflowHandle): Promise<UpgradeView>;
  waitFor(handle: WorkflowHandle, test: (v: UpgradeView) => boolean, timeoutMs?: number): Promise<UpgradeView>;
  /** Waits until the rollout asks a person for the manual step `step` (e.g. "U1-upgrade"). */
  waitForStep(handle: WorkflowHandle, step: string, timeoutMs?: number): Promise<UpgradeView>;
  confirm(handle: WorkflowHandle, stage: string, by?: string): Promise<string>;
  /** The refusal's reason, or "accepted" when the Update was accepted. */
  attempt(handle: WorkflowHandle, run: (h: WorkflowHandle) => Promise<unknown>): Promise<string>;
  /** The person (or tool) who performs upgrades, in the simulated world. */
  person: {
    upgradeManager(side: 'dmz' | 'airgapped', version: string): void;
    upgradeComputers(side: 'dmz' | 'airgapped', ids: number[], version: string): void;
    /** Everything of the site to these targets (a site already upgraded by hand). */
    upgradeAll(targets: UpgradeTargets, except?: number[]): void;
  };
}

export async function startUpgradeStack(options: UpgradeStackOptions = {}): Promise<UpgradeStack> {
  const { agentsPerRelay, ...document } = options;
  const harness = await startSiteOnTemporal({
    ...document,
    tagPrefix: 'u',
    namespace: TEST_NAMESPACE,
    simulator: {
      importDelayMs: 200,
      agentsPerRelay: agentsPerRelay ?? 3,
      // Polls every few hundred ms in tests: the vendor's rate limit is not what is under test here.
      rateLimitPerMinute: 100_000,
    },
    address: testTemporalAddress(),
    workflowBundlePath: testWorkflowBundlePath(),
  });
  const { site, client, config, tag } = harness;
  let started = 0;

  const methods: Omit<UpgradeStack, keyof SiteOnTemporal> = {
    agentIds() {
      const computers = Object.values(harness.sim.control.snapshot().managers[`${site.id}/airgapped`]!.computers);
      return computers
        .filter((c) => c.role === 'agent')
        .map((c) => c.id)
        .sort((a, b) => a - b);
    },
    start(targets, by = 'lead@plant.example', workflowId?: string) {
      const input: RolloutInput = {
        site: site.id,
        targets: targetsFrom(targets),
        trigger: { who: by, channel: 'cli' },
      };
      return client.workflow.start<typeof upgradeRolloutWorkflow>('upgradeRolloutWorkflow', {
        taskQueue: config.temporal.taskQueue,
        workflowId: workflowId ?? `upgrade-plant-${tag}-${++started}`,
        args: [input],
      });
    },
    view: (handle) => handle.query(upgradeStateQuery),
    waitFor: (handle, test, timeoutMs) => pollQuery(handle, upgradeStateQuery, test, timeoutMs),
    waitForStep: (handle, step, timeoutMs) =>
      stack.waitFor(handle, (v) => v.waitingFor?.what === `manual:${step}`, timeoutMs),
    async confirm(handle, stage, by = 'operator@plant.example') {
      const answer = await handle.executeUpdate(confirmStageUpdate, { args: [{ stage, by }] });
      return answer.message;
    },
    async attempt(handle, run) {
      try {
        await run(handle);
        return 'accepted';
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) return (err.cause as Error).message;
        throw err;
      }
    },
    person: {
      upgradeManager: (side, version) => harness.sim.control.setManagerVersion({ siteId: site.id, side, version }),
      upgradeComputers: (side, ids, version) =>
        harness.sim.control.setAgentVersions({ siteId: site.id, side, computerIds: ids, version }),
      upgradeAll(targets, except = []) {
        stack.person.upgradeManager('dmz', targets.manager);
        stack.person.upgradeManager('airgapped', targets.manager);
        stack.person.upgradeComputers('dmz', [site.dmz.relay.computerId], targets.relay);
        stack.person.upgradeComputers(
          'airgapped',
          site.airgapped.relays.map((r) => r.computerId),
          targets.relay,
        );
        stack.person.upgradeComputers(
          'airgapped',
          stack.agentIds().filter((a) => !except.includes(a)),
          targets.agent,
        );
      },
    },
  };
  const stack: UpgradeStack = Object.assign(harness, methods);
  return stack;
}

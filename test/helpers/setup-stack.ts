/**
 * A simulated site for the rule transfer and hardening tests: the cycle stack (simulator, real
 * workers on the test run's Temporal dev server, outbox, audit) plus a worker on the air-gapped
 * manager's host, which runs the simulated dsm_c and checks the .dsru import folder.
 */
import { pollQuery } from './poll-query';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { createDeepSecurityApi, type DeepSecurityApi } from '../../src/adapters/deep-security-api';
import type { SimManager } from '../../src/sim/state';
import { startCycleStack, type CycleStack, type StackOptions } from './cycle-stack';

export interface SetupStack extends CycleStack {
  /** The folder on the manager host where carried .dsru files go. */
  importFolder: string;
  managerHost: string;
  /** The air-gapped manager's API, as a person in its console would change it. */
  agApi: DeepSecurityApi;
  /** The simulated air-gapped manager, as saved now. */
  agManager(): SimManager;
  start(workflowType: string, prefix: string, input: Record<string, unknown>): Promise<WorkflowHandle>;
  waitForView<V extends { state: string; timeline: { summary: string }[] }>(
    handle: WorkflowHandle,
    query: QueryDefinition<V>,
    test: (v: V) => boolean,
    timeoutMs?: number,
  ): Promise<V>;
}

export async function startSetupStack(
  options: StackOptions & { hardening?: Record<string, unknown>; withManagerHost?: boolean } = {},
): Promise<SetupStack> {
  let importFolder = '';
  let managerHost = '';
  const { hardening, withManagerHost = true, ...rest } = options;
  const stack = await startCycleStack({
    ...rest,
    editSite: (site, { tag, dir }) => {
      managerHost = `${tag}-ag-manager`;
      const hostDir = path.join(dir, 'hosts', managerHost);
      importFolder = path.join(hostDir, 'var', 'dsru-import');
      const airgapped = site.airgapped as { manager: Record<string, unknown> };
      if (withManagerHost) {
        airgapped.manager.host = managerHost;
        airgapped.manager.dsmCPath = path.join(hostDir, 'opt', 'dsm', 'dsm_c');
        site.rules = { importFolder };
      }
      if (hardening) site.hardening = hardening;
      rest.editSite?.(site, { tag, dir });
    },
  });
  const setup = stack as SetupStack;
  setup.importFolder = importFolder;
  setup.managerHost = managerHost;
  setup.agApi = createDeepSecurityApi(stack.site.airgapped.manager, stack.env[stack.site.airgapped.manager.apiKeyEnv]);
  setup.agManager = () => stack.sim.control.snapshot().managers['plant/airgapped']!;
  setup.start = (workflowType, prefix, input) =>
    stack.client.workflow.start(workflowType, {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId: `${prefix}-plant-${randomBytes(4).toString('hex')}`,
      args: [{ site: 'plant', trigger: { who: 'operator@plant.example', channel: 'cli' }, ...input }],
    });
  setup.waitForView = pollQuery;
  return setup;
}

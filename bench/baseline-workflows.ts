/**
 * The workflow bundle of bench/cycle-scale.ts: every workflow of src/workflows, plus the bench's
 * baseline, which is not product code and so lives here, not in src/ (bench/README.md, "500 cycles
 * waiting on one worker"). The baseline waits for one signal, as a cycle waits for "file copied",
 * then runs one activity on the control worker (the same `loadSitePlan` a cycle starts with, with
 * the cycle's options) and ends: the least a drained workflow can cost on the same workers.
 */
import { condition, defineQuery, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { createControlActivities } from '../src/activities/control-activities';
import { MANAGER_RETRY } from '../src/workflows/activity-options';

export * from '../src/workflows';

export const baselineGoSignal = defineSignal('benchBaselineGo');
/** True while the workflow waits for its signal. */
export const baselineWaitingQuery = defineQuery<boolean>('benchBaselineWaiting');

const control = proxyActivities<ReturnType<typeof createControlActivities>>({
  startToCloseTimeout: '1m',
  retry: MANAGER_RETRY,
});

export async function oneActivityBaselineWorkflow(input: { site: string }): Promise<string> {
  let go = false;
  setHandler(baselineGoSignal, () => void (go = true));
  setHandler(baselineWaitingQuery, () => !go);
  await condition(() => go);
  const plan = await control.loadSitePlan({ site: input.site });
  return plan.site;
}

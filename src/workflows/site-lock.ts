/**
 * One open cycle per site, enforced by Temporal itself: every cycle starts this child under the
 * fixed id `site-lock-cycle-<control queue>-<site>`, and Temporal refuses a second running
 * workflow with the same id. (The control queue names the deployment, so two deployments sharing
 * a namespace — or two test stacks — do not lock each other out.) A cycle that cannot take the lock ends at once without bothering anyone. The lock ends when
 * its holder releases it, or with the holder (parent close policy TERMINATE), whatever happens.
 *
 * Visibility queries (the CLI's check) are eventually consistent; this is not.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  condition,
  defineSignal,
  ParentClosePolicy,
  setHandler,
  startChild,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';

export interface SiteLockInput {
  site: string;
  holder: string;
}

export const releaseSiteLockSignal = defineSignal('releaseSiteLock');

export const siteLockId = (site: string, controlQueue: string) => `site-lock-cycle-${controlQueue}-${site}`;

export async function siteLockWorkflow(_input: SiteLockInput): Promise<void> {
  let released = false;
  setHandler(releaseSiteLockSignal, () => {
    released = true;
  });
  await condition(() => released);
}

/**
 * Takes the site's cycle lock for `holder` (a cycle, or an intake on the air-gapped side); undefined
 * when another run holds it. The lock ends with its holder (TERMINATE) if it is never released.
 */
export async function takeSiteLock(
  site: string,
  controlQueue: string,
  holder: string,
): Promise<ChildWorkflowHandle<typeof siteLockWorkflow> | undefined> {
  try {
    return await startChild(siteLockWorkflow, {
      workflowId: siteLockId(site, controlQueue),
      args: [{ site, holder }],
      parentClosePolicy: ParentClosePolicy.TERMINATE,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return undefined;
    throw err;
  }
}

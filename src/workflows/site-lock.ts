/**
 * One open cycle per site, enforced by Temporal itself: every cycle starts this child under the
 * fixed id `site-lock-cycle-<control queue>-<site>`, and Temporal refuses a second running
 * workflow with the same id. (The control queue names the deployment, so two deployments sharing
 * a namespace — or two test stacks — do not lock each other out.) A cycle that cannot take the lock ends at once without bothering anyone. The lock ends when
 * its holder releases it, or with the holder (parent close policy TERMINATE), whatever happens.
 *
 * Visibility queries (the CLI's check) are eventually consistent; this is not.
 */
import { condition, defineSignal, setHandler } from '@temporalio/workflow';

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

/**
 * Verification of one upgrade step: polls a manager until the hosts of a stage (a manager, the
 * relays, or one wave of agents) report at least the target version, or the time is up. Each poll
 * is one short activity; the pause between polls grows by half up to a maximum, on durable
 * timers. It runs as a child of the rollout, so a stage's polls (and, in U5, those of every wave)
 * stay out of the rollout's own history, and a wave can be verified while the next one is
 * prepared.
 */
import { getExternalWorkflowHandle, patched, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { createUpgradeActivities, VersionCheck, VersionSubject } from '../activities/upgrade-activities';
import type { ManagerSide } from '../activities/types';
import { lagText, pollDelay } from '../domain/upgrade-stages';
import { verifyProgressSignal } from './upgrade-messages';

type UpgradeActivities = ReturnType<typeof createUpgradeActivities>;

// A manager that does not answer is retried with back-off; a permanent answer (auth, unknown
// computer) fails the verification at once, with the manager's message.
export const UPGRADE_MANAGER_RETRY = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 8,
  nonRetryableErrorTypes: ['PermanentApiError', 'UnknownSite'],
};
// One poll pages at most one wave of computers: minutes would mean the manager is stuck.
const POLL_TIMEOUT = '2m';

export interface VerifyInput {
  site: string;
  side: ManagerSide;
  /** The queue of the worker that reaches this manager. */
  queue: string;
  subject: VersionSubject;
  target: string;
  pollInterval: number;
  maxPollInterval: number;
  /** How long the hosts may take to report the target. */
  timeout: number;
}

export interface VerifyResult extends VersionCheck {
  reached: boolean;
  polls: number;
  waitedMs: number;
}

export async function upgradeVerifyWorkflow(input: VerifyInput): Promise<VerifyResult> {
  const manager = proxyActivities<UpgradeActivities>({
    taskQueue: input.queue,
    startToCloseTimeout: POLL_TIMEOUT,
    retry: UPGRADE_MANAGER_RETRY,
  });
  const startedAt = Date.now();
  // The rollout shows what the hosts report while this waits ("reports X, expects Y"): each new
  // reading is signalled to it (verifications started before this existed do not).
  const parent = workflowInfo().parent;
  const report = parent !== undefined && patched('verify-reports-progress');
  let reported: string | undefined;
  for (let poll = 0; ; poll++) {
    const seen = await manager.readVersions({
      site: input.site,
      side: input.side,
      subject: input.subject,
      target: input.target,
    });
    const waitedMs = Date.now() - startedAt;
    const text = seen.behindCount === 0 ? undefined : lagText(seen.behind, seen.behindCount, input.target, 5);
    if (report && text !== undefined && text !== reported) {
      reported = text;
      try {
        await getExternalWorkflowHandle(parent!.workflowId).signal(verifyProgressSignal, {
          child: workflowInfo().workflowId,
          text,
        });
      } catch {
        // A rollout that has ended no longer shows anything: nothing to tell it.
      }
    }
    if (seen.behindCount === 0 || waitedMs >= input.timeout) {
      return { ...seen, reached: seen.behindCount === 0, polls: poll + 1, waitedMs };
    }
    await sleep(Math.min(pollDelay(poll, input.pollInterval, input.maxPollInterval), input.timeout - waitedMs));
  }
}

/**
 * The steps every stage of an upgrade rollout is made of: ask a person (approval, upgrade, wave),
 * verify through a child workflow, and record a stage as verified or failed with its mails. Used by
 * one stage (upgrade-stage.ts) and by the agents' waves (upgrade-waves.ts).
 */
import { CancellationScope, condition, executeChild, proxyActivities } from '@temporalio/workflow';
import type { createUpgradeActivities, VersionSubject } from '../activities/upgrade-activities';
import type { ManagerSide } from '../activities/types';
import { formatDuration } from '../domain/duration';
import type { StepText } from '../domain/upgrade-instructions';
import {
  lagText,
  recordSeen,
  STAGE_SPECS,
  stageIndex,
  stageLabel,
  UPGRADE_STAGES,
  type StageId,
} from '../domain/upgrade-stages';
import type { Asking, RolloutState } from './upgrade-rollout-state';
import { UPGRADE_MANAGER_RETRY, upgradeVerifyWorkflow, type VerifyResult } from './upgrade-verify';

type UpgradeActivities = ReturnType<typeof createUpgradeActivities>;

// Counting or paging thousands of agents takes seconds; minutes would mean the manager is stuck.
export const managerProxy = (taskQueue: string) =>
  proxyActivities<UpgradeActivities>({ taskQueue, startToCloseTimeout: '5m', retry: UPGRADE_MANAGER_RETRY });

export const ABORTED: unique symbol = Symbol('aborted');

export type StageOutcome = 'verified' | 'failed' | 'aborted' | 'continue';
export type Asked =
  | { outcome: 'done'; by: string }
  | { outcome: 'aborted' | 'stopped' | 'deadline' }
  | { outcome: 'refused'; message: string };

export const relayIds = (r: RolloutState) => r.plan!.relays.map((x) => x.computerId);

/** Runs `work` until it settles or the rollout is aborted; an abort cancels it (activities, children). */
export async function untilAborted<T>(r: RolloutState, work: () => Promise<T>): Promise<T | typeof ABORTED> {
  if (r.aborted()) return ABORTED;
  const scope = new CancellationScope();
  const running = scope.run(work);
  const winner = await Promise.race([running, condition(r.aborted).then((): typeof ABORTED => ABORTED)]);
  if (winner === ABORTED) {
    scope.cancel();
    await running.catch(() => undefined);
  }
  return winner;
}

/**
 * A guided step a person confirms: RunKit's manual step (mail with a "done" link, reminders,
 * escalation, deadline). The CLI's confirmStageUpdate ends the same wait as the link does.
 */
export async function ask(
  r: RolloutState,
  { stage: s, kind, step }: Asking,
  text: StepText,
  to: string[],
  stopWaiting: () => boolean = () => false,
): Promise<Asked> {
  r.asking = { stage: s, step, kind };
  // A stage's approval counts only with a proof the site accepts (issue 14), by link or CLI alike.
  if (kind === 'approval') r.kit.approvalStep(step);
  try {
    await r.kit.manualStep(
      { step, title: text.title, instructions: text.instructions, to },
      () => r.confirmed.has(step) || r.aborted() || stopWaiting(),
    );
  } finally {
    r.asking = undefined;
  }
  const by = r.confirmed.get(step) ?? r.kit.manualStepDoneBy(step);
  if (by) {
    // A link only reaches approvers, but a "done" can also be sent by hand: check who it was.
    if (kind === 'approval' && !r.isApprover(by)) {
      return { outcome: 'refused', message: `the approval of ${s} came from ${by}, who is not an approver` };
    }
    return { outcome: 'done', by };
  }
  if (r.aborted()) return { outcome: 'aborted' };
  return { outcome: stopWaiting() ? 'stopped' : 'deadline' };
}

/** The stage's outcome when a person did not confirm `what`. */
export function settleAsk(
  r: RolloutState,
  s: StageId,
  asked: Asked,
  what: string,
): Promise<StageOutcome> | StageOutcome {
  if (asked.outcome === 'aborted' || asked.outcome === 'stopped') return 'aborted';
  if (asked.outcome === 'refused') return fail(r, s, asked.message);
  return fail(
    r,
    s,
    `nobody confirmed ${what} of ${s} before the deadline (${formatDuration(r.plan!.waits.deadline)} after the request)`,
  );
}

/** Halts the rollout at `s`: nothing moves on by itself; the operators are told how to go on. */
export async function fail(r: RolloutState, s: StageId, message: string): Promise<'failed'> {
  const { kit, id } = r;
  const during = r.stage(s).status;
  r.move(s, 'failed', message);
  kit.note('stage.failed', `${stageLabel(s)} failed while ${during}: ${message}`);
  await kit.audit('stage.failed', { stage: s, during, message, attempt: r.stage(s).attempts });
  kit.notify('upgrade-stage', r.plan!.people.operators, `${s} failed`, {
    step: { id: s, title: stageLabel(s), instructions: [] },
    outcome: 'failed',
    body:
      `${message}\n\nThe rollout is halted; nothing moves on by itself. ` +
      `Retry the stage (airgap upgrade retry ${id} --stage ${s} --by <you>) ` +
      `or abort the rollout (airgap upgrade abort ${id} --by <you> --reason <why>).`,
  });
  return 'failed';
}

export async function verified(r: RolloutState, s: StageId, seen: string, detail: string): Promise<'verified'> {
  const { kit } = r;
  r.stages = recordSeen(r.stages, s, { after: seen });
  r.move(s, 'verified');
  const next = UPGRADE_STAGES[stageIndex(s) + 1];
  kit.note('stage.verified', `${stageLabel(s)} verified: ${detail}`);
  await kit.audit('stage.verified', {
    stage: s,
    target: r.stage(s).target,
    before: r.stage(s).before,
    after: seen,
    detail,
  });
  kit.notify('upgrade-stage', r.plan!.people.operators, `${s} verified`, {
    step: { id: s, title: stageLabel(s), instructions: [] },
    outcome: 'completed',
    body: `${detail}${next ? `\nNext stage: ${stageLabel(next)}.` : ''}`,
  });
  return 'verified';
}

/** Polls the manager of `s` in a child workflow until `subject` reports the stage's target, or time is up. */
export function verifyChild(
  r: RolloutState,
  s: StageId,
  workflowId: string,
  subject: VersionSubject,
): Promise<VerifyResult> {
  const plan = r.plan!;
  const u = plan.upgrade!;
  const side: ManagerSide = STAGE_SPECS[s].side;
  return executeChild(upgradeVerifyWorkflow, {
    workflowId,
    args: [
      {
        site: plan.site,
        side,
        queue: side === 'dmz' ? plan.queues.dmzManager : plan.queues.airgappedManager,
        subject,
        target: r.stage(s).target,
        pollInterval: u.pollInterval,
        maxPollInterval: u.maxPollInterval,
        timeout: u.verifyTimeout,
      },
    ],
  });
}

export function behindText(result: VerifyResult, target: string): string {
  return lagText(result.behind, result.behindCount, target);
}

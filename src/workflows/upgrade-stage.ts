/**
 * One stage of an upgrade rollout: precheck (versions read from the managers, hosts reachable,
 * earlier stages still at their targets), optional approval, the upgrade (a guided manual step,
 * or external), verification through the manager API, optional soak. U5 runs its precheck and
 * approval here, then hands over to its waves (upgrade-waves.ts).
 */
import { condition, isCancellation } from '@temporalio/workflow';
import type { VersionSubject } from '../activities/upgrade-activities';
import { formatDuration } from '../domain/duration';
import { approvalText, upgradeText } from '../domain/upgrade-instructions';
import {
  precheckVerdict,
  recordSeen,
  STAGE_SPECS,
  stageIndex,
  stepIdOf,
  UPGRADE_STAGES,
  type PrecheckVerdict,
  type StageId,
  type VersionReading,
} from '../domain/upgrade-stages';
import { describeFailure } from './activity-options';
import type { RolloutState } from './upgrade-rollout-state';
import {
  ABORTED,
  ask,
  behindText,
  fail,
  managerProxy,
  relayIds,
  settleAsk,
  untilAborted,
  verified,
  verifyChild,
  type StageOutcome,
} from './upgrade-steps';
import type { VerifyResult } from './upgrade-verify';
import { rollOutAgents } from './upgrade-waves';

const hostsOf = (r: RolloutState, s: StageId) =>
  s === 'U2' ? [r.plan!.dmzRelay.name] : s === 'U4' ? r.plan!.relays.map((x) => x.name) : [];

/** What the managers report for `s` and every stage before it; for U5, the agents counted. */
async function precheck(r: RolloutState, s: StageId): Promise<PrecheckVerdict> {
  const p = r.plan!;
  const index = stageIndex(s);
  const dmz = await managerProxy(p.queues.dmzManager).readManagerSide({
    site: p.site,
    side: 'dmz',
    computerIds: [p.dmzRelay.computerId],
  });
  const ag =
    index >= 2
      ? await managerProxy(p.queues.airgappedManager).readManagerSide({
          site: p.site,
          side: 'airgapped',
          computerIds: relayIds(r),
        })
      : undefined;
  const readingsOf = (x: StageId): VersionReading[] =>
    x === 'U1'
      ? [dmz.manager]
      : x === 'U2'
        ? dmz.computers
        : x === 'U3'
          ? [ag!.manager]
          : x === 'U4'
            ? ag!.computers
            : [];
  const earlier = UPGRADE_STAGES.slice(0, index).map((x) => ({ stage: x, readings: readingsOf(x) }));
  const targets = r.input.targets;
  if (s !== 'U5') return precheckVerdict({ stage: s, targets, earlier, current: readingsOf(s) });
  const count = await managerProxy(p.queues.airgappedManager).countAgents({
    site: p.site,
    excludeIds: relayIds(r),
    target: r.stage('U5').target,
  });
  r.agents.total = count.total;
  r.agents.atTargetBefore ??= count.atTarget;
  return precheckVerdict({ stage: s, targets, earlier, current: [], agents: count });
}

/** One attempt at stage `s`, from its precheck to verified, failed (halted) or aborted. */
export async function runStage(r: RolloutState, s: StageId): Promise<StageOutcome> {
  const { kit } = r;
  r.move(s, 'prechecking');
  const attempt = r.stage(s).attempts;
  const settings = r.settingsOf(s);
  const target = r.stage(s).target;
  await kit.audit('stage.started', { stage: s, target, attempt, mode: settings.mode, approval: settings.approval });

  let verdict: PrecheckVerdict;
  try {
    verdict = await precheck(r, s);
  } catch (err) {
    if (isCancellation(err)) throw err;
    return fail(r, s, `precheck: ${describeFailure(err)}`);
  }
  kit.note(
    'stage.prechecked',
    `${s}: ${verdict.seen}${verdict.problems.length ? `; ${verdict.problems.join('; ')}` : ''}`,
  );
  await kit.audit('stage.prechecked', { stage: s, ...verdict });
  if (!verdict.ok) return fail(r, s, `precheck: ${verdict.problems.join('; ')}`);
  r.stages = recordSeen(r.stages, s, { before: verdict.seen });
  if (r.aborted()) return 'aborted';
  if (verdict.atTarget)
    return verified(r, s, verdict.seen, `already at ${target} or newer (${verdict.seen}); nothing to upgrade`);

  const context = { rolloutId: r.id, stage: s, target, seen: verdict.seen, hosts: hostsOf(r, s) };
  if (settings.approval) {
    r.move(s, 'awaiting-approval');
    const step = stepIdOf(s, 'approval', attempt);
    const asked = await ask(r, { stage: s, kind: 'approval', step }, approvalText(context), r.plan!.people.approvers);
    if (asked.outcome !== 'done') return settleAsk(r, s, asked, 'the approval');
  }
  if (s === 'U5') {
    r.move(s, 'rolling-out');
    return rollOutAgents(r);
  }
  if (settings.mode === 'manual') {
    r.move(s, 'awaiting-upgrade');
    const step = stepIdOf(s, 'upgrade', attempt);
    const asked = await ask(r, { stage: s, kind: 'upgrade', step }, upgradeText(context), r.plan!.people.operators);
    if (asked.outcome !== 'done') return settleAsk(r, s, asked, 'the upgrade');
  }
  return verifyAndSoak(r, s, attempt);
}

/** Verifies `s` at its target through the manager, then lets it soak before the next stage. */
async function verifyAndSoak(r: RolloutState, s: StageId, attempt: number): Promise<StageOutcome> {
  const target = r.stage(s).target;
  const manual = r.settingsOf(s).mode === 'manual';
  r.move(s, 'verifying');
  const subject: VersionSubject =
    STAGE_SPECS[s].component === 'manager'
      ? { kind: 'manager' }
      : { kind: 'computers', ids: s === 'U2' ? [r.plan!.dmzRelay.computerId] : relayIds(r) };
  let result: VerifyResult | typeof ABORTED;
  try {
    result = await untilAborted(r, () => verifyChild(r, s, r.verifyIdOf(s, attempt), subject));
  } catch (err) {
    if (isCancellation(err) && !r.aborted()) throw err;
    return fail(r, s, `verification: ${describeFailure(err)}`);
  }
  if (result === ABORTED) return 'aborted';
  if (!result.reached) {
    return fail(
      r,
      s,
      `not at ${target} within ${formatDuration(r.plan!.upgrade!.verifyTimeout)}${manual ? ' of the confirmation' : ''}: ${behindText(result, target)}`,
    );
  }
  const soak = r.soakOf(s);
  if (soak > 0) {
    r.stages = recordSeen(r.stages, s, { after: result.seen });
    r.move(s, 'soaking');
    r.kit.note(
      'stage.soaking',
      `${s} reports ${result.seen}; soaking for ${formatDuration(soak)} before the next stage`,
    );
    if (await condition(r.aborted, soak)) return 'aborted';
  }
  return verified(r, s, result.seen, `${result.seen} (was ${r.stage(s).before ?? 'unknown'}; target ${target})`);
}

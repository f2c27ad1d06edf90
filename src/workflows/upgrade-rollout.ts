/**
 * One upgrade rollout of one site to target versions, in the strict DMZ-first order
 * (airgap-procedure.md, "U"): U1 DMZ Manager (+ database) → U2 DMZ Relay → U3 air-gapped Manager
 * (+ database) → U4 air-gapped Relay(s) → U5 air-gapped Agents, in waves.
 *
 * Each stage: precheck (versions read from the managers, hosts reachable, earlier stages still at
 * their targets), optional approval, the upgrade (always a guided manual step for managers; manual
 * or external for relays and agents), verification through the manager API (a child workflow that
 * polls with back-off), optional soak. The order lives in src/domain/upgrade-stages.ts: every
 * move goes through `moveStage`, which refuses to move a stage before the earlier ones are
 * verified. A failure halts the rollout in a state that says which stage, what failed and the
 * options (retry the stage, or abort with a reason); nothing moves on by itself.
 *
 * U5 pages the agents from the air-gapped manager one wave at a time, verifies each wave in a
 * child workflow, stops when a wave fails beyond the threshold, and continues as new every
 * `waves.perRun` waves, so thousands of agents never grow one history without bound.
 */
import { proofRules } from './run-kit';
import {
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  startChild,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createControlActivities } from '../activities/control-activities';
import { compareVersions } from '../domain/versions';
import {
  endStages,
  ORDER_TEXT,
  stageLabel,
  targetsRefusal,
  UPGRADE_STAGES,
  type StageId,
} from '../domain/upgrade-stages';
import { describeFailure } from './activity-options';
import {
  rolloutLockId,
  type RolloutCarry,
  type RolloutEnd,
  type RolloutInput,
  type RolloutResult,
} from './upgrade-messages';
import { RolloutState } from './upgrade-rollout-state';
import { releaseSiteLockSignal, siteLockWorkflow } from './site-lock';
import { runStage } from './upgrade-stage';
import { UPGRADE_MANAGER_RETRY } from './upgrade-verify';
import { rollOutAgents } from './upgrade-waves';

export * from './upgrade-messages';

type ControlActivities = ReturnType<typeof createControlActivities>;

const control = proxyActivities<ControlActivities>({ startToCloseTimeout: '1m', retry: UPGRADE_MANAGER_RETRY });

/** The timeline entries handed to the next run when the rollout continues as new; the audit has all. */
const CARRIED_TIMELINE = 40;

/** Changes made after rollouts were already running: runs started before each keep the old path. */
interface Changes {
  targetsPerComponent: boolean;
  siteLock: boolean;
  abortBeforeContinue: boolean;
}

export async function upgradeRolloutWorkflow(input: RolloutInput): Promise<RolloutResult> {
  // Decided once before this run's first command (a patch marker after a local activity does not
  // replay reliably); older runs take the old path.
  const changes: Changes = {
    targetsPerComponent: patched('upgrade-targets-per-component'),
    siteLock: patched('rollout-site-lock'),
    abortBeforeContinue: patched('rollout-abort-before-continue-as-new'),
  };
  const r = new RolloutState(input);
  r.listen();
  try {
    const refused = input.carried ? await resume(r) : await begin(r, changes);
    if (refused) return refused;
    r.kit.audience = {
      siteName: r.plan!.name,
      escalation: r.plan!.people.escalation,
      waits: r.plan!.waits,
      ...proofRules(r.plan!.approval),
    };
    // U1 → U5, strictly in order: a stage begins only once every stage before it is verified
    // (`moveStage` refuses anything else), and a failed stage halts the rollout until retried.
    let continuing = false;
    for (const s of UPGRADE_STAGES) {
      const ending = await completeStage(r, s, changes);
      if (ending === 'continue') {
        continuing = true;
        break;
      }
      if (ending) return ending;
    }
    if (!continuing) return await finish(r, 'completed');
  } catch (err) {
    if (isCancellation(err)) {
      r.abortRequest ??= { by: 'temporal', reason: 'the workflow was cancelled from Temporal' };
      return CancellationScope.nonCancellable(() => finish(r, 'aborted', r.abortRequest!.reason));
    }
    const reason = describeFailure(err);
    return CancellationScope.nonCancellable(() => finish(r, 'failed', reason));
  }
  // Outside the try: continue-as-new ends this run by throwing, which is not a failure.
  return continueAsNew<typeof upgradeRolloutWorkflow>({ ...input, carried: carry(r) });
}

/** A new rollout: checks its targets, loads the site's plan and takes the site's rollout lock. */
async function begin(r: RolloutState, changes: Changes): Promise<RolloutResult | undefined> {
  const { input, kit, id } = r;
  await kit.audit('upgrade.started', { targets: input.targets, order: ORDER_TEXT }, r.trigger);
  // Each component's own format and relays ≥ agents (runs started before this check keep the old one).
  const refusal = changes.targetsPerComponent ? targetsRefusal(input.targets) : legacyTargetsRefusal(input.targets);
  if (refusal) return await finish(r, 'failed', refusal);
  r.plan = await control.loadSitePlan({ site: input.site });
  if (!r.plan.upgrade)
    throw ApplicationFailure.nonRetryable(`site ${input.site} has no upgrade settings`, 'NoUpgradeSettings');
  if (input.lock) {
    r.locked = true; // taken for this rollout by whoever started it (the CLI)
  } else if (changes.siteLock) {
    const lockId = rolloutLockId(input.site, r.plan.controlQueue);
    try {
      await startChild(siteLockWorkflow, {
        workflowId: lockId,
        args: [{ site: input.site, holder: id }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        memo: { holder: id },
      });
      r.locked = true;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // Another rollout of this site is open: this one steps aside without bothering anyone.
      return await finish(
        r,
        'failed',
        `another rollout of site ${input.site} is still open (${lockId} is held)`,
        false,
      );
    }
  }
  return undefined;
}

/** A later run of a rollout that continued as new: U5 goes on after the last wave started. */
async function resume(r: RolloutState): Promise<undefined> {
  const { agents } = r;
  r.kit.note('upgrade.continued', `run ${agents.runs} continues U5 after wave ${agents.wavesStarted}`);
  await r.kit.audit('upgrade.continued', { run: agents.runs, wavesDone: agents.wavesDone, afterId: agents.afterId });
  return undefined;
}

/**
 * Stage `s` until it is verified (undefined), the rollout ends (its result), or U5 hands on to a
 * new run ('continue'). A failed stage waits for a retry or an abort; nothing moves on by itself.
 */
async function completeStage(
  r: RolloutState,
  s: StageId,
  changes: Changes,
): Promise<RolloutResult | 'continue' | undefined> {
  for (;;) {
    const current = r.stage(s);
    if (current.status === 'verified') return undefined;
    if (current.status === 'failed') {
      const decision = await halted(r, s);
      if (decision === 'aborted') return finish(r, 'aborted', r.abortReason());
      if (decision === 'expired') {
        return finish(r, 'expired', `${s} failed and nobody chose retry or abort before the deadline`);
      }
    }
    const outcome = current.status === 'rolling-out' ? await rollOutAgents(r) : await runStage(r, s);
    if (outcome === 'aborted') return finish(r, 'aborted', r.abortReason());
    if (outcome === 'continue') {
      // Waits for every write and mail of this run (SMTP down: for as long as it is down).
      // An abort accepted meanwhile is acted on here, before the next run could start anything.
      await r.kit.drain();
      if (r.aborted() && changes.abortBeforeContinue) return finish(r, 'aborted', r.abortReason());
      return 'continue';
    }
  }
}

/** After `s` failed: waits for an operator to retry the stage or abort the rollout. */
async function halted(r: RolloutState, s: StageId): Promise<'retry' | 'aborted' | 'expired'> {
  const { kit, id, plan } = r;
  const failure = r.stage(s).failure!;
  const operators = plan!.people.operators;
  // Published as an ask (query state only, no command): the dashboard and links decide from it.
  kit.ask({
    id: `stage:${s}`,
    action: 'retry-stage',
    subject: s,
    title: `${stageLabel(s)} failed: retry the stage or abort the rollout`,
    from: operators,
    since: failure.at,
  });
  const result = await kit.waitForPeople({
    ask: `stage:${s}`,
    what: {
      what: `retry or abort after ${s} failed`,
      title: `${stageLabel(s)} failed: retry the stage or abort the rollout`,
      instructions: [
        failure.message,
        `Retry: airgap upgrade retry ${id} --stage ${s} --by <you>`,
        `Abort: airgap upgrade abort ${id} --by <you> --reason <why>`,
      ],
    },
    from: operators,
    done: () => r.retryRequest?.stage === s,
    abort: r.aborted,
    remind: (kind, number) =>
      kind === 'escalation'
        ? kit.notify('escalation', [...operators, ...plan!.people.escalation], `${s} failed and waits for a decision`, {
            since: failure.at,
            number,
          })
        : kit.notify('reminder', operators, `${s} failed: retry the stage or abort the rollout`, {
            since: failure.at,
            body: failure.message,
            number,
          }),
    progress: { startedAt: failure.at, remindersSent: 0, escalated: false },
  });
  kit.settle(`stage:${s}`);
  if (result === 'aborted') return 'aborted';
  if (result === 'deadline') return 'expired';
  r.retryRequest = undefined;
  return 'retry';
}

/** Ends the rollout: releases the site, closes every stage for good, mails and audits the outcome. */
async function finish(r: RolloutState, final: RolloutEnd, reason?: string, mailOutcome = true): Promise<RolloutResult> {
  const { input, plan, agents } = r;
  r.ended = final;
  if (r.locked) {
    try {
      await getExternalWorkflowHandle(input.lock ?? rolloutLockId(input.site, plan!.controlQueue)).signal(
        releaseSiteLockSignal,
      );
    } catch {
      // The lock has gone already (released or terminated by hand): nothing holds the site.
    }
    r.locked = false;
  }
  // Every field of the status is true for the final state: no stage still "awaiting-upgrade".
  const stages = (r.stages = endStages(r.stages, final, Date.now(), reason));
  if (plan && mailOutcome) {
    r.kit.notify('result', plan.people.operators, `rollout ${final}`, {
      outcome: final,
      body: reason,
      notice: {
        lead: reason ?? 'Every stage was verified at its target version.',
        heading: `Stages (${ORDER_TEXT})`,
        lines: stages.map(
          (s) =>
            `${stageLabel(s.id)}: ${s.status}${s.after ? ` at ${s.after}` : ''}` +
            (s.failure ? ` — ${s.failure.message}` : ''),
        ),
      },
    });
  }
  await r.kit.close(final, reason, {
    targets: input.targets,
    stages: stages.map((s) => ({ id: s.id, status: s.status, before: s.before, after: s.after, attempts: s.attempts })),
    agents: {
      total: agents.total,
      verified: agents.verified,
      failed: agents.failed,
      waves: agents.wavesDone,
      runs: agents.runs,
    },
  });
  return { state: final, reason, stages, agents };
}

/** What the next run takes over when the rollout continues as new. */
function carry(r: RolloutState): RolloutCarry {
  return {
    startedAt: r.startedAt,
    plan: r.plan!,
    stages: r.stages,
    agents: { ...r.agents, inFlight: [], waveWaiting: undefined },
    timeline: r.kit.timeline.slice(-CARRIED_TIMELINE),
    // Every accepted action holds in the next run too (normally an abort ends this run first).
    abort: r.abortRequest,
    locked: r.locked,
  };
}

/** The check of rollouts started before targets were checked per component: numbers only. */
function legacyTargetsRefusal(targets: RolloutInput['targets']): string | undefined {
  for (const [component, version] of Object.entries(targets)) {
    try {
      compareVersions(version, '0');
    } catch {
      return `--${component}-version "${version}" is not a version such as 20.0.877 or 20.0.1-3180`;
    }
  }
  return undefined;
}

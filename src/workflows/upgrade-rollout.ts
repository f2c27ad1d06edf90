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
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createControlActivities } from '../activities/control-activities';
import type { createUpgradeActivities, VersionSubject } from '../activities/upgrade-activities';
import type { ManagerSide } from '../activities/types';
import { sameActor } from '../domain/cycle';
import { formatDuration } from '../domain/duration';
import { compareVersions } from '../domain/versions';
import type { SitePlan } from '../domain/site-plan';
import { approvalText, upgradeText, type StepText } from '../domain/upgrade-instructions';
import {
  actionRefusal,
  currentStage,
  endStages,
  initialStages,
  lagText,
  moveStage,
  ORDER_TEXT,
  precheckVerdict,
  reachedTarget,
  recordSeen,
  rolloutStateOf,
  STAGE_SPECS,
  stageIndex,
  stageLabel,
  stepIdOf,
  targetsRefusal,
  UPGRADE_STAGES,
  waveOverThreshold,
  percent,
  type PrecheckVerdict,
  type StageId,
  type StageStatus,
  type VersionReading,
} from '../domain/upgrade-stages';
import { describeFailure } from './activity-options';
import { iso, RunKit } from './run-kit';
import {
  abortRolloutUpdate,
  confirmStageUpdate,
  retryStageUpdate,
  rolloutLockId,
  runStateQuery,
  upgradeStateQuery,
  verifyProgressSignal,
  type AgentProgress,
  type RolloutCarry,
  type RolloutEnd,
  type RolloutInput,
  type RolloutResult,
  type UpgradeView,
} from './upgrade-messages';
import { releaseSiteLockSignal, siteLockWorkflow } from './site-lock';
import { UPGRADE_MANAGER_RETRY, upgradeVerifyWorkflow, type VerifyResult } from './upgrade-verify';
import { refuse } from './refusal';
import { byRefusal } from '../domain/identity';

export * from './upgrade-messages';

type ControlActivities = ReturnType<typeof createControlActivities>;
type UpgradeActivities = ReturnType<typeof createUpgradeActivities>;

const control = proxyActivities<ControlActivities>({ startToCloseTimeout: '1m', retry: UPGRADE_MANAGER_RETRY });
// Counting or paging thousands of agents takes seconds; minutes would mean the manager is stuck.
const managerProxy = (taskQueue: string) =>
  proxyActivities<UpgradeActivities>({ taskQueue, startToCloseTimeout: '5m', retry: UPGRADE_MANAGER_RETRY });

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

/** The timeline entries handed to the next run when the rollout continues as new; the audit has all. */
const CARRIED_TIMELINE = 40;
const FAILURE_SAMPLE = 25;
const ABORTED: unique symbol = Symbol('aborted');

type StageOutcome = 'verified' | 'failed' | 'aborted' | 'continue';
type Asked =
  | { outcome: 'done'; by: string }
  | { outcome: 'aborted' | 'stopped' | 'deadline' }
  | { outcome: 'refused'; message: string };

interface WaveRun {
  wave: number;
  afterId: number;
  ids: number[];
  result?: VerifyResult;
  failed?: boolean;
}

export async function upgradeRolloutWorkflow(input: RolloutInput): Promise<RolloutResult> {
  // Changes made after rollouts were already running, decided once before this run's first command
  // (a patch marker after a local activity does not replay reliably); older runs take the old path.
  const changes = {
    targetsPerComponent: patched('upgrade-targets-per-component'),
    siteLock: patched('rollout-site-lock'),
    abortBeforeContinue: patched('rollout-abort-before-continue-as-new'),
  };
  const carried: RolloutCarry | undefined = input.carried;
  const kit = new RunKit('upgrade', input.site, carried ? rolloutStateOf(carried.stages) : 'starting');
  const id = kit.info.workflowId;
  const trigger = input.trigger ?? { who: 'unknown', channel: 'cli' as const };
  const startedAt = carried?.startedAt ?? kit.startedAt;
  if (carried) kit.timeline.push(...carried.timeline);

  let plan: SitePlan | undefined = carried?.plan;
  let stages = carried?.stages ?? initialStages(input.targets, Date.now());
  const agents: AgentProgress = carried
    ? { ...carried.agents, runs: carried.agents.runs + 1 }
    : { verified: 0, failed: 0, wavesStarted: 0, wavesDone: 0, afterId: 0, inFlight: [], failures: [], runs: 1 };
  let ended: RolloutEnd | undefined;
  let abortRequest: { by: string; reason: string } | undefined = carried?.abort;
  let retryRequest: { stage: StageId; by: string } | undefined;
  let locked = carried?.locked ?? false;
  /** The confirmation the rollout waits for now, if any. */
  let asking: { stage: StageId; step: string; kind: 'approval' | 'upgrade' | 'wave' } | undefined;
  const confirmed = new Map<string, string>();
  /** What each running verification last read, by its child workflow id ("x reports A, expects B"). */
  const readings = new Map<string, string>();
  setHandler(verifyProgressSignal, (p) => {
    readings.set(p.child, p.text);
  });
  const verifyIdOf = (s: StageId, attempt: number) => `${id}/${s}-verify-${attempt}`;
  const waveIdOf = (wave: number) => `${id}/U5-wave-${wave}`;

  const aborted = () => abortRequest !== undefined;
  const stage = (s: StageId) => stages.find((x) => x.id === s)!;
  const stageSettings = (s: StageId) => plan!.upgrade!.stages[s];
  const soakOf = (s: StageId) => (s === 'U5' ? 0 : (stageSettings(s).soak ?? plan!.upgrade!.soak));
  const isApprover = (who: string) => plan!.people.approvers.some((a) => sameActor(a, who));

  function move(s: StageId, to: StageStatus, failure?: string): void {
    stages = moveStage(stages, s, to, Date.now(), { failure });
    kit.setState(rolloutStateOf(stages), `${stageLabel(s)}: ${to}`);
  }

  // ---- what the dashboard and the CLI see ----------------------------------------------------------
  const view = (): UpgradeView => {
    const current = currentStage(stages);
    const failure = current?.status === 'failed' ? current.failure : undefined;
    return {
      ...kit.runState(),
      startedAt: iso(startedAt),
      trigger,
      targets: input.targets,
      stages: stages.map((s) => ({
        ...s,
        reading: s.status === 'verifying' && !ended ? readings.get(verifyIdOf(s.id, s.attempts)) : undefined,
        title: STAGE_SPECS[s.id].title,
        mode: plan?.upgrade ? stageSettings(s.id).mode : 'manual',
        approval: plan?.upgrade ? stageSettings(s.id).approval : false,
        soak: plan?.upgrade ? soakOf(s.id) : 0,
      })),
      current: current?.id,
      halted:
        current && failure && !ended
          ? {
              stage: current.id,
              during: failure.during,
              message: failure.message,
              at: iso(failure.at),
              options: [
                `retry: airgap upgrade retry ${id} --stage ${current.id} --by <you>`,
                `abort: airgap upgrade abort ${id} --by <you> --reason <why>`,
              ],
            }
          : undefined,
      agents: {
        ...agents,
        inFlight: agents.inFlight.map((w) => ({ ...w, reading: readings.get(waveIdOf(w.wave)) })),
      },
    };
  };
  setHandler(upgradeStateQuery, view);
  // The rollout began with its first run, not with this one (continue-as-new).
  setHandler(runStateQuery, () => ({ ...kit.runState(), startedAt: iso(startedAt) }));

  // ---- operator actions -------------------------------------------------------------------------
  setHandler(
    confirmStageUpdate,
    (i) => {
      const { step, kind } = asking!;
      confirmed.set(step, i.by);
      const actor = kit.actor(i);
      const what = kind === 'approval' ? `approved ${stageLabel(i.stage as StageId)}` : `confirmed ${step}`;
      kit.note('human.stage-confirmed', `${i.by} ${what}${i.comment ? `: ${i.comment}` : ''}`, actor);
      void kit.audit('human.stage-confirmed', { stage: i.stage, step, kind, comment: i.comment }, actor);
      return kit.answer(
        i.by,
        `${step} confirmed by ${i.by}; ${kind === 'approval' ? 'the upgrade begins' : 'verifying'}`,
      );
    },
    {
      validator: (i) => {
        const byProblem = byRefusal(i.by, 'confirms');
        if (byProblem) refuse('bad-identity', byProblem);
        const waiting = asking !== undefined && asking.stage === i.stage && !confirmed.has(asking.step);
        const refusal = actionRefusal(stages, 'confirm', i.stage, { ended, confirmable: waiting });
        if (refusal) refuse(ended ? 'ended' : 'not-waiting', refusal);
        if (asking!.kind === 'approval' && !isApprover(i.by)) {
          refuse(
            'not-approver',
            `${i.by} is not an approver of this site (approvers: ${plan!.people.approvers.join(', ')}); ${i.stage} waits for an approval`,
          );
        }
      },
    },
  );

  setHandler(
    retryStageUpdate,
    (i) => {
      retryRequest = { stage: i.stage as StageId, by: i.by };
      const actor = kit.actor(i);
      kit.note(
        'human.stage-retry',
        `${i.by} retries ${stageLabel(i.stage as StageId)}${i.comment ? `: ${i.comment}` : ''}`,
        actor,
      );
      void kit.audit('human.stage-retry', { stage: i.stage, comment: i.comment }, actor);
      return kit.answer(i.by, `retry of ${i.stage} requested by ${i.by}; it starts again with its precheck`);
    },
    {
      validator: (i) => {
        const byProblem = byRefusal(i.by, 'retries');
        if (byProblem) refuse('bad-identity', byProblem);
        const refusal = actionRefusal(stages, 'retry', i.stage, { ended, confirmable: false });
        if (refusal) refuse(ended ? 'ended' : 'not-waiting', refusal);
        if (retryRequest)
          refuse('already-decided', `a retry of ${retryRequest.stage} was already requested by ${retryRequest.by}`);
      },
    },
  );

  setHandler(
    abortRolloutUpdate,
    (i) => {
      abortRequest = { by: i.by, reason: i.reason };
      const actor = kit.actor(i);
      kit.note('human.abort', `${i.by} aborts the rollout: ${i.reason}`, actor);
      void kit.audit('human.abort', { reason: i.reason, stage: currentStage(stages)?.id }, actor);
      return kit.answer(i.by, `abort requested by ${i.by}; the rollout stops without starting anything new`);
    },
    {
      validator: (i) => {
        const byProblem = byRefusal(i.by, 'aborts');
        if (byProblem) refuse('bad-identity', byProblem);
        if (!i.reason?.trim()) refuse('needs-reason', 'an abort needs a reason (--reason)');
        if (ended) refuse('ended', `the rollout has already ended (${ended})`);
        if (abortRequest) refuse('already-cancelled', `already aborted by ${abortRequest.by}: ${abortRequest.reason}`);
      },
    },
  );

  // ---- building blocks ----------------------------------------------------------------------------
  /** Runs `work` until it settles or the rollout is aborted; an abort cancels it (activities, children). */
  async function untilAborted<T>(work: () => Promise<T>): Promise<T | typeof ABORTED> {
    if (aborted()) return ABORTED;
    const scope = new CancellationScope();
    const running = scope.run(work);
    const winner = await Promise.race([running, condition(aborted).then((): typeof ABORTED => ABORTED)]);
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
  async function ask(
    s: StageId,
    kind: 'approval' | 'upgrade' | 'wave',
    step: string,
    text: StepText,
    to: string[],
    stopWaiting: () => boolean = () => false,
  ): Promise<Asked> {
    asking = { stage: s, step, kind };
    try {
      await kit.manualStep(
        { step, title: text.title, instructions: text.instructions, to },
        () => confirmed.has(step) || aborted() || stopWaiting(),
      );
    } finally {
      asking = undefined;
    }
    const by = confirmed.get(step) ?? kit.manualStepDoneBy(step);
    if (by) {
      // A link only reaches approvers, but a "done" can also be sent by hand: check who it was.
      if (kind === 'approval' && !isApprover(by)) {
        return { outcome: 'refused', message: `the approval of ${s} came from ${by}, who is not an approver` };
      }
      return { outcome: 'done', by };
    }
    if (aborted()) return { outcome: 'aborted' };
    return { outcome: stopWaiting() ? 'stopped' : 'deadline' };
  }

  async function fail(s: StageId, message: string): Promise<'failed'> {
    const during = stage(s).status;
    move(s, 'failed', message);
    kit.note('stage.failed', `${stageLabel(s)} failed while ${during}: ${message}`);
    await kit.audit('stage.failed', { stage: s, during, message, attempt: stage(s).attempts });
    kit.notify('upgrade-stage', plan!.people.operators, `${s} failed`, {
      step: { id: s, title: stageLabel(s), instructions: [] },
      outcome: 'failed',
      body:
        `${message}\n\nThe rollout is halted; nothing moves on by itself. ` +
        `Retry the stage (airgap upgrade retry ${id} --stage ${s} --by <you>) ` +
        `or abort the rollout (airgap upgrade abort ${id} --by <you> --reason <why>).`,
    });
    return 'failed';
  }

  async function verified(s: StageId, seen: string, detail: string): Promise<'verified'> {
    stages = recordSeen(stages, s, { after: seen });
    move(s, 'verified');
    const next = UPGRADE_STAGES[stageIndex(s) + 1];
    kit.note('stage.verified', `${stageLabel(s)} verified: ${detail}`);
    await kit.audit('stage.verified', {
      stage: s,
      target: stage(s).target,
      before: stage(s).before,
      after: seen,
      detail,
    });
    kit.notify('upgrade-stage', plan!.people.operators, `${s} verified`, {
      step: { id: s, title: stageLabel(s), instructions: [] },
      outcome: 'completed',
      body: `${detail}${next ? `\nNext stage: ${stageLabel(next)}.` : ''}`,
    });
    return 'verified';
  }

  function settleAsk(s: StageId, asked: Asked, what: string): Promise<StageOutcome> | StageOutcome {
    if (asked.outcome === 'aborted' || asked.outcome === 'stopped') return 'aborted';
    if (asked.outcome === 'refused') return fail(s, asked.message);
    return fail(
      s,
      `nobody confirmed ${what} of ${s} before the deadline (${formatDuration(plan!.waits.deadline)} after the request)`,
    );
  }

  const sideOf = (s: StageId): ManagerSide => STAGE_SPECS[s].side;
  const queueOf = (side: ManagerSide) => (side === 'dmz' ? plan!.queues.dmzManager : plan!.queues.airgappedManager);
  const relayIds = () => plan!.relays.map((r) => r.computerId);
  const hostsOf = (s: StageId) =>
    s === 'U2' ? [plan!.dmzRelay.name] : s === 'U4' ? plan!.relays.map((r) => r.name) : [];

  async function precheck(s: StageId): Promise<PrecheckVerdict> {
    const p = plan!;
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
            computerIds: relayIds(),
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
    if (s !== 'U5') return precheckVerdict({ stage: s, targets: input.targets, earlier, current: readingsOf(s) });
    const count = await managerProxy(p.queues.airgappedManager).countAgents({
      site: p.site,
      excludeIds: relayIds(),
      target: stage('U5').target,
    });
    agents.total = count.total;
    agents.atTargetBefore ??= count.atTarget;
    return precheckVerdict({ stage: s, targets: input.targets, earlier, current: [], agents: count });
  }

  function verifyChild(s: StageId, workflowId: string, subject: VersionSubject): Promise<VerifyResult> {
    const u = plan!.upgrade!;
    return executeChild(upgradeVerifyWorkflow, {
      workflowId,
      args: [
        {
          site: plan!.site,
          side: sideOf(s),
          queue: queueOf(sideOf(s)),
          subject,
          target: stage(s).target,
          pollInterval: u.pollInterval,
          maxPollInterval: u.maxPollInterval,
          timeout: u.verifyTimeout,
        },
      ],
    });
  }

  function behindText(result: VerifyResult, target: string): string {
    return lagText(result.behind, result.behindCount, target);
  }

  // ---- one stage ----------------------------------------------------------------------------------
  async function runStage(s: StageId): Promise<StageOutcome> {
    move(s, 'prechecking');
    const attempt = stage(s).attempts;
    const settings = stageSettings(s);
    const target = stage(s).target;
    await kit.audit('stage.started', { stage: s, target, attempt, mode: settings.mode, approval: settings.approval });

    let verdict: PrecheckVerdict;
    try {
      verdict = await precheck(s);
    } catch (err) {
      if (isCancellation(err)) throw err;
      return fail(s, `precheck: ${describeFailure(err)}`);
    }
    kit.note(
      'stage.prechecked',
      `${s}: ${verdict.seen}${verdict.problems.length ? `; ${verdict.problems.join('; ')}` : ''}`,
    );
    await kit.audit('stage.prechecked', { stage: s, ...verdict });
    if (!verdict.ok) return fail(s, `precheck: ${verdict.problems.join('; ')}`);
    stages = recordSeen(stages, s, { before: verdict.seen });
    if (aborted()) return 'aborted';
    if (verdict.atTarget)
      return verified(s, verdict.seen, `already at ${target} or newer (${verdict.seen}); nothing to upgrade`);

    const context = { rolloutId: id, stage: s, target, seen: verdict.seen, hosts: hostsOf(s) };
    if (settings.approval) {
      move(s, 'awaiting-approval');
      const asked = await ask(
        s,
        'approval',
        stepIdOf(s, 'approval', attempt),
        approvalText(context),
        plan!.people.approvers,
      );
      if (asked.outcome !== 'done') return settleAsk(s, asked, 'the approval');
    }
    if (s === 'U5') {
      move(s, 'rolling-out');
      return rollOut();
    }
    if (settings.mode === 'manual') {
      move(s, 'awaiting-upgrade');
      const asked = await ask(
        s,
        'upgrade',
        stepIdOf(s, 'upgrade', attempt),
        upgradeText(context),
        plan!.people.operators,
      );
      if (asked.outcome !== 'done') return settleAsk(s, asked, 'the upgrade');
    }

    move(s, 'verifying');
    const subject: VersionSubject =
      STAGE_SPECS[s].component === 'manager'
        ? { kind: 'manager' }
        : { kind: 'computers', ids: s === 'U2' ? [plan!.dmzRelay.computerId] : relayIds() };
    let result: VerifyResult | typeof ABORTED;
    try {
      result = await untilAborted(() => verifyChild(s, verifyIdOf(s, attempt), subject));
    } catch (err) {
      if (isCancellation(err) && !aborted()) throw err;
      return fail(s, `verification: ${describeFailure(err)}`);
    }
    if (result === ABORTED) return 'aborted';
    if (!result.reached) {
      return fail(
        s,
        `not at ${target} within ${formatDuration(plan!.upgrade!.verifyTimeout)}${settings.mode === 'manual' ? ' of the confirmation' : ''}: ${behindText(result, target)}`,
      );
    }
    const soak = soakOf(s);
    if (soak > 0) {
      stages = recordSeen(stages, s, { after: result.seen });
      move(s, 'soaking');
      kit.note(
        'stage.soaking',
        `${s} reports ${result.seen}; soaking for ${formatDuration(soak)} before the next stage`,
      );
      if (await condition(aborted, soak)) return 'aborted';
    }
    return verified(s, result.seen, `${result.seen} (was ${stage(s).before ?? 'unknown'}; target ${target})`);
  }

  // ---- U5: agents in waves -------------------------------------------------------------------------
  async function rollOut(): Promise<StageOutcome> {
    const p = plan!;
    const waves = p.upgrade!.waves;
    const mode = stageSettings('U5').mode;
    const target = stage('U5').target;
    const ag = managerProxy(p.queues.airgappedManager);
    const scope = new CancellationScope();
    const running = new Map<number, WaveRun>();
    const thisRun: WaveRun[] = [];
    let stop: string | undefined;
    let exhausted = false;
    const timeToContinue = () => thisRun.length >= waves.perRun || workflowInfo().continueAsNewSuggested;

    const settle = (run: WaveRun, result?: VerifyResult, err?: unknown) => {
      running.delete(run.wave);
      agents.inFlight = agents.inFlight.filter((w) => w.wave !== run.wave);
      if (err !== undefined) {
        if (isCancellation(err) && aborted()) return;
        run.failed = true;
        stop ??= `wave ${run.wave} could not be verified: ${describeFailure(err)}`;
        void kit.audit('wave.failed', { wave: run.wave, error: describeFailure(err) });
        return;
      }
      run.result = result!;
      const r = result!;
      const share = `${r.behindCount} of ${r.total} agent(s) (${percent(r.behindCount, r.total)} %)`;
      if (waveOverThreshold(r.behindCount, r.total, waves.failureThresholdPercent)) {
        run.failed = true;
        stop ??=
          `wave ${run.wave} (agents ${run.ids[0]}–${run.ids.at(-1)}): ${share} did not report ${target} within ` +
          `${formatDuration(p.upgrade!.verifyTimeout)}, more than the ${waves.failureThresholdPercent} % threshold: ${behindText(r, target)}`;
        kit.note('wave.failed', `wave ${run.wave}: ${share} below ${target}: over the threshold`);
        void kit.audit('wave.failed', { wave: run.wave, total: r.total, behind: r.behindCount, sample: r.behind });
        return;
      }
      agents.verified += r.atTarget;
      agents.failed += r.behindCount;
      agents.wavesDone++;
      agents.failures = [...agents.failures, ...r.behind.map((b) => ({ ...b, wave: run.wave }))].slice(
        0,
        FAILURE_SAMPLE,
      );
      kit.note('wave.completed', `wave ${run.wave}: ${r.atTarget} of ${r.total} agent(s) at ${target}`);
      void kit.audit('wave.completed', { wave: run.wave, total: r.total, atTarget: r.atTarget, behind: r.behind });
    };

    const launch = (run: WaveRun) => {
      running.set(run.wave, run);
      thisRun.push(run);
      agents.inFlight.push({ wave: run.wave, agents: run.ids.length, first: run.ids[0]!, last: run.ids.at(-1)! });
      kit.note(
        'wave.started',
        `wave ${run.wave}: verifying ${run.ids.length} agent(s) (${run.ids[0]}–${run.ids.at(-1)})`,
      );
      void kit.audit('wave.started', {
        wave: run.wave,
        agents: run.ids.length,
        first: run.ids[0],
        last: run.ids.at(-1),
      });
      void scope
        .run(() => verifyChild('U5', waveIdOf(run.wave), { kind: 'agents', ids: run.ids }))
        .then(
          (result) => settle(run, result),
          (err: unknown) => settle(run, undefined, err),
        );
    };

    for (;;) {
      while (!stop && !aborted() && !exhausted && running.size < waves.concurrency && !timeToContinue()) {
        const page = await ag.listAgentWave({
          site: p.site,
          afterId: agents.afterId,
          size: waves.size,
          excludeIds: relayIds(),
        });
        if (page.agents.length === 0) {
          exhausted = true;
          break;
        }
        const wave = agents.wavesStarted + 1;
        // Agents already at the target need nobody's work: the wave is only verified.
        if (mode === 'manual' && !page.agents.every((a) => reachedTarget(a.version, target))) {
          const step = stepIdOf('U5', `wave-${wave}`);
          const hosts = page.agents.map((a) => a.hostName);
          agents.waveWaiting = { wave, step, agents: page.agents.map((a) => ({ id: a.id, hostName: a.hostName })) };
          const asked = await ask(
            'U5',
            'wave',
            step,
            upgradeText({ rolloutId: id, stage: 'U5', target, hosts }),
            p.people.operators,
            () => stop !== undefined,
          );
          agents.waveWaiting = undefined;
          if (asked.outcome === 'aborted' || asked.outcome === 'stopped') break;
          if (asked.outcome !== 'done') {
            stop =
              asked.outcome === 'refused'
                ? asked.message
                : `nobody confirmed the upgrade of wave ${wave} before the deadline`;
            break;
          }
        }
        agents.wavesStarted = wave;
        const run: WaveRun = { wave, afterId: agents.afterId, ids: page.agents.map((a) => a.id) };
        agents.afterId = page.lastId!;
        if (page.exhausted) exhausted = true;
        launch(run);
      }
      if (aborted()) {
        scope.cancel();
        await condition(() => running.size === 0);
        return 'aborted';
      }
      if (running.size === 0) break;
      const inFlight = running.size;
      await condition(() => running.size < inFlight || aborted());
    }

    if (stop) {
      // A retry starts again at the first failed wave; waves after it that were counted are
      // verified again then, so they are taken out of the totals now.
      const first = thisRun.filter((r) => r.failed).sort((a, b) => a.wave - b.wave)[0];
      if (first) {
        for (const r of thisRun) {
          if (r.wave > first.wave && r.result && !r.failed) {
            agents.verified -= r.result.atTarget;
            agents.failed -= r.result.behindCount;
            agents.wavesDone--;
          }
        }
        agents.afterId = first.afterId;
      }
      return fail('U5', stop);
    }
    if (!exhausted) return 'continue';
    const summary =
      `${agents.verified} of ${agents.verified + agents.failed} agent(s) at ${target} or newer in ${agents.wavesDone} wave(s)` +
      (agents.failed
        ? `; ${agents.failed} did not reach it (within the ${waves.failureThresholdPercent} % threshold)`
        : '');
    return verified('U5', `${agents.verified} agent(s) at ${target}`, summary);
  }

  // ---- after a failure ------------------------------------------------------------------------------
  async function halted(s: StageId): Promise<'retry' | 'aborted' | 'expired'> {
    const failure = stage(s).failure!;
    const operators = plan!.people.operators;
    const result = await kit.waitForPeople({
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
      done: () => retryRequest?.stage === s,
      abort: aborted,
      remind: (kind, number) =>
        kind === 'escalation'
          ? kit.notify(
              'escalation',
              [...operators, ...plan!.people.escalation],
              `${s} failed and waits for a decision`,
              {
                since: failure.at,
                number,
              },
            )
          : kit.notify('reminder', operators, `${s} failed: retry the stage or abort the rollout`, {
              since: failure.at,
              body: failure.message,
              number,
            }),
      progress: { startedAt: failure.at, remindersSent: 0, escalated: false },
    });
    if (result === 'aborted') return 'aborted';
    if (result === 'deadline') return 'expired';
    retryRequest = undefined;
    return 'retry';
  }

  // ---- endings --------------------------------------------------------------------------------------
  async function finish(final: RolloutEnd, reason?: string, mailOutcome = true): Promise<RolloutResult> {
    ended = final;
    if (locked) {
      try {
        await getExternalWorkflowHandle(input.lock ?? rolloutLockId(input.site, plan!.controlQueue)).signal(
          releaseSiteLockSignal,
        );
      } catch {
        // The lock has gone already (released or terminated by hand): nothing holds the site.
      }
      locked = false;
    }
    // Every field of the status is true for the final state: no stage still "awaiting-upgrade".
    stages = endStages(stages, final, Date.now(), reason);
    if (plan && mailOutcome) {
      kit.notify('result', plan.people.operators, `rollout ${final}`, {
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
    await kit.close(final, reason, {
      targets: input.targets,
      stages: stages.map((s) => ({
        id: s.id,
        status: s.status,
        before: s.before,
        after: s.after,
        attempts: s.attempts,
      })),
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

  function carry(): RolloutCarry {
    return {
      startedAt,
      plan: plan!,
      stages,
      agents: { ...agents, inFlight: [], waveWaiting: undefined },
      timeline: kit.timeline.slice(-CARRIED_TIMELINE),
      // Every accepted action holds in the next run too (normally an abort ends this run first).
      abort: abortRequest,
      locked,
    };
  }

  // ---- the rollout ----------------------------------------------------------------------------------
  let continued: RolloutCarry | undefined;
  try {
    if (carried) {
      kit.note('upgrade.continued', `run ${agents.runs} continues U5 after wave ${agents.wavesStarted}`);
      await kit.audit('upgrade.continued', { run: agents.runs, wavesDone: agents.wavesDone, afterId: agents.afterId });
    } else {
      await kit.audit('upgrade.started', { targets: input.targets, order: ORDER_TEXT }, trigger);
      // Each component's own format and relays ≥ agents (runs started before this check keep the old one).
      const refusal = changes.targetsPerComponent ? targetsRefusal(input.targets) : legacyTargetsRefusal(input.targets);
      if (refusal) return await finish('failed', refusal);
      plan = await control.loadSitePlan({ site: input.site });
      if (!plan.upgrade)
        throw ApplicationFailure.nonRetryable(`site ${input.site} has no upgrade settings`, 'NoUpgradeSettings');
      if (input.lock) {
        locked = true; // taken for this rollout by whoever started it (the CLI)
      } else if (changes.siteLock) {
        const lockId = rolloutLockId(input.site, plan.controlQueue);
        try {
          await startChild(siteLockWorkflow, {
            workflowId: lockId,
            args: [{ site: input.site, holder: id }],
            parentClosePolicy: ParentClosePolicy.ABANDON,
            memo: { holder: id },
          });
          locked = true;
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          // Another rollout of this site is open: this one steps aside without bothering anyone.
          return await finish(
            'failed',
            `another rollout of site ${input.site} is still open (${lockId} is held)`,
            false,
          );
        }
      }
    }
    kit.audience = { siteName: plan!.name, escalation: plan!.people.escalation, waits: plan!.waits };

    for (;;) {
      const current = currentStage(stages);
      if (!current) return await finish('completed');
      if (current.status === 'failed') {
        const decision = await halted(current.id);
        if (decision === 'aborted')
          return await finish('aborted', `aborted by ${abortRequest!.by}: ${abortRequest!.reason}`);
        if (decision === 'expired') {
          return await finish('expired', `${current.id} failed and nobody chose retry or abort before the deadline`);
        }
      }
      const outcome = current.status === 'rolling-out' ? await rollOut() : await runStage(current.id);
      if (outcome === 'aborted')
        return await finish('aborted', `aborted by ${abortRequest!.by}: ${abortRequest!.reason}`);
      if (outcome === 'continue') {
        // Waits for every write and mail of this run (SMTP down: for as long as it is down).
        // An abort accepted meanwhile is acted on here, before the next run could start anything.
        await kit.drain();
        if (aborted() && changes.abortBeforeContinue) {
          return await finish('aborted', `aborted by ${abortRequest!.by}: ${abortRequest!.reason}`);
        }
        continued = carry();
        break;
      }
    }
  } catch (err) {
    if (isCancellation(err)) {
      abortRequest ??= { by: 'temporal', reason: 'the workflow was cancelled from Temporal' };
      return CancellationScope.nonCancellable(() => finish('aborted', abortRequest!.reason));
    }
    const reason = describeFailure(err);
    return CancellationScope.nonCancellable(() => finish('failed', reason));
  }
  // Outside the try: continue-as-new ends this run by throwing, which is not a failure.
  return continueAsNew<typeof upgradeRolloutWorkflow>({ ...input, carried: continued });
}

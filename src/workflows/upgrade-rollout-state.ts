/**
 * What one upgrade rollout knows, and the operator actions it accepts (confirm, retry, abort): one
 * object that owns the state, answers the status query and validates each Update against that
 * state, in the manner of samples-typescript's safe-message-handlers. A validator refuses at once
 * with a typed code and the sentence (refusal.ts); a handler only records the request, and the
 * rollout's own code (upgrade-rollout.ts) acts on it. The guided manual step's Update belongs to
 * RunKit, which every run kind shares.
 */
import type { ProofKind } from '../domain/proof';
import { setHandler } from '@temporalio/workflow';
import { sameActor } from '../domain/cycle';
import { byRefusal } from '../domain/identity';
import type { SitePlan } from '../domain/site-plan';
import {
  currentStage,
  initialStages,
  moveStage,
  rolloutStateOf,
  STAGE_SPECS,
  stageActionRefusal,
  stageLabel,
  type StageId,
  type StageProgress,
  type StageStatus,
} from '../domain/upgrade-stages';
import { refuse } from './refusal';
import { iso, RunKit } from './run-kit';
import {
  abortRolloutUpdate,
  confirmStageUpdate,
  retryStageUpdate,
  runStateQuery,
  upgradeStateQuery,
  verifyProgressSignal,
  type AbortInput,
  type AgentProgress,
  type RolloutEnd,
  type RolloutInput,
  type StageActionInput,
  type UpgradeView,
} from './upgrade-messages';

/** The confirmation the rollout waits for now. */
export interface Asking {
  stage: StageId;
  step: string;
  kind: 'approval' | 'upgrade' | 'wave';
}

export class RolloutState {
  readonly kit: RunKit;
  readonly id: string;
  readonly trigger: NonNullable<RolloutInput['trigger']>;
  /** The rollout began with its first run, not with this one (continue-as-new). */
  readonly startedAt: number;
  plan: SitePlan | undefined;
  stages: StageProgress[];
  readonly agents: AgentProgress;
  ended: RolloutEnd | undefined;
  abortRequest: { by: string; reason: string } | undefined;
  retryRequest: { stage: StageId; by: string } | undefined;
  /** Whether this rollout holds the site's rollout lock (site-lock.ts). */
  locked: boolean;
  asking: Asking | undefined;
  /** Who confirmed each step, by step id. */
  readonly confirmed = new Map<string, string>();
  /** What each running verification last read, by its child workflow id ("x reports A, expects B"). */
  readonly readings = new Map<string, string>();

  constructor(readonly input: RolloutInput) {
    const carried = input.carried;
    this.kit = new RunKit('upgrade', input.site, carried ? rolloutStateOf(carried.stages) : 'starting');
    this.id = this.kit.info.workflowId;
    this.trigger = input.trigger ?? { who: 'unknown', channel: 'cli' as const };
    this.startedAt = carried?.startedAt ?? this.kit.startedAt;
    if (carried) this.kit.timeline.push(...carried.timeline);
    this.plan = carried?.plan;
    this.stages = carried?.stages ?? initialStages(input.targets, Date.now());
    this.agents = carried
      ? { ...carried.agents, runs: carried.agents.runs + 1 }
      : { verified: 0, failed: 0, wavesStarted: 0, wavesDone: 0, afterId: 0, inFlight: [], failures: [], runs: 1 };
    this.abortRequest = carried?.abort;
    this.locked = carried?.locked ?? false;
  }

  /** Answers the status query, hears the verifications' progress, and accepts the operator's Updates. */
  listen(): void {
    setHandler(verifyProgressSignal, (p) => {
      this.readings.set(p.child, p.text);
    });
    setHandler(upgradeStateQuery, () => this.view());
    setHandler(runStateQuery, () => ({ ...this.kit.runState(), startedAt: iso(this.startedAt) }));
    setHandler(confirmStageUpdate, (i) => this.proveConfirm(i), {
      validator: (i) => {
        // A used code says "used" before any other rule; not checked again after the proof is.
        if (this.asking?.kind === 'approval') this.kit.codeReused(i);
        this.validateConfirm(i);
      },
    });
    setHandler(retryStageUpdate, (i) => this.retry(i), { validator: (i) => this.validateRetry(i) });
    setHandler(abortRolloutUpdate, (i) => this.abort(i), { validator: (i) => this.validateAbort(i) });
  }

  // ---- reading the state -------------------------------------------------------------------------
  readonly aborted = (): boolean => this.abortRequest !== undefined;

  abortReason(): string {
    return `aborted by ${this.abortRequest!.by}: ${this.abortRequest!.reason}`;
  }

  stage(s: StageId): StageProgress {
    return this.stages.find((x) => x.id === s)!;
  }

  settingsOf(s: StageId) {
    return this.plan!.upgrade!.stages[s];
  }

  soakOf(s: StageId): number {
    return s === 'U5' ? 0 : (this.settingsOf(s).soak ?? this.plan!.upgrade!.soak);
  }

  isApprover(who: string): boolean {
    return this.plan!.people.approvers.some((a) => sameActor(a, who));
  }

  verifyIdOf(s: StageId, attempt: number): string {
    return `${this.id}/${s}-verify-${attempt}`;
  }

  waveIdOf(wave: number): string {
    return `${this.id}/U5-wave-${wave}`;
  }

  /** Every move goes through `moveStage`, which refuses to move a stage before the earlier ones are verified. */
  move(s: StageId, to: StageStatus, failure?: string): void {
    this.stages = moveStage(this.stages, s, to, Date.now(), { failure });
    this.kit.setState(rolloutStateOf(this.stages), `${stageLabel(s)}: ${to}`);
  }

  /** What the dashboard and the CLI see. */
  view(): UpgradeView {
    const current = currentStage(this.stages);
    const failure = current?.status === 'failed' ? current.failure : undefined;
    const settled = this.plan?.upgrade !== undefined;
    return {
      ...this.kit.runState(),
      startedAt: iso(this.startedAt),
      trigger: this.trigger,
      targets: this.input.targets,
      stages: this.stages.map((s) => ({
        ...s,
        reading:
          s.status === 'verifying' && !this.ended ? this.readings.get(this.verifyIdOf(s.id, s.attempts)) : undefined,
        title: STAGE_SPECS[s.id].title,
        mode: settled ? this.settingsOf(s.id).mode : 'manual',
        approval: settled ? this.settingsOf(s.id).approval : false,
        soak: settled ? this.soakOf(s.id) : 0,
      })),
      current: current?.id,
      halted:
        current && failure && !this.ended
          ? {
              stage: current.id,
              during: failure.during,
              message: failure.message,
              at: iso(failure.at),
              options: [
                `retry: airgap upgrade retry ${this.id} --stage ${current.id} --by <you>`,
                `abort: airgap upgrade abort ${this.id} --by <you> --reason <why>`,
              ],
            }
          : undefined,
      agents: {
        ...this.agents,
        inFlight: this.agents.inFlight.map((w) => ({ ...w, reading: this.readings.get(this.waveIdOf(w.wave)) })),
      },
    };
  }

  // ---- confirm: the approval, the upgrade of a stage, or a wave of agents -------------------------
  private validateConfirm(i: StageActionInput): void {
    const byProblem = byRefusal(i.by, 'confirms');
    if (byProblem) refuse('bad-identity', byProblem);
    const asking = this.asking;
    const waiting = asking !== undefined && asking.stage === i.stage && !this.confirmed.has(asking.step);
    const confirmed = asking !== undefined && asking.stage === i.stage && this.confirmed.has(asking.step);
    const refusal = stageActionRefusal(this.stages, 'confirm', i.stage, {
      ended: this.ended,
      confirmable: waiting,
      confirmed,
    });
    if (refusal) refuse(refusal.code, refusal.message);
    if (asking!.kind === 'approval' && !this.isApprover(i.by)) {
      refuse(
        'not-approver',
        `${i.by} is not an approver of this site (approvers: ${this.plan!.people.approvers.join(', ')}); ${i.stage} waits for an approval`,
      );
    }
    if (asking!.kind === 'approval') this.kit.proofRequired(i, `the approval of ${i.stage}`);
  }

  /**
   * The confirmation with its proof (runs since issue 14): an approval's is checked and refused
   * when it fails, another's is recorded as it checks out; the rules are checked again after.
   */
  private proveConfirm(i: StageActionInput) {
    if (!this.kit.proven) return this.confirm(i);
    const { step, kind } = this.asking!;
    const target = { action: 'stage-confirm' as const, subject: step };
    const proving =
      kind === 'approval'
        ? this.kit.proveDecision(i, target, () => this.validateConfirm(i))
        : this.kit.proveAction(i, target, 'confirm');
    if (typeof proving === 'string') return this.confirm(i, proving);
    return proving.then((proof) => {
      this.validateConfirm(i);
      return this.confirm(i, proof);
    });
  }

  private confirm(i: StageActionInput, proof?: ProofKind) {
    const { step, kind } = this.asking!;
    this.confirmed.set(step, i.by);
    // The stage's step is asked as a manual step (kit.manualStep): this answers the same question.
    this.kit.recordAnswer(`manual:${step}`, 'confirm-stage', i, step, proof);
    const actor = this.kit.actor(i, proof);
    const what = kind === 'approval' ? `approved ${stageLabel(i.stage as StageId)}` : `confirmed ${step}`;
    this.kit.note('human.stage-confirmed', `${i.by} ${what}${i.comment ? `: ${i.comment}` : ''}`, actor);
    void this.kit.audit('human.stage-confirmed', { stage: i.stage, step, kind, comment: i.comment }, actor);
    return this.kit.answer(
      i.by,
      `${step} confirmed by ${i.by}; ${kind === 'approval' ? 'the upgrade begins' : 'verifying'}`,
    );
  }

  // ---- retry: a failed stage starts again with its precheck ----------------------------------------
  private validateRetry(i: StageActionInput): void {
    const byProblem = byRefusal(i.by, 'retries');
    if (byProblem) refuse('bad-identity', byProblem);
    const refusal = stageActionRefusal(this.stages, 'retry', i.stage, { ended: this.ended, confirmable: false });
    if (refusal) refuse(refusal.code, refusal.message);
    if (this.retryRequest) {
      refuse(
        'already-decided',
        `a retry of ${this.retryRequest.stage} was already requested by ${this.retryRequest.by}`,
      );
    }
  }

  private retry(i: StageActionInput) {
    this.retryRequest = { stage: i.stage as StageId, by: i.by };
    this.kit.recordAnswer(`stage:${i.stage}`, 'retry-stage', i, i.stage);
    const actor = this.kit.actor(i);
    this.kit.note(
      'human.stage-retry',
      `${i.by} retries ${stageLabel(i.stage as StageId)}${i.comment ? `: ${i.comment}` : ''}`,
      actor,
    );
    void this.kit.audit('human.stage-retry', { stage: i.stage, comment: i.comment }, actor);
    return this.kit.answer(i.by, `retry of ${i.stage} requested by ${i.by}; it starts again with its precheck`);
  }

  // ---- abort: nothing new starts; what runs is cancelled ---------------------------------------------
  private validateAbort(i: AbortInput): void {
    const byProblem = byRefusal(i.by, 'aborts');
    if (byProblem) refuse('bad-identity', byProblem);
    if (!i.reason?.trim()) refuse('needs-reason', 'an abort needs a reason (--reason)');
    if (this.ended) refuse('ended', `the rollout has already ended (${this.ended})`);
    if (this.abortRequest) {
      refuse('already-cancelled', `already aborted by ${this.abortRequest.by}: ${this.abortRequest.reason}`);
    }
  }

  private abort(i: AbortInput) {
    this.abortRequest = { by: i.by, reason: i.reason };
    this.kit.recordAnswer('abort', 'abort', i, this.kit.info.runId);
    const actor = this.kit.actor(i);
    this.kit.note('human.abort', `${i.by} aborts the rollout: ${i.reason}`, actor);
    void this.kit.audit('human.abort', { reason: i.reason, stage: currentStage(this.stages)?.id }, actor);
    return this.kit.answer(i.by, `abort requested by ${i.by}; the rollout stops without starting anything new`);
  }
}

/**
 * The upgrade rollout's order and rules (airgap-procedure.md, "U"): U1 DMZ Manager (+ database) →
 * U2 DMZ Relay → U3 air-gapped Manager (+ database) → U4 air-gapped Relay(s) → U5 air-gapped
 * Agents. The vendor warns that component and software upgrades can fail when relays are not
 * upgraded first, so the order is enforced here, as code: `moveStage` refuses any move of a stage
 * whose earlier stages are not all verified, and `actionRefusal` says why an operator's action
 * for another stage than the current one is refused. There is no way to skip a stage.
 *
 * Pure: no Temporal, no I/O; times are epoch milliseconds passed in by the caller.
 */
import type { Refusal } from './asks';
import { compareVersions, componentVersionProblem, relayAgentOrderProblem, type UpgradeComponent } from './versions';

export const UPGRADE_STAGES = ['U1', 'U2', 'U3', 'U4', 'U5'] as const;
export type StageId = (typeof UPGRADE_STAGES)[number];

export type StageComponent = 'manager' | 'relay' | 'agent';
export type StageSide = 'dmz' | 'airgapped';

export interface StageSpec {
  id: StageId;
  title: string;
  side: StageSide;
  component: StageComponent;
}

export const STAGE_SPECS: Readonly<Record<StageId, StageSpec>> = {
  U1: { id: 'U1', title: 'DMZ Manager (+ database)', side: 'dmz', component: 'manager' },
  U2: { id: 'U2', title: 'DMZ Relay', side: 'dmz', component: 'relay' },
  U3: { id: 'U3', title: 'air-gapped Manager (+ database)', side: 'airgapped', component: 'manager' },
  U4: { id: 'U4', title: 'air-gapped Relay(s)', side: 'airgapped', component: 'relay' },
  U5: { id: 'U5', title: 'air-gapped Agents', side: 'airgapped', component: 'agent' },
};

export const ORDER_TEXT = UPGRADE_STAGES.join(' → ');

export function isStageId(value: unknown): value is StageId {
  return typeof value === 'string' && (UPGRADE_STAGES as readonly string[]).includes(value);
}

/** "U3 (air-gapped Manager (+ database))" */
export function stageLabel(id: StageId): string {
  return `${id} (${STAGE_SPECS[id].title})`;
}

export function stageIndex(id: StageId): number {
  return UPGRADE_STAGES.indexOf(id);
}

// ---- stage statuses and their moves ------------------------------------------------------------

export const STAGE_STATUSES = [
  'pending',
  'prechecking',
  'awaiting-approval',
  'awaiting-upgrade',
  'verifying',
  'rolling-out',
  'soaking',
  'verified',
  'failed',
  'aborted',
  'not-started',
] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

/** Where a stage rests for good: nothing moves it any more (a failed stage may still be retried). */
export const FINAL_STAGE_STATUSES: ReadonlySet<StageStatus> = new Set(['verified', 'aborted', 'not-started']);

/**
 * Every move a stage may make. A failed stage only moves when an operator retries it (back to
 * prechecking): nothing moves forward on its own after a failure. A verified stage never moves.
 */
export const STAGE_MOVES: Readonly<Record<StageStatus, readonly StageStatus[]>> = {
  pending: ['prechecking'],
  prechecking: ['awaiting-approval', 'awaiting-upgrade', 'verifying', 'rolling-out', 'verified', 'failed'],
  'awaiting-approval': ['awaiting-upgrade', 'verifying', 'rolling-out', 'failed'],
  'awaiting-upgrade': ['verifying', 'failed'],
  verifying: ['soaking', 'verified', 'failed'],
  'rolling-out': ['soaking', 'verified', 'failed'],
  soaking: ['verified', 'failed'],
  verified: [],
  failed: ['prechecking'],
  // Only set by `endStages` when the rollout ends: the stage that was under way, and those never begun.
  aborted: [],
  'not-started': [],
};

export interface StageFailure {
  /** The status the stage was in when it failed: prechecking, awaiting-upgrade, verifying… */
  during: StageStatus;
  message: string;
  at: number;
}

export interface StageProgress {
  id: StageId;
  status: StageStatus;
  /** The version this stage must reach (manager, relay or agent target). */
  target: string;
  /** How many times the stage began (1 + retries). */
  attempts: number;
  since: number;
  /** What the stage's hosts reported at its first precheck, e.g. "20.0.877". */
  before?: string;
  /** What they reported when verified. */
  after?: string;
  verifiedAt?: number;
  failure?: StageFailure;
}

/**
 * Thrown by moveStage when a move would break the stage order or the transition rules. Names the
 * stage, the move and the reason; a workflow that sees it has a bug, not an operator error.
 */
export class StageOrderError extends Error {
  constructor(
    readonly stage: string,
    readonly from: string,
    readonly to: string,
    reason: string,
  ) {
    super(`cannot move ${stage} from ${from} to ${to}: ${reason}`);
    this.name = 'StageOrderError';
  }
}

export function initialStages(targets: UpgradeTargets, now: number): StageProgress[] {
  return UPGRADE_STAGES.map((id) => ({
    id,
    status: 'pending',
    target: targetOf(targets, id),
    attempts: 0,
    since: now,
  }));
}

/** The stage the rollout is at: the first one not verified (undefined when all are). */
export function currentStage(stages: readonly StageProgress[]): StageProgress | undefined {
  return stages.find((s) => s.status !== 'verified');
}

/** Stages before `id` that are not verified, in order. */
export function unverifiedBefore(stages: readonly StageProgress[], id: StageId): StageProgress[] {
  return stages.slice(0, stageIndex(id)).filter((s) => s.status !== 'verified');
}

/**
 * Whether a list of stages respects the order: a verified prefix, then at most one stage that has
 * begun, then stages that are all still pending. Returns the first violation, or undefined.
 */
export function orderViolation(stages: readonly StageProgress[]): string | undefined {
  if (stages.length !== UPGRADE_STAGES.length || stages.some((s, i) => s.id !== UPGRADE_STAGES[i])) {
    return `the stages must be exactly ${ORDER_TEXT}, in that order`;
  }
  const current = stages.findIndex((s) => s.status !== 'verified');
  if (current < 0) return undefined;
  const later = stages.slice(current + 1).find((s) => s.status !== 'pending' && s.status !== 'not-started');
  return later
    ? `${later.id} is ${later.status} although ${stages[current]!.id} is not verified (${stages[current]!.status})`
    : undefined;
}

/**
 * The stages after moving stage `id` to `to`. Refuses (StageOrderError) any move the transition
 * table does not allow and any move of a stage while an earlier stage is not verified.
 */
export function moveStage(
  stages: readonly StageProgress[],
  id: StageId,
  to: StageStatus,
  now: number,
  detail: { failure?: string } = {},
): StageProgress[] {
  const stage = stages.find((s) => s.id === id);
  if (!stage) throw new StageOrderError(id, '?', to, 'no such stage');
  const before = unverifiedBefore(stages, id);
  if (before.length > 0) {
    throw new StageOrderError(
      id,
      stage.status,
      to,
      `${before.map((s) => s.id).join(', ')} ${before.length > 1 ? 'are' : 'is'} not verified yet (order ${ORDER_TEXT})`,
    );
  }
  if (!STAGE_MOVES[stage.status].includes(to)) {
    const allowed = STAGE_MOVES[stage.status];
    throw new StageOrderError(
      id,
      stage.status,
      to,
      allowed.length ? `from ${stage.status} only ${allowed.join(', ')}` : `${stage.status} is final`,
    );
  }
  if (to === 'failed' && !detail.failure) throw new StageOrderError(id, stage.status, to, 'a failure needs a message');
  const next: StageProgress = { ...stage, status: to, since: now };
  if (to === 'prechecking') {
    next.attempts = stage.attempts + 1;
    delete next.failure;
  }
  if (to === 'failed') next.failure = { during: stage.status, message: detail.failure!, at: now };
  if (to === 'verified') next.verifiedAt = now;
  const out = stages.map((s) => (s.id === id ? next : s));
  const violation = orderViolation(out);
  if (violation) throw new StageOrderError(id, stage.status, to, violation);
  return out;
}

/**
 * Records what a stage's hosts reported: `before` only the first time (the version the rollout
 * found), `after` when the stage is verified. Not a move: the status is unchanged.
 */
export function recordSeen(
  stages: readonly StageProgress[],
  id: StageId,
  seen: { before?: string; after?: string },
): StageProgress[] {
  return stages.map((s) =>
    s.id === id
      ? { ...s, before: s.before ?? seen.before, ...(seen.after !== undefined ? { after: seen.after } : {}) }
      : s,
  );
}

/**
 * The stages as a rollout that ended `end` leaves them, so that none claims work that will never
 * happen: the stage under way becomes `aborted` (an abort) or `failed` with the reason (a failure
 * that was not a stage's own); stages never begun become `not-started`. Verified stages stay
 * verified and a failed stage stays failed. A completed rollout's stages are all verified already.
 */
export function endStages(
  stages: readonly StageProgress[],
  end: 'completed' | 'aborted' | 'expired' | 'failed',
  now: number,
  reason?: string,
): StageProgress[] {
  const current = currentStage(stages);
  if (!current || end === 'completed') return [...stages];
  const index = stageIndex(current.id);
  return stages.map((s, i): StageProgress => {
    if (i > index) return s.status === 'pending' ? { ...s, status: 'not-started', since: now } : s;
    if (i < index || s.status === 'failed' || FINAL_STAGE_STATUSES.has(s.status)) return s;
    if (s.status === 'pending') return { ...s, status: 'not-started', since: now };
    if (end === 'aborted') return { ...s, status: 'aborted', since: now };
    return {
      ...s,
      status: 'failed',
      since: now,
      failure: { during: s.status, message: reason ?? `the rollout ended ${end}`, at: now },
    };
  });
}

// ---- what operators may do --------------------------------------------------------------------

export type StageAction = 'confirm' | 'retry';

export interface ActionContext {
  /** The rollout's final state when it has ended. */
  ended?: string;
  /** Whether the current stage waits for a person's confirmation right now. */
  confirmable: boolean;
  /** Whether the confirmation the current stage waits for was already given (a repeated click). */
  confirmed?: boolean;
}

/**
 * Why an operator's `confirm` or `retry` for `stage` is refused now, or undefined when it is
 * allowed. Only the current stage can be acted on; the reason names the order and where the
 * rollout is, so the operator learns at once what to do instead. A typed code (asks.ts) travels
 * beside the sentence: `wrong-subject` for another stage than the current one.
 */
export function stageActionRefusal(
  stages: readonly StageProgress[],
  action: StageAction,
  stage: string,
  ctx: ActionContext,
): Refusal | undefined {
  if (!isStageId(stage)) {
    return {
      code: 'unknown-target',
      message: `unknown stage "${stage}": the stages are ${UPGRADE_STAGES.map(stageLabel).join(', ')}`,
    };
  }
  const done = action === 'confirm' ? 'confirmed' : 'retried';
  if (ctx.ended) return { code: 'ended', message: `the rollout has ended (${ctx.ended}); nothing can be ${done}` };
  const current = currentStage(stages);
  const target = stages.find((s) => s.id === stage)!;
  if (target.status === 'verified') {
    return {
      code: 'wrong-subject',
      message: `${stageLabel(stage)} is already verified${target.after ? ` at ${target.after}` : ''}; there is nothing to ${action}`,
    };
  }
  if (current && current.id !== stage) {
    const missing = unverifiedBefore(stages, stage)
      .map((s) => s.id)
      .join(', ');
    return {
      code: 'wrong-subject',
      message:
        `${stageLabel(stage)} cannot be ${done} yet: ` +
        `${missing} must be verified first (order ${ORDER_TEXT}); the rollout is at ${stageLabel(current.id)}, ${current.status}`,
    };
  }
  if (action === 'retry' && target.status !== 'failed') {
    return {
      code: 'not-waiting',
      message: `${stageLabel(stage)} has not failed (it is ${target.status}); only a failed stage can be retried`,
    };
  }
  if (action === 'confirm' && !ctx.confirmable) {
    return {
      code: ctx.confirmed ? 'already-decided' : 'not-waiting',
      message:
        target.status === 'failed'
          ? `${stageLabel(stage)} has failed: retry it or abort the rollout; there is nothing to confirm`
          : `${stageLabel(stage)} is ${target.status} and waits for no confirmation now`,
    };
  }
  return undefined;
}

/** The sentence of `stageActionRefusal`, for people. */
export function actionRefusal(
  stages: readonly StageProgress[],
  action: StageAction,
  stage: string,
  ctx: ActionContext,
): string | undefined {
  return stageActionRefusal(stages, action, stage, ctx)?.message;
}

/** The rollout's state for dashboards and search attributes: "u3-awaiting-upgrade", "completed". */
export function rolloutStateOf(stages: readonly StageProgress[]): string {
  const current = currentStage(stages);
  return current ? `${current.id.toLowerCase()}-${current.status}` : 'completed';
}

// ---- target versions --------------------------------------------------------------------------

export interface UpgradeTargets {
  /** X-DSM-Version of both managers (U1, U3). */
  manager: string;
  /** agentVersion of the relays (U2, U4). */
  relay: string;
  /** agentVersion of the agents (U5). */
  agent: string;
}

/** Thrown by targetsFrom when a target version is missing or not a version; names the option. */
export class InvalidTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTargetError';
  }
}

/**
 * The target of each component, each checked against the format that component reports (managers
 * 20.0.877, relays and agents 20.0.0.8438): `to` is the default of each option and is refused for
 * a component whose format it does not fit, so one number never becomes the target of both
 * numbering schemes. Targets that would leave agents newer than their relays are refused with the
 * vendor's rule.
 */
export function targetsFrom(input: { to?: string; manager?: string; relay?: string; agent?: string }): UpgradeTargets {
  const pick = (option: UpgradeComponent, value: string | undefined): string => {
    const chosen = value?.trim() || input.to?.trim();
    if (!chosen) throw new InvalidTargetError(`no target version for ${option}: give --to or --${option}-version`);
    const problem = componentVersionProblem(option, chosen);
    if (problem) {
      const flag = value?.trim() ? `--${option}-version` : '--to';
      throw new InvalidTargetError(`${flag} ${problem}${flag === '--to' ? `; give --${option}-version` : ''}`);
    }
    return chosen;
  };
  const targets = {
    manager: pick('manager', input.manager),
    relay: pick('relay', input.relay),
    agent: pick('agent', input.agent),
  };
  const order = relayAgentOrderProblem(targets.relay, targets.agent);
  if (order) throw new InvalidTargetError(order);
  return targets;
}

/** Why complete targets cannot be a rollout's (format, relay ≥ agent), or undefined. */
export function targetsRefusal(targets: UpgradeTargets): string | undefined {
  try {
    targetsFrom(targets);
    return undefined;
  } catch (err) {
    if (err instanceof InvalidTargetError) return err.message;
    throw err;
  }
}

export function targetOf(targets: UpgradeTargets, id: StageId): string {
  return targets[STAGE_SPECS[id].component];
}

/** Whether a reported version is at least the target; a version that cannot be read never is. */
export function reachedTarget(reported: string | undefined, target: string): boolean {
  if (!reported) return false;
  try {
    return compareVersions(reported, target) >= 0;
  } catch {
    return false;
  }
}

// ---- prechecks --------------------------------------------------------------------------------

/** What a manager reported about one component: a manager, a relay or an agent. */
export interface VersionReading {
  name: string;
  version: string;
  /** False when the host cannot be reached (agent status error/inactive/offline). */
  reachable: boolean;
  status?: string;
}

export interface PrecheckInput {
  stage: StageId;
  targets: UpgradeTargets;
  /** Fresh readings of every earlier stage: they must still be at their targets. */
  earlier: { stage: StageId; readings: VersionReading[] }[];
  /** Fresh readings of this stage's hosts (managers, relays); none for U5. */
  current: VersionReading[];
  /** For U5: the agents as the air-gapped manager lists them. */
  agents?: { total: number; atTarget: number; unreachable: number };
}

export interface PrecheckVerdict {
  ok: boolean;
  /** Every host of the stage already reports the target: nothing to upgrade. */
  atTarget: boolean;
  problems: string[];
  /** "20.0.877" or "a: 20.0.0.8438, b: 20.0.0.8438" or "5000 agents, 0 at target". */
  seen: string;
}

const UNREACHABLE = new Set(['error', 'inactive', 'offline', 'not-supported']);

/** Whether an agent status means the manager cannot talk to the host. */
export function isReachableStatus(status: string | undefined): boolean {
  return !UNREACHABLE.has((status ?? '').toLowerCase());
}

export function describeReadings(readings: readonly VersionReading[]): string {
  if (readings.length === 1) return readings[0]!.version;
  return readings.map((r) => `${r.name} ${r.version}`).join(', ');
}

/**
 * The precheck of a stage: earlier stages still at their targets (someone may have rolled one
 * back), this stage's hosts reachable. `atTarget` when nothing is left to upgrade.
 */
export function precheckVerdict(input: PrecheckInput): PrecheckVerdict {
  const problems: string[] = [];
  for (const e of input.earlier) {
    const target = targetOf(input.targets, e.stage);
    for (const r of e.readings) {
      if (!reachedTarget(r.version, target)) {
        problems.push(
          `${stageLabel(e.stage)}: ${r.name} reports ${r.version}, below its target ${target}; the earlier stage is no longer verified`,
        );
      }
    }
  }
  for (const r of input.current) {
    if (!r.reachable) problems.push(`${r.name} is not reachable (agent status ${r.status ?? 'unknown'})`);
  }
  const target = targetOf(input.targets, input.stage);
  if (input.agents) {
    const a = input.agents;
    return {
      ok: problems.length === 0,
      atTarget: a.atTarget >= a.total,
      problems,
      seen: `${a.total} agent(s), ${a.atTarget} at ${target} or newer, ${a.unreachable} unreachable`,
    };
  }
  if (input.current.length === 0) problems.push(`${stageLabel(input.stage)} has no hosts to upgrade`);
  return {
    ok: problems.length === 0,
    atTarget: input.current.length > 0 && input.current.every((r) => reachedTarget(r.version, target)),
    problems,
    seen: describeReadings(input.current),
  };
}

/**
 * What hosts below their target report, for a status and a failure alike:
 * "plant-dmz-relay reports 20.0.0.9000, expects 20.0.1.200 (active)", at most `sample` of them.
 */
export function lagText(behind: readonly VersionReading[], behindCount: number, target: string, sample = 25): string {
  const shown = behind
    .slice(0, sample)
    .map((b) => `${b.name} reports ${b.version}, expects ${target} (${b.status ?? 'reachable'})`)
    .join('; ');
  const more =
    behindCount > Math.min(behind.length, sample) ? ` and ${behindCount - Math.min(behind.length, sample)} more` : '';
  return `${shown}${more}`;
}

// ---- polling and waves ------------------------------------------------------------------------

/** The pause before poll `n` (0-based): `initial`, growing by half each time, never above `max`. */
export function pollDelay(n: number, initial: number, max: number): number {
  return Math.min(max, Math.round(initial * 1.5 ** Math.max(0, n)));
}

/** A wave fails when more than `thresholdPercent` % of its agents did not reach the target. */
export function waveOverThreshold(failed: number, total: number, thresholdPercent: number): boolean {
  return total > 0 && failed * 100 > thresholdPercent * total;
}

export function percent(part: number, total: number): number {
  return total === 0 ? 0 : Math.round((part * 1000) / total) / 10;
}

/**
 * Manual-step ids: one per stage, question and attempt, so a retried stage asks afresh
 * ("U4-upgrade", then "U4-upgrade-a2"); waves are numbered for the whole rollout ("U5-wave-7").
 */
export function stepIdOf(stage: StageId, what: 'approval' | 'upgrade' | `wave-${number}`, attempt = 1): string {
  return attempt > 1 ? `${stage}-${what}-a${attempt}` : `${stage}-${what}`;
}

/**
 * Messages of the upgrade rollout workflow. Confirm, retry and abort are Updates with validators:
 * an action for any other stage than the current one is refused at once with the reason (the
 * order, and where the rollout is). A mail's "done" link confirms through the shared
 * `manualStepDoneUpdate`, like every guided manual step.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../domain/cycle';
import type { SitePlan } from '../domain/site-plan';
import type { VersionReading } from '../domain/upgrade-stages';
import type { StageFailure, StageId, StageProgress, StageStatus, UpgradeTargets } from '../domain/upgrade-stages';
import type { ActionAnswer, ActionBase, RunState, TimelineEntry } from './run-messages';

export * from './run-messages';

export type RolloutEnd = 'completed' | 'aborted' | 'expired' | 'failed';

export interface RolloutInput {
  site: string;
  targets: UpgradeTargets;
  /** Who started the rollout. */
  trigger?: Actor;
  /** Only set by the rollout itself when it continues as new. */
  carried?: RolloutCarry;
  /**
   * The id of the site's rollout lock when whoever started the rollout took it for it (the CLI
   * does, so a second start is refused at once); otherwise the rollout takes the lock itself.
   */
  lock?: string;
}

export interface RolloutResult {
  state: RolloutEnd;
  reason?: string;
  stages: StageProgress[];
  agents: AgentProgress;
}

export interface StageActionInput extends ActionBase {
  stage: string;
  comment?: string;
}

export interface AbortInput extends ActionBase {
  reason: string;
}

/** U5 in numbers. Waves are numbered for the whole rollout, retries included. */
export interface AgentProgress {
  /** Agents the air-gapped manager listed at the U5 precheck. */
  total?: number;
  atTargetBefore?: number;
  /** Agents verified at the target, and agents that did not reach it, in accepted waves. */
  verified: number;
  failed: number;
  wavesStarted: number;
  wavesDone: number;
  /** The next wave starts after this computer id. */
  afterId: number;
  /** Waves being verified now; `reading` is what their lagging agents report ("reports X, expects Y"). */
  inFlight: { wave: number; agents: number; first: number; last: number; reading?: string }[];
  /** A manual wave waiting for its confirmation: the person upgrades these agents. */
  waveWaiting?: { wave: number; step: string; agents: { id: number; hostName: string }[] };
  /** At most 25 agents that did not reach the target. */
  failures: (VersionReading & { wave: number })[];
  /** Workflow runs so far (continue-as-new). */
  runs: number;
}

export interface StageView extends StageProgress {
  /** While verifying: what the hosts below the target report, "relay reports X, expects Y". */
  reading?: string;
  title: string;
  mode: 'manual' | 'external';
  approval: boolean;
  soak: number;
}

export interface UpgradeView extends RunState {
  trigger: Actor;
  targets: UpgradeTargets;
  stages: StageView[];
  current?: StageId;
  /** Present while the rollout is halted after a failure: what failed and what can be done. */
  halted?: { stage: StageId; during: StageStatus; message: string; at: string; options: string[] };
  agents: AgentProgress;
}

/** What a run hands to the next when it continues as new. */
export interface RolloutCarry {
  startedAt: number;
  plan: SitePlan;
  stages: StageProgress[];
  agents: AgentProgress;
  /** The latest timeline entries; the audit has them all. */
  timeline: TimelineEntry[];
  /** An abort accepted in an earlier run: it holds in this one. */
  abort?: { by: string; reason: string };
  /** The first run took the site's rollout lock; the run that ends the rollout releases it. */
  locked?: boolean;
}

/**
 * One open rollout per site: every rollout holds this lock (a `siteLockWorkflow`, as cycles do)
 * from its first run until it ends, whatever its id; Temporal refuses a second running lock. The
 * lock outlives continue-as-new (ABANDON), and names its holder in its memo so that a lock whose
 * holder was terminated from outside can be recognised and released.
 */
export const rolloutLockId = (site: string, controlQueue: string) => `site-lock-upgrade-${controlQueue}-${site}`;

export type { StageFailure };

export const confirmStageUpdate = defineUpdate<ActionAnswer, [StageActionInput]>('upgradeConfirmStage');
export const retryStageUpdate = defineUpdate<ActionAnswer, [StageActionInput]>('upgradeRetryStage');
export const abortRolloutUpdate = defineUpdate<ActionAnswer, [AbortInput]>('upgradeAbort');
export const upgradeStateQuery = defineQuery<UpgradeView>('upgradeState');

/** Sent by a verification to its rollout with each new reading of hosts still below the target. */
export interface VerifyProgress {
  /** The verification's workflow id. */
  child: string;
  text: string;
}
export const verifyProgressSignal = defineSignal<[VerifyProgress]>('upgradeVerifyProgress');

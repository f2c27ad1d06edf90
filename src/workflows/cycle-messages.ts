/**
 * Messages of the update-cycle workflow. Operator actions are Updates with validators, so the
 * caller (CLI, link, web) gets "accepted" or the reason for a refusal at once; `fileCopiedSignal`
 * exists for fire-and-forget senders (scripts on a transfer station) and is idempotent.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor, BundleInfo, ComponentVersion, CycleState } from '../domain/cycle';
import type { ActionAnswer, ActionBase, RunState } from './run-messages';

export * from './run-messages';

export interface CycleInput {
  site: string;
  /** Who or what started the cycle; a Schedule leaves it out. */
  trigger?: Actor;
  /**
   * Importing a bundle older than what the site has is refused. This override is an explicit,
   * recorded decision and still needs an approver's approval before import.
   */
  allowRollback?: { by: string; reason: string };
}

export interface CycleResult {
  state: CycleState;
  reason?: string;
  bundle?: BundleInfo;
}

export interface FileCopiedInput extends ActionBase {
  /** The bundle's SHA-256 as the operator sees it on their copy; ≥ 12 hex digits. */
  sha256: string;
  /** Only this relay; all relays when omitted. */
  relay?: string;
}

/** `not-copied`: the run ended before a copy arrived; `not-needed`: it ended before asking for one (nothing new). */
export type RelayStatus =
  'waiting' | 'copied' | 'verified' | 'mismatch' | 'imported' | 'cleaned' | 'removed' | 'not-copied' | 'not-needed';

export interface RelayProgress {
  name: string;
  os: 'linux' | 'windows';
  targetFolder: string;
  status: RelayStatus;
  problem?: string;
  copiedBy?: string;
}

/** The cycle's state: the common run state plus what only a cycle has. */
export interface CycleView extends RunState {
  state: CycleState;
  trigger: Actor;
  bundle?: BundleInfo;
  installedBefore?: ComponentVersion[];
  relays: RelayProgress[];
  approvalsRequired: number;
  approvals: { by: string; at: string; comment?: string }[];
  carriers: string[];
  importAttempts: number;
}

export const fileCopiedUpdate = defineUpdate<ActionAnswer, [FileCopiedInput]>('fileCopied');
export const fileCopiedSignal = defineSignal<[FileCopiedInput]>('fileCopiedSignal');
export const cycleStateQuery = defineQuery<CycleView>('cycleState');

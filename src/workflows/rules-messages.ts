/**
 * Messages of the rule transfer workflow (R1–R3). Operator actions are Updates with validators,
 * so the caller learns at once whether the report was accepted or why not. Approve, reject and
 * cancel are the same Updates as the cycle's (same names, same inputs): one CLI habit for both.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../domain/cycle';
import type { ExportedRuleFile, PendingRuleUpdates, ReportedRuleFile, RulesState } from '../domain/rules';
import type { ActionAnswer, ActionBase, RunState } from './run-messages';

export * from './run-messages';
export { approveUpdate, cancelUpdate, rejectUpdate, type CancelInput, type DecisionInput } from './cycle-messages';

export interface RulesTransferInput {
  site: string;
  /** Who or what started the transfer. */
  trigger?: Actor;
  /**
   * Only these rule updates (YY-NNN); default: every one newer than the air-gapped manager's.
   * One not newer than what the manager has is refused (rollback protection).
   */
  only?: string[];
}

export interface RulesTransferResult {
  state: RulesState;
  reason?: string;
  /** The air-gapped manager's rule update before, and after when the import was confirmed. */
  before?: string;
  after?: string;
  files: RuleFileProgress[];
}

export interface RulesExportedInput extends ActionBase {
  /** Each exported file: its name and ≥ 12 hex digits of its SHA-256 (size and id optional). */
  files: ReportedRuleFile[];
}

export interface RulesCopiedInput extends ActionBase {
  comment?: string;
}

export type RuleFileStatus = 'exported' | 'copied' | 'verified' | 'mismatch' | 'superseded' | 'imported';

/** Where a carried file is when the transfer ends: removed from the import folder, or kept there for a retry. */
export type RuleFilePlace = 'removed' | 'kept' | 'left';

export interface RuleFileProgress extends ExportedRuleFile {
  status: RuleFileStatus;
  exportedBy: string;
  problem?: string;
  /** The full digest and size of the copy that arrived in the import folder. */
  sha256Full?: string;
  sizeArrived?: number;
  /** Set when the transfer has ended and the file was in the import folder: what became of it. */
  inFolder?: RuleFilePlace;
}

/** The transfer's state: the common run state plus what only a rule transfer has. */
export interface RulesView extends RunState {
  state: RulesState;
  trigger: Actor;
  /** The air-gapped manager's rule update (after a confirmed import, the new one), and the DMZ manager's newest. */
  current?: string;
  /** What the air-gapped manager had when the transfer started, once `current` has moved on. */
  before?: string;
  latest?: string;
  pending?: PendingRuleUpdates;
  files: RuleFileProgress[];
  importFolder?: { host: string; folder: string };
  approvalsRequired: number;
  approvals: { by: string; at: string; comment?: string }[];
  /** Who exported or carried the files (the approval policy may bar them from approving). */
  carriers: string[];
}

export const rulesExportedUpdate = defineUpdate<ActionAnswer, [RulesExportedInput]>('rulesExported');
export const rulesCopiedUpdate = defineUpdate<ActionAnswer, [RulesCopiedInput]>('rulesCopied');
export const rulesStateQuery = defineQuery<RulesView>('rulesState');

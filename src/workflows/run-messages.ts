/**
 * Messages every workflow of this project answers, whatever its kind: its state for dashboards
 * and links (`runStateQuery`), and the confirmation of a manual step (`manualStepDoneUpdate`).
 * Kind-specific messages live beside each workflow (cycle-messages.ts, …).
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Answer, Ask } from '../domain/asks';
import type { AuditKind } from '../domain/audit';
import type { Actor, Channel } from '../domain/cycle';
import type { ProofClaim } from '../domain/proof';

export interface ActionBase {
  by: string;
  channel?: Channel;
  address?: string;
  /** How `by` is proven (issue 14); checked by the control worker, absent means `unproven`. */
  proof?: ProofClaim;
}

/** Approve or reject (a rejection needs the comment: why). */
export interface DecisionInput extends ActionBase {
  comment?: string;
}

export interface CancelInput extends ActionBase {
  reason: string;
}

export interface ManualStepDoneInput extends ActionBase {
  step: string;
  comment?: string;
}

/** The immediate answer to an accepted operator action; a refusal is the Update's failure. */
export interface ActionAnswer {
  accepted: true;
  state: string;
  message: string;
  by: string;
  at: string;
}

export interface TimelineEntry {
  at: string;
  type: string;
  summary: string;
  actor?: Actor;
}

export interface WaitingFor {
  /** "file copied to every air-gapped relay", "1 approval(s)", or "manual:<step>". */
  what: string;
  from: string[];
  since: string;
  until: string;
  nextReminder?: string;
  /**
   * Reminders of a wait sent by the control worker's reminder activity (runs since
   * `reminders-by-activity`): how many reminders, and whether the escalation, went out by now,
   * counted from the wait's policy and start (each one is in the audit as `wait.reminder` /
   * `wait.escalation`, not in the timeline).
   */
  reminders?: { by: 'control-worker'; sent: number; escalated: boolean };
  /** For manual steps: the title and instructions shown on the link's page. */
  title?: string;
  instructions?: string[];
}

export interface RunState {
  id: string;
  /** The run's Temporal run id: approval links of non-cycle runs are bound to it. */
  runId: string;
  kind: AuditKind;
  site: string;
  state: string;
  stateSince: string;
  startedAt: string;
  waitingFor?: WaitingFor;
  outcome?: { state: string; reason?: string; at: string };
  timeline: TimelineEntry[];
  /** What the run asks of people now (links and the CLI decide from these, not from `state`). */
  asks: Ask[];
  /** Every accepted answer, with the Update id that carried it. */
  answers: Answer[];
}

export const runStateQuery = defineQuery<RunState>('runState');
export const manualStepDoneUpdate = defineUpdate<ActionAnswer, [ManualStepDoneInput]>('manualStepDone');
// The same names on every kind of run that asks for approval or can be cancelled, so the CLI and
// the mail links act on all of them the same way.
export const approveUpdate = defineUpdate<ActionAnswer, [DecisionInput]>('approve');
export const rejectUpdate = defineUpdate<ActionAnswer, [DecisionInput]>('reject');
export const cancelUpdate = defineUpdate<ActionAnswer, [CancelInput]>('cancel');

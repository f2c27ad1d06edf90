/**
 * Inputs and results of the activities, shared by the workflows (as types only) and the
 * activity implementations. One input object, one result object each.
 */
import type { AuditKind } from '../domain/audit';
import type { BundleInfo, ComponentVersion } from '../domain/cycle';
import type { LinkAction } from '../domain/link-token';

export type ManagerSide = 'dmz' | 'airgapped';

export interface RelayVersionsInput {
  site: string;
  side: ManagerSide;
  computerId: number;
}

export interface RelayVersions {
  versions: ComponentVersion[];
  agentStatus: string;
  updateStatus?: string;
  updateMessage?: string;
}

export interface ImportInput {
  site: string;
  relay: string;
  computerId: number;
  expect: ComponentVersion[];
}

export interface TriggerImportResult {
  /** False when the relay already had, or was already importing, the bundle: nothing was sent. */
  triggered: boolean;
  reason: string;
}

export interface AwaitImportInput extends ImportInput {
  pollInterval: number;
}

export interface RetainBundleInput {
  path: string;
  mode: 'delete' | 'archive' | 'keep';
  archiveDir?: string;
}

export type NoticePurpose =
  | 'transfer'
  | 'reminder'
  | 'escalation'
  | 'arrival-problem'
  | 'approval-request'
  | 'result'
  | 'failure'
  | 'manual-step'
  | 'upgrade-stage';

export type { LinkAction } from '../domain/link-token';

/** A notice to a list of people. The activity renders one message per recipient, with that
 * recipient's signed links, so links can be bound to who received them. */
export interface NoticeRequest {
  purpose: NoticePurpose;
  site: string;
  siteName: string;
  workflowId: string;
  /** Unique per notice within the workflow; retries of the activity reuse it (no duplicate mail). */
  noticeId: string;
  to: string[];
  /** What is asked, for the subject line. */
  ask: string;
  bundle?: BundleInfo;
  /** Where the zip waits on the DMZ side. */
  pickup?: { relay: string; path: string };
  relays?: { name: string; os: string; targetFolder: string; problem?: string }[];
  /** When the wait this notice is about began, and when it ends (epoch ms). */
  since?: number;
  deadline?: number;
  /** For reminders and escalations: which one this is (1, 2, …). */
  number?: number;
  /** Free text: reason of a failure, instructions of a manual step, state of a result. */
  body?: string;
  outcome?: string;
  links: { action: LinkAction; subject: string; label: string }[];
  askedBy?: string;
  /** For manual steps: the step id and its instructions, one line each. */
  step?: { id: string; title: string; instructions: string[] };
  /** For approval requests: "2 of 3 approvers". */
  policy?: string;
  /** The kind of run the notice is about, named in the subject; a cycle when absent. */
  runKind?: AuditKind;
  /**
   * A notice of a run kind without a dedicated template (rule transfer, hardening): rendered as
   * a plain mail of lead, facts, steps, lines and commands, under the notice's purpose.
   */
  notice?: PlainNotice;
}

export interface PlainNotice {
  lead: string;
  facts?: { label: string; value: string }[];
  /** Numbered steps for the reader. */
  steps?: string[];
  heading?: string;
  lines?: string[];
  /** Commands the reader can run to answer (the CLI), shown as code. */
  commands?: string[];
}

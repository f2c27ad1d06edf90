/**
 * A notice: what a workflow asks the notify activity to mail to a list of people. The activity
 * renders one message per recipient, with that recipient's signed links, so links can be bound to
 * who received them. Each purpose carries the fields its template needs (a transfer and an
 * approval request name their bundle, a result its outcome), so neither the workflow nor the
 * activity has to assert that an optional field is there. A run kind without templates of its own
 * sends a plain notice (`notice` set) under any purpose.
 */
import type { AuditKind } from '../audit';
import type { BundleInfo } from '../cycle';

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

import type { LinkAction } from '../link-token';
export type { LinkAction };

/** A link the activity signs for each recipient: what it does and what it is bound to. */
export interface NoticeLink {
  action: LinkAction;
  subject: string;
  label: string;
}

/** An air-gapped relay as a notice names it; `problem` when its copy did not verify. */
export interface NoticeRelay {
  name: string;
  os: string;
  targetFolder: string;
  problem?: string;
}

export interface NoticeStep {
  id: string;
  title: string;
  instructions: string[];
}

/** What every notice carries, whatever its purpose: which run, to whom, about what. */
export interface NoticeHeader {
  site: string;
  siteName: string;
  workflowId: string;
  /** Unique per notice within the workflow; retries of the activity reuse it (no duplicate mail). */
  noticeId: string;
  to: string[];
  /** What is asked, for the subject line. */
  ask: string;
  /** The kind of run the notice is about, named in the subject; a cycle when absent. */
  runKind?: AuditKind;
}

/** What any notice may carry: its links, the wait it is about, and which reminder it is. */
interface NoticeCommon extends NoticeHeader {
  links: NoticeLink[];
  /** When the wait this notice is about began, and when it ends (epoch ms). */
  since?: number;
  deadline?: number;
  /** For reminders and escalations: which one this is (1, 2, …). */
  number?: number;
  /** Free text: a failure's reason, a result's state and what it left behind, a stage's detail. */
  body?: string;
  /** Only a plain notice has one. */
  notice?: undefined;
}

/** To the carriers: which bundle, where it waits, where it goes. */
export interface TransferNotice extends NoticeCommon {
  purpose: 'transfer';
  bundle: BundleInfo;
  /** Where the zip waits on the DMZ side. */
  pickup?: { relay: string; path: string };
  relays: NoticeRelay[];
}

/** A reminder, or the news that a copy did not verify (the relays with a problem are listed). */
export interface ReminderNotice extends NoticeCommon {
  purpose: 'reminder' | 'arrival-problem';
  relays?: NoticeRelay[];
}

export interface EscalationNotice extends NoticeCommon {
  purpose: 'escalation';
  /** The manual step nobody confirmed, when it is one. */
  step?: NoticeStep;
}

export interface ApprovalRequestNotice extends NoticeCommon {
  purpose: 'approval-request';
  bundle: BundleInfo;
  /** Who said "file copied". */
  askedBy?: string;
  /** For n-of-m policies: "2 of 3 approvers". */
  policy?: string;
}

export interface ManualStepNotice extends NoticeCommon {
  purpose: 'manual-step';
  step: NoticeStep;
}

/** A run's final notice: `failure` for a failed run, `result` for every other outcome. */
export interface ResultNotice extends NoticeCommon {
  purpose: 'result' | 'failure';
  /**
   * The run's outcome (a RunOutcome). A workflow's final state is typed wider than the outcomes,
   * so the activity checks it: one the templates do not know is refused, never mailed as another.
   */
  outcome: string;
  bundle?: BundleInfo;
}

export interface UpgradeStageNotice extends NoticeCommon {
  purpose: 'upgrade-stage';
  step: Omit<NoticeStep, 'instructions'> & { instructions?: string[] };
  /** The stage's status (a StageStatus), checked by the activity like a result's outcome. */
  outcome?: string;
}

/** The body of a plain notice: a lead, facts, steps, a list and the commands that answer it. */
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

/**
 * A notice of a run kind without a dedicated template (rule transfer, hardening): rendered as a
 * plain mail of lead, facts, steps, lines and commands, under the notice's purpose. With an
 * outcome (and purpose result or failure) it is the run's final notice.
 */
export interface PlainNoticeRequest extends Omit<NoticeCommon, 'notice'> {
  purpose: NoticePurpose;
  notice: PlainNotice;
  /** A RunOutcome, checked by the template (see ResultNotice). */
  outcome?: string;
}

export type Notice =
  | TransferNotice
  | ReminderNotice
  | EscalationNotice
  | ApprovalRequestNotice
  | ManualStepNotice
  | ResultNotice
  | UpgradeStageNotice
  | PlainNoticeRequest;

/** Omit over each member of a union (Omit of a union keeps only the keys all members share). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The notices a purpose may be sent as. */
export type NoticeOf<P extends NoticePurpose> = Notice extends infer N
  ? N extends Notice
    ? P extends N['purpose']
      ? N
      : never
    : never
  : never;

/** What a workflow adds to the header for a notice of purpose P (RunKit.notify fills the header). */
export type NoticeFields<P extends NoticePurpose> = DistributiveOmit<
  NoticeOf<P>,
  keyof NoticeHeader | 'purpose' | 'links'
> & { links?: NoticeLink[] };

/** A notice without its id: the reminder activity numbers each one it sends. */
export type NoticeTemplate = DistributiveOmit<Notice, 'noticeId'>;

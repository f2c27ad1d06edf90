/**
 * What a run asks of people and what they answered, published in its run state, so the web app
 * and the CLI decide from fields instead of reading sentences, timeline text or timings.
 * Refusals are typed codes with a human sentence beside them: rewording a sentence can no longer
 * break a mail link. Pure: used by workflow validators, the web gateway and the CLI alike.
 */
import type { Channel } from './cycle';
import type { ProofKind } from './proof';

/** Why a run refused an operator's action. The sentence beside it is for people only. */
export const REFUSAL_CODES = [
  /** The run does not wait for this action now (another state, or the question is settled). */
  'not-waiting',
  /** The action names a subject (bundle digest, run, step, stage) other than the one asked about. */
  'wrong-subject',
  'not-approver',
  'carrier-may-not-approve',
  /** This person already answered this question (in this round). */
  'already-decided',
  'digest-mismatch',
  /** `by` is not a plausible identity (empty, control characters, too long). */
  'bad-identity',
  /** A rejection needs a comment, a cancel or abort a reason. */
  'needs-reason',
  'ended',
  'already-cancelled',
  'not-cancellable',
  /** A host, relay, stage or step this run does not know. */
  'unknown-target',
  /** The action arrived without a proof of identity the site accepts (issue 14). */
  'proof-required',
  /** The action's proof of identity did not check out (wrong run, action or person, expired, used). */
  'proof-invalid',
  /** Anything else the run's rules forbid; the sentence says what. */
  'not-allowed',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

export interface Refusal {
  code: RefusalCode;
  message: string;
}

export function isRefusalCode(value: unknown): value is RefusalCode {
  return typeof value === 'string' && (REFUSAL_CODES as readonly string[]).includes(value);
}

/** What a person can be asked to do. A rejection answers an `approve` ask. */
export type AskAction = 'approve' | 'file-copied' | 'manual-done' | 'confirm-stage' | 'retry-stage';

/** One open question a run puts to people. */
export interface Ask {
  /** Stable within a run: `approve`, `file-copied`, `manual:<step>`, `stage:U3`. */
  id: string;
  action: AskAction;
  /** What an answer is bound to: the bundle digest, the run id, the step id, the stage id. */
  subject: string;
  title: string;
  instructions?: string[];
  /** Who is asked (mail recipients); the run's validator still decides who may answer. */
  from: string[];
  /** 0 when first asked; one more each time the same question is asked again (a copy failed). */
  round: number;
  /** Approvals: how many are needed in all, and how many are in. */
  needed?: number;
  given?: number;
  since: string;
  until?: string;
  nextReminder?: string;
}

export type AnswerAction = AskAction | 'reject' | 'cancel' | 'abort';

/** One accepted answer, as the run recorded it. */
export interface Answer {
  askId: string;
  action: AnswerAction;
  subject: string;
  round: number;
  by: string;
  at: string;
  channel: Channel;
  address?: string;
  /** The Update id that carried it: a link posted again finds its own earlier answer by this. */
  updateId?: string;
  /** How `by` was proven (issue 14); absent in runs started before proofs were checked. */
  proof?: ProofKind;
}

/** The open ask a link or command answers, if the run asks it now. */
export function openAsk(asks: readonly Ask[] | undefined, action: AnswerAction, subject?: string): Ask | undefined {
  const wanted: AskAction = action === 'reject' ? 'approve' : (action as AskAction);
  return (asks ?? []).find((a) => a.action === wanted && (subject === undefined || a.subject === subject));
}

/**
 * The earlier answer to the same question by the same person (for approvals) or by anyone (for
 * copies, steps and stages, which one answer settles), newest first.
 */
export function earlierAnswer(
  answers: readonly Answer[] | undefined,
  action: AnswerAction,
  subject: string,
  by?: string,
): Answer | undefined {
  const decision = action === 'approve' || action === 'reject';
  const same = (x: string) => x.toLowerCase() === by?.toLowerCase();
  return [...(answers ?? [])]
    .reverse()
    .find(
      (a) =>
        (decision ? a.action === 'approve' || a.action === 'reject' : a.action === action) &&
        a.subject === subject &&
        (!decision || by === undefined || same(a.by)),
    );
}

/**
 * The human gates every run kind passes the same way, written once: who may decide an approval,
 * the approval wait itself and what each way out of it means, the carry → verify → ask again loop,
 * and how a run ends after an error or a cancellation from Temporal. Deterministic: they act
 * through the RunKit and workflow APIs only, and issue the commands the inline copies issued, in
 * the same order, so runs that started before replay unchanged.
 */
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { NoticeFields } from '../activities/types';
import type { Refusal } from '../domain/asks';
import { approvalProblem, type ApprovalRules } from '../domain/cycle';
import type { WaitProgress } from '../domain/human-wait';
import { byRefusal } from '../domain/identity';
import { describeFailure } from './activity-options';
import type { RunKit, WaitForPeople, WaitResult } from './run-kit';

export interface DecisionRules {
  /** "this cycle", "this rule transfer", "this hardening run": named when it is not waiting. */
  noun: string;
  /** Whether the run waits for a decision now. */
  waiting(): boolean;
  /** The approval rules, once the run knows them. */
  rules(): ApprovalRules | undefined;
  /** Who may not approve under the carrier rule (carriers, or whoever asked for the run). */
  carriers(): readonly string[];
  /** Why a carrier may not approve, after their name; the default speaks of carrying the file. */
  carrierReason?: string;
}

/** Why `by` may not decide now: the one rule behind every run's approve and reject validators. */
export function decisionRefusal(kit: RunKit, d: DecisionRules, by: string): Refusal | undefined {
  const rules = d.rules();
  if (!d.waiting() || !rules) {
    return { code: 'not-waiting', message: `${d.noun} is not waiting for approval (state: ${kit.state})` };
  }
  const byProblem = byRefusal(by, 'decides');
  if (byProblem) return { code: 'bad-identity', message: byProblem };
  return approvalProblem(
    rules,
    by,
    d.carriers(),
    kit.approvals.map((a) => a.by),
    d.carrierReason,
  );
}

export interface ApprovalGate {
  needed: number;
  approvers: string[];
  escalation: string[];
  /** What the approve and reject links are bound to (a bundle digest, the Temporal run id). */
  subject: string;
  /** "approve the import": the first mail's subject line, "reminder: …" after. */
  ask: string;
  /** The reminder's subject line; `reminder: <ask>` unless said. */
  remindAs?: string;
  /** "the import is still not approved": the escalation's. */
  stillNot: string;
  /** What the first request mail carries (links, notice, deadline…). */
  request(progress: WaitProgress): NoticeFields<'approval-request'>;
  /** What a reminder carries besides its number. */
  reminder(progress: WaitProgress): NoticeFields<'approval-request'>;
}

export type GateOutcome = 'approved' | 'rejected' | 'cancelled' | 'expired';

/**
 * The approval gate: `awaiting-approval`, the request, reminders and one escalation, until
 * enough approvals are in, someone rejects, the run is cancelled, or the deadline passes. The run
 * must have registered `kit.acceptDecisions` (and `kit.acceptCancel`).
 */
export async function approvalGate(kit: RunKit, gate: ApprovalGate): Promise<GateOutcome> {
  kit.setState('awaiting-approval');
  const progress: WaitProgress = { startedAt: Date.now(), remindersSent: 0, escalated: false };
  kit.ask({
    id: 'approve',
    action: 'approve',
    subject: gate.subject,
    title: gate.ask,
    from: gate.approvers,
    needed: gate.needed,
    given: kit.approvals.length,
    since: progress.startedAt,
  });
  kit.notify('approval-request', gate.approvers, gate.ask, gate.request(progress));
  try {
    const result = await kit.waitForPeople({
      what: { what: `${gate.needed} approval(s)` },
      from: gate.approvers,
      done: () => kit.approvals.length >= gate.needed,
      abort: () => kit.rejection !== undefined || kit.cancellation !== undefined,
      remind: (kind, number) =>
        kind === 'escalation'
          ? kit.notify('escalation', [...gate.approvers, ...gate.escalation], gate.stillNot, {
              since: progress.startedAt,
              number,
            })
          : kit.notify('approval-request', gate.approvers, gate.remindAs ?? `reminder: ${gate.ask}`, {
              ...gate.reminder(progress),
              number,
            }),
      progress,
      ask: 'approve',
    });
    if (kit.rejection) return 'rejected';
    if (result === 'aborted') return 'cancelled';
    if (result === 'deadline') return 'expired';
    return 'approved';
  } finally {
    kit.settle('approve');
  }
}

/** The reason a run records when its approval gate did not let it through. */
export function gateReason(kit: RunKit, outcome: Exclude<GateOutcome, 'approved'>, what: string): string {
  switch (outcome) {
    case 'rejected':
      return `rejected by ${kit.rejection!.by}: ${kit.rejection!.comment}`;
    case 'cancelled':
      return cancelReason(kit);
    case 'expired':
      return `${what} was not approved before the deadline`;
  }
}

/** "cancelled by <who>: <why>", as every run kind records an accepted cancel. */
export function cancelReason(kit: RunKit): string {
  return `cancelled by ${kit.cancellation!.by}: ${kit.cancellation!.reason}`;
}

export interface CarryLoop {
  /** The wait for the report that the files were copied (its `done` holds once one is reported). */
  wait: WaitForPeople;
  /** Verifies what was reported copied; true when everything is verified. */
  verify(): Promise<boolean>;
  /** Not everything verified: say what is missing (and, when a copy was wrong, `kit.askAgain`). */
  again(): void;
}

/**
 * Carry → verify → mismatch → ask again, until every copy verifies, the run is cancelled, or
 * nobody reports a copy before the deadline (which counts from the first request).
 */
export async function carryUntilVerified(kit: RunKit, loop: CarryLoop): Promise<'verified' | WaitResult> {
  for (;;) {
    const result = await kit.waitForPeople(loop.wait);
    if (result !== 'done') return result;
    kit.setState('verifying');
    if (await loop.verify()) return 'verified';
    loop.again();
  }
}

/**
 * How a run ends after an error escaped its main path: a cancellation from Temporal is recorded
 * (who: temporal) and ends the run as cancelled, anything else as failed with the failure named.
 * Both endings run outside cancellation, so their audit records and mails still go out.
 */
export function endAfterError<R>(
  err: unknown,
  ends: {
    /** Notes the cancellation from Temporal unless a person's came first; returns the reason. */
    noteCancellation(): string;
    cancelled(reason: string): Promise<R>;
    failed(reason: string): Promise<R>;
  },
): Promise<R> {
  if (isCancellation(err)) {
    const reason = ends.noteCancellation();
    return CancellationScope.nonCancellable(() => ends.cancelled(reason));
  }
  const reason = describeFailure(err);
  return CancellationScope.nonCancellable(() => ends.failed(reason));
}

/** The cancellation from Temporal as a RunKit records it (a person's cancel, if first, stays). */
export function noteTemporalCancel(kit: RunKit): string {
  kit.cancellation ??= { by: 'temporal', reason: 'the workflow was cancelled from Temporal' };
  return kit.cancellation.reason;
}

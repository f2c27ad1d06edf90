/**
 * What every workflow of this project does the same way: keep a timeline and a state that the
 * dashboard can query, write each step to the audit, send notices without blocking, wait for
 * people with reminders, an escalation and a deadline, and run guided manual steps that a person
 * confirms (`manualStepDoneUpdate`). Deterministic: workflow APIs only.
 */
import {
  ActivityCancellationType,
  allHandlersFinished,
  CancellationScope,
  condition,
  patched,
  currentUpdateInfo,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createControlActivities } from '../activities/control-activities';
import type { LinkAction, NoticeFields, NoticePurpose, NoticeRequest } from '../activities/types';
import type { AuditEvent, AuditKind } from '../domain/audit';
import type { Answer, AnswerAction, Ask, Refusal } from '../domain/asks';
import type { OsUserAction } from '../domain/config';
import type { Actor, ApprovalRules } from '../domain/cycle';
import type { ProofCheck } from '../activities/proof-activities';
import { DEFAULT_APPROVAL_PROOFS, type ProofKind } from '../domain/proof';
import { nextWaitEvent, waitProgressAt, type WaitPolicy, type WaitProgress } from '../domain/human-wait';
import {
  approveUpdate,
  cancelUpdate,
  manualStepDoneUpdate,
  rejectUpdate,
  runStateQuery,
  type ActionAnswer,
  type ActionBase,
  type DecisionInput,
  type ManualStepDoneInput,
  type RunState,
  type TimelineEntry,
  type WaitingFor,
} from './run-messages';
import { KIND, SITE, STATE } from './search-attributes';
import { byRefusal } from '../domain/identity';
import { refuse } from './refusal';

type ControlActivities = ReturnType<typeof createControlActivities>;

// Mail must never be lost and never block a run: retried for a day, never awaited on the main path.
const mail = proxyActivities<ControlActivities>({
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '1d',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5m' },
});
// The audit store is local to the worker: a local activity costs one marker event per record
// instead of three events, which keeps week-long waits far below Temporal's history limits.
const local = proxyLocalActivities<ControlActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: ['AuditEventError'] },
});

// A wait's reminders: one activity for the whole wait on the control worker (reminder-activities.ts).
// Its heartbeat carries its progress, so a retry after a crash resumes; a minute without one means
// the worker died. TRY_CANCEL: the run goes on at once when the wait ends (`stopReminders` stops
// the activity on its worker at once; cancellation reaches it on its next heartbeat otherwise).
const reminderActivity = (policy: WaitPolicy) =>
  proxyActivities<ControlActivities>({
    startToCloseTimeout: policy.deadline + 86_400_000,
    // A minute; shorter only under a compressed policy (tests, bench), so a crash is noticed in time.
    heartbeatTimeout: Math.min(60_000, Math.max(10_000, policy.reminderEvery)),
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
    cancellationType: ActivityCancellationType.TRY_CANCEL,
  });
// Runs that waited before reminders moved into one activity keep the per-reminder timer loop.
const REMINDERS_BY_ACTIVITY = 'reminders-by-activity';
// Runs since issue 14 check the proof of identity each action carries; runs already waiting before
// replay without it (their Update handlers issue no proof-check marker).
const APPROVAL_PROOF = 'approval-proof';

export const iso = (ms: number) => new Date(ms).toISOString();

export type WaitResult = 'done' | 'aborted' | 'deadline';

/** How a run takes approvals: who may, how many, what is recorded, what a rejection means. */
export interface DecisionSpec {
  /** "the import", "the hardening": named in the timeline. */
  noun: string;
  /** Why `by` may not approve now, or undefined (state, approver list, carrier rule, repeat). */
  refusal(by: string): Refusal | undefined;
  required(): number;
  /** Facts recorded with each decision (digest, files, items). */
  auditData(): Record<string, unknown>;
  /** The answer to an accepted rejection: what happens now. */
  afterRejection: string;
}

/** When a run may be cancelled, and what the canceller is told. */
export interface CancelSpec {
  /** "the cycle", "the rule transfer". */
  noun: string;
  /** Why it cannot be cancelled now (besides having ended or being cancelled already). */
  refusal(): Refusal | undefined;
  isTerminal(): boolean;
  afterCancel: string;
}

export interface ManualStepSpec {
  step: string;
  title: string;
  instructions: string[];
  to: string[];
}

/** Who hears about a run: set once the run knows its site. */
export interface RunAudience {
  siteName: string;
  escalation: string[];
  waits: WaitPolicy;
  /** What proves an approver (the site's approval.proofs); DEFAULT_APPROVAL_PROOFS when absent. */
  proofs?: readonly ProofKind[];
  /** Operator actions a CLI login name may prove (approval.osUserActions). */
  osUserActions?: readonly OsUserAction[];
}

/** The audience's proof rules from a plan's approval rules (absent in plans recorded before issue 14). */
export function proofRules(approval: ApprovalRules): Pick<RunAudience, 'proofs' | 'osUserActions'> {
  return {
    ...(approval.proofs ? { proofs: approval.proofs } : {}),
    ...(approval.osUserActions ? { osUserActions: approval.osUserActions } : {}),
  };
}

/** What the proof of an action is checked against: the link action and subject it is bound to. */
export interface ProofTarget {
  action: LinkAction;
  subject: string;
}

/** What `waitForPeople` waits for, and how it reminds; the deadline counts from `progress.startedAt`. */
export interface WaitForPeople {
  what: Pick<WaitingFor, 'what' | 'title' | 'instructions'>;
  from: string[];
  done: () => boolean;
  abort: () => boolean;
  remind: (kind: 'reminder' | 'escalation', number: number) => void;
  progress?: WaitProgress;
  /** The open ask this wait answers: its deadline and next reminder follow the wait's. */
  ask?: string;
}

/** A question put to people, as `RunKit.ask` takes it (the round and the times are the kit's). */
export type AskSpec = Omit<Ask, 'round' | 'since'> & { since?: number };

export class RunKit {
  readonly info = workflowInfo();
  readonly startedAt = Date.now();
  state: string;
  stateSince = this.startedAt;
  waitingFor?: WaitingFor;
  outcome?: RunState['outcome'];
  readonly timeline: TimelineEntry[] = [];
  audience?: RunAudience;
  private auditSeq = 0;
  private noticeSeq = 0;
  private waitSeq = 0;
  // While the reminder activity sends a wait's reminders: the query counts them from the policy.
  private remindedWait?: { policy: WaitPolicy; startedAt: number; ask?: string };
  // While set, notify() collects the notice instead of sending it (a wait's reminder templates).
  private capturing?: NoticeRequest[];
  // Writes started by handlers are not awaited there; drain() awaits them all before the run
  // closes, so no record or notice is dropped.
  private readonly pending: Promise<unknown>[] = [];
  private readonly manualDone = new Map<string, string>();
  private readonly manualDoneActors = new Map<string, Actor>();
  readonly approvals: { by: string; at: string; comment?: string }[] = [];
  rejection?: { by: string; comment?: string };
  cancellation?: { by: string; reason: string };
  /** What the run asks of people now, and what they answered: the web app and CLI read these. */
  readonly asks: Ask[] = [];
  readonly answers: Answer[] = [];
  // Each ask id's latest question, kept after it is settled: asking again opens the next round.
  private readonly asked = new Map<string, Ask>();
  /** Whether this run checks proofs of identity (false: a run started before issue 14, replaying). */
  readonly proven: boolean;
  // One-time codes that counted already: each counts once.
  private readonly usedCodes = new Set<string>();
  // Manual steps that are approvals (a rollout stage's): answered only with an accepted proof.
  private readonly approvalSteps = new Set<string>();

  constructor(
    readonly kind: AuditKind,
    readonly site: string,
    initialState: string,
  ) {
    this.state = initialState;
    this.proven = patched(APPROVAL_PROOF);
    setHandler(runStateQuery, () => this.runState());
    upsertSearchAttributes([
      { key: SITE, value: site },
      { key: KIND, value: kind },
      { key: STATE, value: initialState },
    ]);
    const manualDone = (i: ManualStepDoneInput, proof?: ProofKind) => {
      const actor = this.actor(i, proof);
      this.manualDone.set(i.step, i.by);
      this.manualDoneActors.set(i.step, actor);
      this.recordAnswer(`manual:${i.step}`, 'manual-done', i, i.step, proof);
      this.settle(`manual:${i.step}`);
      this.note('human.manual-step-done', `${i.by} confirmed the manual step "${i.step}"`, actor);
      void this.audit('human.manual-step-done', { step: i.step, comment: i.comment }, actor);
      return this.answer(i.by, `manual step "${i.step}" confirmed by ${i.by}`);
    };
    const validateManual = (i: ManualStepDoneInput) => {
      const byProblem = byRefusal(i.by, 'did the step');
      if (byProblem) refuse('bad-identity', byProblem);
      if (this.waitingFor?.what !== `manual:${i.step}`) {
        const settled = this.manualDone.has(i.step) ? 'already-decided' : 'not-waiting';
        refuse(settled, `this ${kind} is not waiting for the manual step "${i.step}" (state: ${this.state})`);
      }
    };
    setHandler(
      manualStepDoneUpdate,
      (i) => {
        if (!this.proven) return manualDone(i);
        const target = { action: 'manual-done' as const, subject: i.step };
        // A manual step that is an approval (a rollout stage's) counts only with an accepted proof.
        const proving = this.approvalSteps.has(i.step)
          ? this.proveDecision(i, target, () => validateManual(i))
          : this.proveAction(i, target, 'done');
        if (typeof proving === 'string') return manualDone(i, proving);
        return proving.then((proof) => {
          validateManual(i); // the run may have moved on while the proof was checked
          return manualDone(i, proof);
        });
      },
      {
        validator: (i) => {
          if (this.approvalSteps.has(i.step)) this.codeReused(i);
          validateManual(i);
          if (this.approvalSteps.has(i.step)) this.proofRequired(i, `confirming "${i.step}"`);
        },
      },
    );
  }

  /** Marks a manual step as an approval: confirming it needs a proof the site accepts for approvals. */
  approvalStep(step: string): void {
    if (this.proven) this.approvalSteps.add(step);
  }

  /** The proofs this site accepts for approvals. */
  acceptedProofs(): readonly ProofKind[] {
    return this.audience?.proofs ?? DEFAULT_APPROVAL_PROOFS;
  }

  /**
   * In an approval's validator: refuses at once a decision whose claimed proof this site does not
   * accept (none at all, typically); the claim itself is checked by the handler (proveDecision).
   */
  proofRequired(i: ActionBase, what: string): void {
    if (!this.proven) return;
    const accepted = this.acceptedProofs();
    const kind = i.proof?.kind ?? 'unproven';
    if (accepted.includes(kind)) return;
    refuse(
      'proof-required',
      `${what} by ${i.by} counts only with a proof this site accepts (${accepted.join(', ')}); ` +
        `${kind === 'unproven' ? 'none was given' : `${kind} is not one of them`} — from the CLI, add --code <the code from the approval mail>`,
    );
  }

  /** Refuses a one-time code that counted already, before any other rule: say "used", not "decided". */
  codeReused(i: ActionBase): void {
    if (!this.proven || i.proof?.kind !== 'cli-code' || typeof i.proof.credential !== 'string') return;
    // The canonical text, as domain/cli-code.ts normalises it (the check activity returns it so).
    const code = i.proof.credential.replace(/[\s-]/g, '').toUpperCase();
    if (this.usedCodes.has(code)) {
      refuse('proof-invalid', 'this code has been used already (each code counts once); nothing was recorded');
    }
  }

  private check(i: ActionBase, target: ProofTarget): Promise<ProofCheck> {
    return local.checkProof({
      site: this.site,
      workflowId: this.info.workflowId,
      ...target,
      by: i.by,
      proof: i.proof!,
    });
  }

  /**
   * In an approval's handler: the claimed proof, checked on the control worker (a string when
   * there is nothing to check). A proof that fails, or a one-time code used before, is refused:
   * nothing is counted. `recheck` runs the action's rules again (the run may have moved on while
   * the proof was checked) before a code is spent, so a refused action leaves its code usable.
   */
  proveDecision(i: ActionBase, target: ProofTarget, recheck: () => void): ProofKind | Promise<ProofKind> {
    const kind = i.proof?.kind ?? 'unproven';
    if (kind === 'unproven') return kind;
    return this.check(i, target).then((check) => {
      if (!check.ok) refuse('proof-invalid', `${check.reason}; nothing was recorded`);
      if (check.codeId !== undefined && this.usedCodes.has(check.codeId)) {
        refuse('proof-invalid', 'this code has been used already (each code counts once); nothing was recorded');
      }
      recheck();
      if (check.codeId !== undefined) this.usedCodes.add(check.codeId);
      return kind;
    });
  }

  /**
   * In the handler of an action that is not an approval: the proof to record with it (a string
   * when there is nothing to check). Such actions are never refused for their proof: one that
   * fails, or an os-user the site does not allow for this action, is recorded as `unproven`.
   */
  proveAction(i: ActionBase, target: ProofTarget, osAction: OsUserAction): ProofKind | Promise<ProofKind> {
    const claim = i.proof;
    if (!claim || claim.kind === 'unproven') return 'unproven';
    if (claim.kind === 'os-user' && !(this.audience?.osUserActions ?? []).includes(osAction)) return 'unproven';
    return this.check(i, target).then((check) => (check.ok ? claim.kind : 'unproven'));
  }

  /**
   * Registers the approve and reject Updates. Validators answer at once with the reason for a
   * refusal; an approver who already approved may still change their mind and reject.
   */
  acceptDecisions(spec: DecisionSpec): void {
    const approve = (i: DecisionInput, proof?: ProofKind) => {
      const actor = this.actor(i, proof);
      this.approvals.push({ by: i.by, at: iso(Date.now()), comment: i.comment });
      const answer = this.recordAnswer('approve', 'approve', i, undefined, proof);
      const ask = this.asks.find((a) => a.id === answer.askId);
      if (ask) ask.given = this.approvals.length;
      this.note('human.approved', `${i.by} approved ${spec.noun}${i.comment ? `: ${i.comment}` : ''}`, actor);
      void this.audit('human.approved', { comment: i.comment, ...spec.auditData() }, actor);
      return this.answer(i.by, `approval by ${i.by} recorded (${this.approvals.length} of ${spec.required()})`);
    };
    const validateApprove = (i: DecisionInput) => {
      const refusal = spec.refusal(i.by);
      if (refusal) refuse(refusal.code, refusal.message);
    };
    const reject = (i: DecisionInput, proof?: ProofKind) => {
      const actor = this.actor(i, proof);
      this.rejection = { by: i.by, comment: i.comment };
      this.recordAnswer('approve', 'reject', i, undefined, proof);
      this.note('human.rejected', `${i.by} rejected ${spec.noun}: ${i.comment}`, actor);
      void this.audit('human.rejected', { comment: i.comment, ...spec.auditData() }, actor);
      return this.answer(i.by, `rejected by ${i.by}; ${spec.afterRejection}`);
    };
    const validateReject = (i: DecisionInput) => {
      if (!i.comment?.trim()) refuse('needs-reason', 'a rejection needs a comment saying why (--comment)');
      // An approver who already approved may still change their mind and reject.
      const refusal = spec.refusal(i.by);
      if (refusal && refusal.code !== 'already-decided') refuse(refusal.code, refusal.message);
    };
    // The proof is checked in the handler (a validator cannot wait for the control worker), then
    // the rules again: another answer may have settled the question in the meantime.
    const decide = (
      i: DecisionInput,
      action: 'approve' | 'reject',
      validate: (i: DecisionInput) => void,
      apply: (i: DecisionInput, proof?: ProofKind) => ActionAnswer,
    ): ActionAnswer | Promise<ActionAnswer> => {
      if (!this.proven) return apply(i);
      const subject = this.asks.find((a) => a.id === 'approve')?.subject ?? '';
      const proving = this.proveDecision(i, { action, subject }, () => validate(i));
      if (typeof proving === 'string') return apply(i, proving);
      return proving.then((proof) => {
        validate(i);
        return apply(i, proof);
      });
    };
    setHandler(approveUpdate, (i) => decide(i, 'approve', validateApprove, approve), {
      validator: (i) => {
        this.codeReused(i);
        validateApprove(i);
        this.proofRequired(i, 'an approval');
      },
    });
    setHandler(rejectUpdate, (i) => decide(i, 'reject', validateReject, reject), {
      validator: (i) => {
        this.codeReused(i);
        validateReject(i);
        this.proofRequired(i, 'a rejection');
      },
    });
  }

  /** Registers the cancel Update; the run sees `cancellation` set and winds down its own way. */
  acceptCancel(spec: CancelSpec): void {
    setHandler(
      cancelUpdate,
      (i) => {
        // A cancel is never refused for its proof; nothing is checked for it, so it is unproven.
        const proof = this.proven ? ('unproven' as const) : undefined;
        const actor = this.actor(i, proof);
        this.cancellation = { by: i.by, reason: i.reason };
        this.recordAnswer('cancel', 'cancel', i, this.info.runId, proof);
        this.note('human.cancelled', `${i.by} cancelled ${spec.noun}: ${i.reason}`, actor);
        void this.audit('human.cancelled', { reason: i.reason }, actor);
        return this.answer(i.by, `cancel requested by ${i.by}; ${spec.afterCancel}`);
      },
      {
        validator: (i) => {
          const byProblem = byRefusal(i.by, 'cancels');
          if (byProblem) refuse('bad-identity', byProblem);
          if (!i.reason?.trim()) refuse('needs-reason', 'a cancel needs a reason (--reason)');
          if (spec.isTerminal()) refuse('ended', `${spec.noun} has already ended (state: ${this.state})`);
          const refusal = spec.refusal();
          if (refusal) refuse(refusal.code, refusal.message);
          if (this.cancellation) refuse('already-cancelled', `already cancelled by ${this.cancellation.by}`);
        },
      },
    );
  }

  runState(): RunState {
    const reminded = this.remindedWait;
    if (reminded && this.waitingFor) {
      // The time of the run's latest workflow task: as of then, not of the query.
      const sent = waitProgressAt(reminded.policy, reminded.startedAt, Date.now());
      const next = nextWaitEvent(reminded.policy, sent);
      this.waitingFor.nextReminder = next.kind === 'deadline' ? undefined : iso(next.at);
      this.waitingFor.reminders = { by: 'control-worker', sent: sent.remindersSent, escalated: sent.escalated };
      const ask = reminded.ask === undefined ? undefined : this.asks.find((x) => x.id === reminded.ask);
      if (ask) ask.nextReminder = this.waitingFor.nextReminder;
    }
    return {
      id: this.info.workflowId,
      runId: this.info.runId,
      kind: this.kind,
      site: this.site,
      state: this.state,
      stateSince: iso(this.stateSince),
      startedAt: iso(this.startedAt),
      waitingFor: this.waitingFor,
      outcome: this.outcome,
      timeline: this.timeline,
      asks: this.asks,
      answers: this.answers,
    };
  }

  /**
   * Puts a question to people, or updates the one open under the same id. A question asked
   * before and settled opens in its next round (a link posted in the earlier round is then new).
   */
  ask(spec: AskSpec): Ask {
    const { since, ...rest } = spec;
    const open = this.asks.find((a) => a.id === spec.id);
    if (open) return Object.assign(open, rest);
    const earlier = this.asked.get(spec.id);
    const ask: Ask = { ...rest, round: earlier ? earlier.round + 1 : 0, since: iso(since ?? Date.now()) };
    this.asked.set(spec.id, ask);
    this.asks.push(ask);
    return ask;
  }

  /**
   * Asks the same question again (a copy did not verify): its next round, open from now, whether
   * or not it was still open. Undefined when it was never asked.
   */
  askAgain(id: string): Ask | undefined {
    const last = this.asked.get(id);
    if (!last) return undefined;
    this.settle(id);
    const again: Ask = { ...last, round: last.round + 1, since: iso(Date.now()) };
    this.asked.set(id, again);
    this.asks.push(again);
    return again;
  }

  /** The question is answered or no longer asked. */
  settle(id: string): void {
    const at = this.asks.findIndex((a) => a.id === id);
    if (at >= 0) this.asks.splice(at, 1);
  }

  /**
   * Records an accepted answer with the Update id that carried it, so a link posted again finds
   * its own earlier answer. Call from an Update handler (a Signal has no Update id).
   */
  recordAnswer(askId: string, action: AnswerAction, i: ActionBase, subject?: string, proof?: ProofKind): Answer {
    const ask = this.asks.find((a) => a.id === askId);
    const updateId = currentUpdateInfo()?.id;
    const answer: Answer = {
      askId,
      action,
      subject: subject ?? ask?.subject ?? '',
      round: ask?.round ?? this.asked.get(askId)?.round ?? 0,
      by: i.by,
      at: iso(Date.now()),
      channel: i.channel ?? 'cli',
      ...(i.address ? { address: i.address } : {}),
      ...(updateId ? { updateId } : {}),
      ...(proof ? { proof } : {}),
    };
    this.answers.push(answer);
    return answer;
  }

  /** Who acted, through which door, and (runs since issue 14) how that was proven. */
  actor(i: { by: string; channel?: Actor['channel']; address?: string }, proof?: ProofKind): Actor {
    return { who: i.by, channel: i.channel ?? 'cli', address: i.address, ...(proof ? { proof } : {}) };
  }

  answer(by: string, message: string): ActionAnswer {
    return { accepted: true, state: this.state, message, by, at: iso(Date.now()) };
  }

  note(type: string, summary: string, actor?: Actor): void {
    this.timeline.push({ at: iso(Date.now()), type, summary, actor });
  }

  setState(next: string, summary?: string): void {
    this.state = next;
    this.stateSince = Date.now();
    upsertSearchAttributes([{ key: STATE, value: next }]);
    this.note(`state.${next}`, summary ?? next);
  }

  async audit(type: string, data?: Record<string, unknown>, actor?: Actor, outcome?: string): Promise<void> {
    const event: AuditEvent = {
      id: `${this.info.workflowId}/${this.info.runId}/${++this.auditSeq}`,
      workflowId: this.info.workflowId,
      runId: this.info.runId,
      site: this.site,
      kind: this.kind,
      type,
      at: iso(Date.now()),
      actor,
      outcome,
      data,
    };
    const write = local.recordAudit(event);
    this.pending.push(write);
    await write;
  }

  link(action: LinkAction, subject: string, label: string): NoticeRequest['links'][number] {
    return { action, subject, label };
  }

  /**
   * Approve/reject links for runs other than cycles (a cycle binds its links to the bundle
   * digest): bound to this Temporal run, so a link from an earlier run of the same id acts on nothing.
   */
  approvalLinks(what: string): NoticeRequest['links'] {
    return [
      this.link('approve', this.info.runId, `Approve ${what}`),
      this.link('reject', this.info.runId, `Reject ${what}`),
    ];
  }

  /** Sends without blocking the run: SMTP down delays mail, it does not stop the run. */
  notify<P extends NoticePurpose>(purpose: P, to: string[], ask: string, extra: NoticeFields<P>): void {
    const recipients = [...new Set(to)];
    if (!this.audience || recipients.length === 0) return;
    // NoticeFields<P> holds the fields of a notice of purpose P at every call; TypeScript cannot
    // carry that link through the spread of a generic, hence the one assertion here.
    const request = {
      purpose,
      site: this.site,
      siteName: this.audience.siteName,
      workflowId: this.info.workflowId,
      noticeId: this.capturing ? '' : `${this.info.runId}/${++this.noticeSeq}`,
      runKind: this.kind,
      to: recipients,
      ask,
      links: [],
      ...extra,
    } as NoticeRequest;
    if (this.capturing) {
      this.capturing.push(request);
      return;
    }
    this.pending.push(
      mail.notify(request).catch(async (err: unknown) => {
        this.note('mail.undeliverable', `${purpose} mail could not be sent: ${(err as Error).message}`);
        await this.audit('mail.undeliverable', { purpose, to: recipients, error: (err as Error).message });
      }),
    );
  }

  /**
   * Waits until `done()` or `abort()` holds, sending reminders and one escalation on the way
   * (through `remind`). The deadline counts from `progress.startedAt`.
   */
  async waitForPeople(wait: WaitForPeople): Promise<WaitResult> {
    const progress = wait.progress ?? { startedAt: Date.now(), remindersSent: 0, escalated: false };
    const policy = this.audience!.waits;
    // A run that checks proofs (patched in its first task) was started by code that always reminds by
    // activity, so it asks no second patch here. Asking one here, after a local activity, made a
    // replay miss its marker: a local activity's result can reach a replay one workflow task
    // earlier than it reached the first run, and core looks for a patch marker task by task.
    if (this.proven || patched(REMINDERS_BY_ACTIVITY)) return this.waitRemindedByActivity(wait, progress, policy);
    const { what, from, done, abort, remind } = wait;
    try {
      for (;;) {
        const next = nextWaitEvent(policy, progress);
        this.waitingFor = {
          ...what,
          from,
          since: iso(progress.startedAt),
          until: iso(progress.startedAt + policy.deadline),
          nextReminder: next.kind === 'deadline' ? undefined : iso(next.at),
        };
        const ask = wait.ask === undefined ? undefined : this.asks.find((x) => x.id === wait.ask);
        if (ask) {
          ask.until = this.waitingFor.until;
          ask.nextReminder = this.waitingFor.nextReminder;
        }
        if (abort()) return 'aborted';
        if (done()) return 'done';
        const woke = await condition(() => abort() || done(), Math.max(next.at - Date.now(), 1));
        if (woke) continue;
        if (next.kind === 'deadline') return 'deadline';
        if (next.kind === 'reminder') progress.remindersSent++;
        else progress.escalated = true;
        this.note(next.kind, `${next.kind} sent for: ${what.title ?? what.what}`);
        void this.audit(`wait.${next.kind}`, { what: what.what, remindersSent: progress.remindersSent });
        remind(next.kind, next.kind === 'reminder' ? progress.remindersSent : 1);
      }
    } finally {
      this.waitingFor = undefined;
    }
  }

  /**
   * The wait with its reminders sent by one activity (`remindPeople`) instead of a timer, a notify
   * activity and an audit marker per reminder: the history holds the deadline timer, the activity
   * and one marker when the wait ends, however many reminders go out. `progress` is brought up to
   * date when the wait ends, for a wait that resumes (a copy that did not verify).
   */
  private async waitRemindedByActivity(wait: WaitForPeople, progress: WaitProgress, policy: WaitPolicy) {
    const { what, from, done, abort } = wait;
    const deadlineAt = progress.startedAt + policy.deadline;
    this.waitingFor = { ...what, from, since: iso(progress.startedAt), until: iso(deadlineAt) };
    this.remindedWait = { policy, startedAt: progress.startedAt, ask: wait.ask };
    const ask = wait.ask === undefined ? undefined : this.asks.find((x) => x.id === wait.ask);
    if (ask) ask.until = this.waitingFor.until;
    try {
      if (abort()) return 'aborted';
      if (done()) return 'done';
      // The notices as `remind` would send them now; the activity numbers each one.
      const templates: NoticeRequest[][] = [[], []];
      [this.capturing] = templates;
      wait.remind('reminder', 1);
      this.capturing = templates[1];
      wait.remind('escalation', 1);
      this.capturing = undefined;
      const strip = (n: NoticeRequest | undefined) => n && (({ noticeId: _, ...rest }) => rest)(n);
      const waitId = `${this.info.runId}/wait-${++this.waitSeq}`;
      const scope = new CancellationScope();
      const reminding = scope.run(() =>
        reminderActivity(policy).remindPeople({
          waitId,
          policy,
          progress: { ...progress },
          reminder: strip(templates[0]![0]),
          escalation: strip(templates[1]![0]),
          run: { workflowId: this.info.workflowId, runId: this.info.runId, site: this.site, kind: this.kind },
          what: what.what,
        }),
      );
      // The activity's end (or failure) is read only below; never an unhandled rejection.
      reminding.catch(() => undefined);
      const woke = await condition(() => abort() || done(), Math.max(deadlineAt - Date.now(), 1));
      const { stopped } = await local.stopReminders({ waitId });
      if (!stopped) scope.cancel();
      const sent = await reminding.catch(() => undefined);
      Object.assign(progress, sent ?? waitProgressAt(policy, progress.startedAt, Date.now()));
      if (!woke) return 'deadline';
      return abort() ? 'aborted' : 'done';
    } finally {
      this.capturing = undefined;
      this.remindedWait = undefined;
      this.waitingFor = undefined;
    }
  }

  /**
   * A guided manual step: instructions by mail with a "done" link, reminders, escalation; the
   * run continues only when a person confirms. Resolves 'done', 'aborted' or 'deadline'.
   */
  async manualStep(spec: ManualStepSpec, abort: () => boolean = () => false): Promise<WaitResult> {
    const links = [this.link('manual-done', spec.step, `I have done: ${spec.title}`)];
    const step = { id: spec.step, title: spec.title, instructions: spec.instructions };
    this.notify('manual-step', spec.to, spec.title, { step, links });
    void this.audit('manual-step.requested', { step: spec.step, title: spec.title });
    const askId = `manual:${spec.step}`;
    this.ask({
      id: askId,
      action: 'manual-done',
      subject: spec.step,
      title: spec.title,
      instructions: spec.instructions,
      from: spec.to,
    });
    return this.waitForPeople({
      what: { what: askId, title: spec.title, instructions: spec.instructions },
      from: spec.to,
      done: () => this.manualDone.has(spec.step),
      abort,
      ask: askId,
      remind: (kind, number) =>
        kind === 'escalation'
          ? this.notify(
              'escalation',
              [...spec.to, ...this.audience!.escalation],
              `nobody has confirmed: ${spec.title}`,
              { step, number },
            )
          : this.notify('manual-step', spec.to, `reminder: ${spec.title}`, { step, links, number }),
    }).finally(() => this.settle(askId));
  }

  /** Who confirmed the manual step, and through which door. */
  manualStepActor(step: string): Actor | undefined {
    return this.manualDoneActors.get(step);
  }

  /** Whether the manual step was confirmed, and by whom. */
  manualStepDoneBy(step: string): string | undefined {
    return this.manualDone.get(step);
  }

  /** Records the outcome and waits for every write and handler before the run returns. */
  async close(final: string, reason: string | undefined, data: Record<string, unknown>): Promise<void> {
    this.waitingFor = undefined;
    this.asks.splice(0);
    this.setState(final, reason ? `${final}: ${reason}` : final);
    this.outcome = { state: final, reason, at: iso(Date.now()) };
    await this.audit(`${this.kind}.ended`, { reason, ...data }, undefined, final);
    await this.drain();
  }

  async drain(): Promise<void> {
    // A write started by a handler may itself start another (mail failure → audit record).
    for (let settled = 0; settled < this.pending.length;) {
      const batch = this.pending.slice(settled);
      settled = this.pending.length;
      await Promise.all(batch);
    }
    await condition(allHandlersFinished);
  }
}

/**
 * A wait's reminders and its escalation, sent by one long-running activity on the control worker
 * instead of a timer, a notify activity and an audit marker each in the run's history: a week of
 * reminders every 4 h costs the run a handful of events instead of ~12 per reminder.
 *
 * The activity sleeps until each reminder falls due (the same `nextWaitEvent` policy the workflow
 * loop used), sends the notice, writes the `wait.reminder` / `wait.escalation` audit record, and
 * heartbeats its progress. A retry after a crash resumes from the heartbeat details and skips every
 * reminder whose audit record is already written, so no reminder is lost and none is mailed twice,
 * except one whose mail went out just before the crash and whose record did not (SMTP only: the
 * outbox drops the second copy by its idempotency key, and SMTP copies share one Message-ID).
 */
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { AuditStore } from '../adapters/audit-store';
import type { AuditKind } from '../domain/audit';
import { nextWaitEvent, type WaitPolicy, type WaitProgress } from '../domain/human-wait';
import type { NoticeRequest, NoticeTemplate } from './types';

export interface RemindPeopleInput {
  /** `<runId>/wait-<n>`: unique per wait of a workflow; names its notices and audit records. */
  waitId: string;
  policy: WaitPolicy;
  /** Where the wait stands when the activity starts (a wait resumed after a copy did not verify). */
  progress: WaitProgress;
  /** The notices as the workflow would have sent them; `number` and `noticeId` are set per send. */
  reminder?: NoticeTemplate;
  escalation?: NoticeTemplate;
  run: { workflowId: string; runId: string; site: string; kind: AuditKind };
  /** What the wait is for, as the audit records name it. */
  what: string;
}

export interface ReminderDeps {
  audit: AuditStore;
  now: () => number;
  notify(n: NoticeRequest): Promise<unknown>;
}

// How often the sleeping activity heartbeats (the worker throttles the RPCs further); well inside
// the heartbeat timeout the workflows set (a minute; at least 10 s under a compressed policy).
const BEAT_MS = 5_000;
// A notice SMTP keeps refusing is retried like the notify activity's: for a day, backing off to 5 min.
const MAIL_RETRY = { firstMs: 5_000, maxMs: 300_000, giveUpAfterMs: 86_400_000 };

// Waits ended by the workflow (`stopReminders`, a local activity on the same worker): the activity
// stops at once instead of at its next heartbeat, so no reminder goes out after the wait ended.
const running = new Map<string, () => void>();

/** Sleeps the given ms; resolves true when the wait ended meanwhile. */
type Sleep = (ms: number) => Promise<boolean>;

export function createReminderActivities(deps: ReminderDeps) {
  const iso = (ms: number) => new Date(ms).toISOString();

  async function recorded(workflowId: string, id: string): Promise<boolean> {
    return (await deps.audit.timeline(workflowId)).some((r) => r.id === id);
  }

  /** Sends, retrying what SMTP refuses for now; false (and the failure audited) when it gives up. */
  async function send(input: RemindPeopleInput, notice: NoticeRequest, wait: Sleep): Promise<boolean> {
    const firstTry = deps.now();
    for (let delay = MAIL_RETRY.firstMs; ; delay = Math.min(delay * 2, MAIL_RETRY.maxMs)) {
      try {
        await deps.notify(notice);
        return true;
      } catch (err) {
        const permanent = err instanceof ApplicationFailure && err.nonRetryable;
        if (permanent || deps.now() - firstTry > MAIL_RETRY.giveUpAfterMs) {
          await deps.audit.append({
            id: `${input.run.workflowId}/${input.waitId}/${notice.purpose}-${notice.number}/undeliverable`,
            ...input.run,
            type: 'mail.undeliverable',
            at: iso(deps.now()),
            data: { purpose: notice.purpose, to: notice.to, error: (err as Error).message },
          });
          return false;
        }
      }
      if (await wait(delay)) return false;
    }
  }

  /** Sleeps `ms`, heartbeating; true when the wait ended meanwhile. Cancellation throws. */
  const sleeper =
    (ctx: Context, stopped: Promise<void>, beat: () => void): Sleep =>
    async (ms) => {
      const until = deps.now() + ms;
      for (let left = ms; left > 0; left = until - deps.now()) {
        const ended = await Promise.race([
          ctx.sleep(Math.min(left, BEAT_MS)).then(() => false),
          stopped.then(() => true),
        ]);
        if (ended) return true;
        beat();
      }
      return false;
    };

  return {
    /**
     * Sends a wait's reminders and escalation until the deadline, the workflow's `stopReminders`,
     * or cancellation; resolves with what it sent. Heartbeats `{ remindersSent, escalated }`.
     */
    async remindPeople(input: RemindPeopleInput): Promise<WaitProgress> {
      const ctx = Context.current();
      const resumed = ctx.info.heartbeatDetails as WaitProgress | undefined;
      const progress: WaitProgress = { ...input.progress, ...(resumed ?? {}), startedAt: input.progress.startedAt };
      let stop = () => undefined as void;
      const stopped = new Promise<void>((resolve) => (stop = resolve));
      running.set(input.waitId, stop);
      const beat = () => ctx.heartbeat({ remindersSent: progress.remindersSent, escalated: progress.escalated });
      const wait = sleeper(ctx, stopped, beat);
      beat();
      // Cancellation (the wait ended, or the worker shuts down) throws out of here: a worker shut
      // down mid-wait must fail the attempt so that Temporal retries it, never complete it.
      try {
        for (;;) {
          const next = nextWaitEvent(input.policy, progress);
          if (next.kind === 'deadline') return progress;
          if (await wait(next.at - deps.now())) return progress;
          const number = next.kind === 'reminder' ? progress.remindersSent + 1 : 1;
          const id = `${input.run.workflowId}/${input.waitId}/${next.kind}-${number}`;
          // Written once the notice is handed over: found on a retry, it is not sent again.
          if (!(await recorded(input.run.workflowId, id))) {
            const template = next.kind === 'reminder' ? input.reminder : input.escalation;
            if (template) {
              const notice = { ...template, number, noticeId: `${input.waitId}/${next.kind}-${number}` };
              await send(input, notice, wait);
            }
            await deps.audit.append({
              id,
              ...input.run,
              type: `wait.${next.kind}`,
              at: iso(deps.now()),
              data: {
                what: input.what,
                remindersSent: next.kind === 'reminder' ? number : progress.remindersSent,
                due: iso(next.at),
              },
            });
          }
          if (next.kind === 'reminder') progress.remindersSent = number;
          else progress.escalated = true;
          beat();
        }
      } finally {
        if (running.get(input.waitId) === stop) running.delete(input.waitId);
      }
    },

    /** Ends a wait's reminders on this worker at once; false when none runs here. */
    async stopReminders(input: { waitId: string }): Promise<{ stopped: boolean }> {
      const stopIt = running.get(input.waitId);
      if (!stopIt) return { stopped: false };
      running.delete(input.waitId);
      stopIt();
      return { stopped: true };
    },
  };
}

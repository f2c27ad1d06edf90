/**
 * Timing of a wait for a person: reminders at a cadence, one escalation to a second list, and a
 * deadline. Pure arithmetic on epoch milliseconds, so a workflow can call it with its own
 * deterministic clock and a test can call it with any clock.
 */
export interface WaitPolicy {
  reminderEvery: number;
  escalateAfter: number;
  deadline: number;
}

export interface WaitProgress {
  startedAt: number;
  remindersSent: number;
  escalated: boolean;
}

export type WaitEvent = { kind: 'reminder' | 'escalation' | 'deadline'; at: number };

/**
 * The next thing due in a wait. Reminders fall at start + k·cadence (k ≥ 1) and never after the
 * deadline; the escalation comes once at start + escalateAfter when that is before the deadline.
 * Ties go to the deadline, then the escalation: a person is not reminded of a wait that just ended.
 */
export function nextWaitEvent(policy: WaitPolicy, progress: WaitProgress): WaitEvent {
  const deadlineAt = progress.startedAt + policy.deadline;
  const candidates: WaitEvent[] = [{ kind: 'deadline', at: deadlineAt }];
  const escalationAt = progress.startedAt + policy.escalateAfter;
  if (!progress.escalated && escalationAt < deadlineAt) candidates.push({ kind: 'escalation', at: escalationAt });
  const reminderAt = progress.startedAt + (progress.remindersSent + 1) * policy.reminderEvery;
  if (policy.reminderEvery > 0 && reminderAt < deadlineAt) candidates.push({ kind: 'reminder', at: reminderAt });
  const order = { deadline: 0, escalation: 1, reminder: 2 } as const;
  return candidates.sort((a, b) => a.at - b.at || order[a.kind] - order[b.kind])[0]!;
}

/**
 * What a wait has sent by `now`, from the policy and its start alone: every reminder and the
 * escalation that `nextWaitEvent` puts at or before `now` (and before the deadline). Lets a run
 * show its reminders without recording each one in its history.
 */
export function waitProgressAt(policy: WaitPolicy, startedAt: number, now: number): WaitProgress {
  const elapsed = Math.max(now - startedAt, 0);
  let remindersSent = 0;
  if (policy.reminderEvery > 0) {
    const beforeDeadline = Math.max(Math.ceil(policy.deadline / policy.reminderEvery) - 1, 0);
    remindersSent = Math.min(Math.floor(elapsed / policy.reminderEvery), beforeDeadline);
  }
  const escalated = policy.escalateAfter < policy.deadline && policy.escalateAfter <= elapsed;
  return { startedAt, remindersSent, escalated };
}

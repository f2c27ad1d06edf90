import { nextWaitEvent, waitProgressAt } from '../../src/domain/human-wait';

const policy = { reminderEvery: 4, escalateAfter: 10, deadline: 24 };

describe('timing of a wait for a person', () => {
  it('reminds at each cadence step, escalates once, then ends at the deadline', () => {
    const progress = { startedAt: 100, remindersSent: 0, escalated: false };
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      const next = nextWaitEvent(policy, progress);
      seen.push(`${next.kind}@${next.at - 100}`);
      if (next.kind === 'deadline') break;
      if (next.kind === 'reminder') progress.remindersSent++;
      else progress.escalated = true;
    }
    expect(seen).toEqual([
      'reminder@4',
      'reminder@8',
      'escalation@10',
      'reminder@12',
      'reminder@16',
      'reminder@20',
      'deadline@24',
    ]);
  });

  it('does not remind or escalate at the same moment the deadline falls', () => {
    const next = nextWaitEvent(
      { reminderEvery: 12, escalateAfter: 24, deadline: 24 },
      { startedAt: 0, remindersSent: 1, escalated: false },
    );
    expect(next).toEqual({ kind: 'deadline', at: 24 });
  });

  it('counts from the policy alone the reminders and escalation the loop would have sent by a time', () => {
    for (const p of [
      policy,
      { reminderEvery: 12, escalateAfter: 24, deadline: 24 },
      { reminderEvery: 5, escalateAfter: 3, deadline: 20 },
    ]) {
      const progress = { startedAt: 100, remindersSent: 0, escalated: false };
      for (let now = 100; now <= 100 + p.deadline + 5; now++) {
        for (
          let next = nextWaitEvent(p, progress);
          next.kind !== 'deadline' && next.at <= now;
          next = nextWaitEvent(p, progress)
        ) {
          if (next.kind === 'reminder') progress.remindersSent++;
          else progress.escalated = true;
        }
        expect(waitProgressAt(p, 100, now)).toEqual(progress);
      }
    }
    expect(waitProgressAt(policy, 100, 100 + 11)).toEqual({ startedAt: 100, remindersSent: 2, escalated: true });
  });
});

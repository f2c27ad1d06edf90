import { nextWaitEvent } from '../../src/domain/human-wait';

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
});

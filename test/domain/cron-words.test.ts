import {
  cronInWords,
  scheduleInWords,
  scheduleLines,
  zonedTime,
  zonedTimeWithHint,
  type ScheduleStatus,
} from '../../src/domain/cron-words';

describe('a cron in words', () => {
  it.each([
    ['0 6 * * 2', 'every Tuesday at 06:00'],
    ['30 5 * * 1-5', 'every weekday (Monday to Friday) at 05:30'],
    ['0 6 * * mon,thu', 'every Monday and Thursday at 06:00'],
    ['0 22 1 * *', 'on day 1 of every month at 22:00'],
    ['15 6,18 * * *', 'every day at 06:15 and 18:15'],
    ['0 */4 * * *', 'every 4 hours at minute 0'],
    ['*/15 * * * *', 'every 15 minutes'],
    ['0 6 * 1,7 0', 'every Sunday in January and July at 06:00'],
    ['0 6 * * 7', 'every Sunday at 06:00'],
  ])('"%s" reads "%s"', (cron, words) => {
    expect(cronInWords(cron)).toBe(words);
  });

  it('quotes what it cannot say', () => {
    expect(cronInWords('0 6 * *')).toBe('cron "0 6 * *"');
    expect(cronInWords('*/5 6 * * *')).toBe('cron "*/5 6 * * *"');
  });

  it('names the time zone and says a time there with its abbreviation and how far away it is', () => {
    expect(scheduleInWords('0 6 * * 2', 'Europe/Berlin')).toBe('every Tuesday at 06:00 Europe/Berlin');
    const at = Date.UTC(2026, 11, 8, 5, 0); // 06:00 CET
    const now = at - (6 * 24 + 3) * 3_600_000;
    expect(zonedTimeWithHint(at, 'Europe/Berlin', now)).toBe('Tue 2026-12-08 06:00 CET (in 6d 3h)');
    expect(zonedTime(Date.UTC(2026, 6, 7, 4, 0), 'Europe/Berlin')).toBe('Tue 2026-07-07 06:00 CEST');
    expect(zonedTime(at, 'UTC')).toBe('Tue 2026-12-08 05:00 UTC');
  });
});

describe('a schedule in lines', () => {
  const base: ScheduleStatus = {
    site: 'demo',
    scheduleId: 'airgap-cycle-demo',
    cron: '0 6 * * 2',
    timezone: 'Europe/Berlin',
    paused: false,
    nextRuns: [Date.UTC(2026, 11, 8, 5, 0)],
    recent: [
      {
        scheduledAt: Date.UTC(2026, 11, 1, 5, 0),
        takenAt: Date.UTC(2026, 11, 1, 5, 0),
        workflowId: 'cycle-demo',
        outcome: 'completed',
      },
    ],
    missedCatchupWindow: 0,
    skippedOverlap: 0,
  };
  const now = Date.UTC(2026, 11, 2, 2, 0);

  it('says when it runs next and when it last ran with what outcome', () => {
    expect(scheduleLines(base, now)).toEqual([
      'demo: every Tuesday at 06:00 Europe/Berlin',
      '  next: Tue 2026-12-08 06:00 CET (in 6d 3h)',
      '  last: Tue 2026-12-01 06:00 CET (21h ago) → completed (cycle-demo)',
    ]);
  });

  it('says what was missed or skipped, and that a paused schedule runs nothing', () => {
    const lines = scheduleLines(
      { ...base, paused: true, note: 'held', missedCatchupWindow: 1, skippedOverlap: 2 },
      now,
    );
    expect(lines[0]).toBe('demo: every Tuesday at 06:00 Europe/Berlin — PAUSED');
    expect(lines[1]).toBe('  next: none while paused (held)');
    expect(lines[3]).toBe(
      '  missed or skipped: 1 run missed (outside the catch-up window), 2 skipped (a cycle of the site was still open)',
    );
  });
});

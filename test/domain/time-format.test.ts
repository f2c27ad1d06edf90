import { displayZone, formatTime, isoTimesIn, relativeTo, roughSpan } from '../../src/domain/time-format';

const now = new Date('2026-12-01T02:00:00.000Z');

describe('CLI time format', () => {
  it('shows minute precision, the zone and how far away: 2026-12-03 06:00 UTC (in 2d 4h)', () => {
    expect(formatTime('2026-12-03T06:00:00.000Z', 'UTC', now)).toBe('2026-12-03 06:00 UTC (in 2d 4h)');
  });

  it('shows past times with "ago" and in the given zone', () => {
    expect(formatTime('2026-11-30T22:57:10.123Z', 'UTC', now)).toBe('2026-11-30 22:57 UTC (3h 2m ago)');
    expect(formatTime('2026-12-03T06:00:00.000Z', 'Europe/Berlin', now)).toBe('2026-12-03 07:00 GMT+1 (in 2d 4h)');
    expect(formatTime('2026-07-03T06:00:00.000Z', 'America/New_York', now)).toBe('2026-07-03 02:00 EDT (150d 20h ago)');
  });

  it('rounds spans to their two largest units', () => {
    expect(roughSpan(61_000)).toBe('1m 1s');
    expect(roughSpan(3_600_000)).toBe('1h');
    expect(roughSpan(86_400_000 + 59_000)).toBe('1d');
    expect(roughSpan(500)).toBe('0s');
    expect(relativeTo(now, now)).toBe('now');
  });

  it('leaves a text that is not a time as it is', () => {
    expect(formatTime('soon', 'UTC', now)).toBe('soon');
  });

  it('takes $TZ first, then the site zone, then the runtime default', () => {
    expect(displayZone({ TZ: 'Asia/Tokyo' }, 'Europe/Berlin')).toBe('Asia/Tokyo');
    expect(displayZone({}, 'Europe/Berlin')).toBe('Europe/Berlin');
    expect(displayZone({ TZ: 'Not/AZone' }, 'Europe/Berlin')).toBe('Europe/Berlin');
    expect(displayZone({})).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });
});

describe('machine output times', () => {
  it('turns epoch milliseconds under time keys into ISO strings and leaves other numbers alone', () => {
    const exported = Date.parse('2026-11-30T10:00:00.000Z');
    expect(
      isoTimesIn({
        fileName: 'x.dsru',
        size: 1234,
        exportedAt: exported,
        importLog: [{ at: exported, fileName: 'b.zip' }],
        started: new Date(exported),
        thresholdMs: 86_400_000,
      }),
    ).toEqual({
      fileName: 'x.dsru',
      size: 1234,
      exportedAt: '2026-11-30T10:00:00.000Z',
      importLog: [{ at: '2026-11-30T10:00:00.000Z', fileName: 'b.zip' }],
      started: '2026-11-30T10:00:00.000Z',
      thresholdMs: 86_400_000,
    });
  });
});

import {
  compareRuleUpdates,
  compareVersions,
  InvalidVersionError,
  isNewerVersion,
  nextRuleUpdate,
  parseRuleUpdate,
} from '../../src/domain/versions';

describe('rule updates (YY-NNN)', () => {
  test('are ordered by year, then by number within the year', () => {
    expect(compareRuleUpdates('25-052', '25-053')).toBeLessThan(0);
    expect(compareRuleUpdates('26-001', '25-052')).toBeGreaterThan(0);
    expect(compareRuleUpdates('25-052', '25-052')).toBe(0);
  });

  test('continue within the year and restart at 001 when the year turns', () => {
    expect(nextRuleUpdate('25-052', Date.UTC(2025, 5, 1))).toBe('25-053');
    expect(nextRuleUpdate('25-052', Date.UTC(2026, 0, 6))).toBe('26-001');
  });

  test('refuse text that is not YY-NNN, quoting it', () => {
    expect(() => parseRuleUpdate('2025-52')).toThrow(InvalidVersionError);
    expect(() => parseRuleUpdate('25-52')).toThrow('"25-52"');
  });
});

describe('numeric versions', () => {
  test('are compared part by part, not as text', () => {
    expect(compareVersions('20.0.877', '20.0.1000')).toBeLessThan(0);
    expect(compareVersions('18.613.00', '18.611.00')).toBeGreaterThan(0);
    expect(isNewerVersion('20.0.1-3180', '20.0.0.8438')).toBe(true);
  });

  test('treat missing trailing parts as zero', () => {
    expect(compareVersions('20.0', '20.0.0.0')).toBe(0);
  });

  test('refuse formats they cannot order instead of guessing', () => {
    expect(() => compareVersions('20.0.877-beta', '20.0.877')).toThrow(InvalidVersionError);
  });
});

import { formatDuration, InvalidDurationError, parseDuration } from '../../src/domain/duration';

describe('durations in the configuration', () => {
  it('reads single and combined units', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('4h')).toBe(14_400_000);
    expect(parseDuration('1d12h')).toBe(129_600_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1w')).toBe(604_800_000);
  });

  it('refuses text that is not a duration and quotes it', () => {
    for (const bad of ['', '4', 'h', '4 hours', '3d-1h', '1.5']) {
      expect(() => parseDuration(bad)).toThrow(InvalidDurationError);
    }
    expect(() => parseDuration('soon')).toThrow('"soon" is not a duration');
  });

  it('renders milliseconds the short way', () => {
    expect(formatDuration(93_784_000)).toBe('1d2h3m4s');
    expect(formatDuration(500)).toBe('500ms');
  });
});

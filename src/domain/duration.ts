/**
 * Durations in the configuration are written the way operators say them ("90s", "4h", "3d",
 * "1w", or combined "1d12h") and normalised once to milliseconds. Every wait the workflows use
 * comes from here, so tests can run the same workflows on second-scale timings.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/** Thrown by parseDuration when a text is not a duration; the message quotes the text. */
export class InvalidDurationError extends Error {
  constructor(readonly text: string) {
    super(`"${text}" is not a duration: write a number and a unit, e.g. 90s, 15m, 4h, 3d, 1w or 1d12h`);
    this.name = 'InvalidDurationError';
  }
}

/** Parses "1d12h" into milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '') throw new InvalidDurationError(text);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < trimmed.length) {
    const start = PART.lastIndex;
    const match = PART.exec(trimmed);
    if (!match || match.index !== start) throw new InvalidDurationError(text);
    total += Number(match[1]) * UNIT_MS[match[2] as string]!;
  }
  return Math.round(total);
}

/** Renders milliseconds the short way an operator reads them: 93784000 → "1d2h3m4s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, seconds] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / seconds);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * seconds;
  }
  return parts.join('');
}

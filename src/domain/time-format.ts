/**
 * Times as the CLI shows them to a person: minute precision, in a named time zone, with how far
 * away they are — `2026-12-03 06:00 UTC (in 2d 4h)`. Pure: the zone and "now" are arguments.
 * Machine output (`--json`) keeps ISO-8601 strings; this is for human text only.
 */
import dayjs from 'dayjs';
import timezone from 'dayjs/plugin/timezone';
import utc from 'dayjs/plugin/utc';

dayjs.extend(utc);
dayjs.extend(timezone);

const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** The two largest units of a span: 187_200_000 → "2d 4h", 61_000 → "1m 1s", 0 → "0s". */
export function roughSpan(ms: number): string {
  let rest = Math.abs(ms);
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0 || parts.length > 0) {
      if (n > 0) parts.push(`${n}${unit}`);
      rest -= n * size;
      if (parts.length === 2 || (parts.length === 1 && n === 0)) break;
    }
  }
  return parts.length ? parts.slice(0, 2).join(' ') : '0s';
}

/** The relative part: "in 2d 4h", "3h 2m ago", "now" (under a second). */
export function relativeTo(time: Date | string, now: Date): string {
  const diff = new Date(time).getTime() - now.getTime();
  if (Math.abs(diff) < 1000) return 'now';
  return diff > 0 ? `in ${roughSpan(diff)}` : `${roughSpan(diff)} ago`;
}

/** "2026-12-03 06:00 UTC" in the zone; the zone's short name comes from the runtime (CET, GMT+1…). */
export function wallTime(time: Date | string, zone: string): string {
  const d = dayjs(new Date(time)).tz(zone);
  return `${d.format('YYYY-MM-DD HH:mm')} ${zoneName(new Date(time), zone)}`;
}

/** "2026-12-03 06:00 UTC (in 2d 4h)". An unreadable time is shown as it came. */
export function formatTime(time: Date | string, zone: string, now: Date): string {
  if (Number.isNaN(new Date(time).getTime())) return String(time);
  return `${wallTime(time, zone)} (${relativeTo(time, now)})`;
}

function zoneName(at: Date, zone: string): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'short' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? zone;
}

/**
 * The zone CLI times are shown in: $TZ when the operator set one, else the site's schedule time
 * zone (the zone the site's people plan in), else the runtime's own zone.
 */
export function displayZone(env: NodeJS.ProcessEnv, siteZone?: string): string {
  const fromEnv = env.TZ?.trim().replace(/^:/, '');
  if (fromEnv && isZone(fromEnv)) return fromEnv;
  if (siteZone && isZone(siteZone)) return siteZone;
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A key that names a time by this code base's convention: `at`, `startedAt`, `exportedAt`… */
const TIME_KEY = /(^at|At)$/;

/**
 * Machine output carries times as ISO-8601 strings only: a number under a time key (epoch
 * milliseconds, as the simulator keeps them) becomes its ISO string; Dates become ISO strings as
 * JSON.stringify makes them. Everything else is returned as it is.
 */
export function isoTimesIn(value: unknown, key = ''): unknown {
  if (typeof value === 'number' && TIME_KEY.test(key) && Number.isFinite(value)) return new Date(value).toISOString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => isoTimesIn(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isoTimesIn(v, k)]));
  }
  return value;
}

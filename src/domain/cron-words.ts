/**
 * A schedule in plain words: a 5-field cron ("0 6 * * 2") becomes "every Tuesday at 06:00", and a
 * time in the schedule's zone reads "Tue 2026-12-08 06:00 CET (in 6d 3h)". Pure: no clock, no I/O;
 * the caller passes `now` and the zone.
 */

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAY_ALIASES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const MONTH_ALIASES: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

const pad = (n: number) => String(n).padStart(2, '0');

function joinWords(words: string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/** The values of one field as a list, or undefined for "*" or a form the words do not cover. */
function values(field: string, aliases: Record<string, number> = {}): number[] | undefined {
  if (field === '*' || field === '?') return undefined;
  const out: number[] = [];
  for (const part of field.split(',')) {
    const num = (s: string) => {
      const n = aliases[s.toLowerCase()] ?? Number(s);
      if (!Number.isInteger(n)) throw new Error(`"${s}"`);
      return n;
    };
    const m = /^([^/-]+)(?:-([^/]+))?(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`"${part}"`);
    const from = m[1] === '*' ? 0 : num(m[1]!);
    const to = m[2] !== undefined ? num(m[2]) : m[3] !== undefined ? Number.NaN : from;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (Number.isNaN(to)) return undefined; // "*/15" or "5/10": said as a step below
    for (let v = from; v <= to; v += step) out.push(v);
  }
  return out;
}

/**
 * "0 6 * * 2" → "every Tuesday at 06:00"; "30 5 1 * *" → "on day 1 of every month at 05:30";
 * "0 *\/4 * * *" → "every 4 hours at minute 0". Anything it cannot say it quotes: `cron "…"`.
 */
export function cronInWords(cron: string): string {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return `cron "${cron}"`;
  const [minF, hourF, domF, monF, dowF] = fields as [string, string, string, string, string];
  try {
    const minutes = values(minF);
    const hours = values(hourF);
    const doms = values(domF);
    const months = values(monF, MONTH_ALIASES);
    const dows = values(dowF, DAY_ALIASES)?.map((d) => d % 7);

    let when: string;
    if (minutes && hours) {
      const times = hours.flatMap((h) => minutes.map((m) => `${pad(h)}:${pad(m)}`));
      when = `at ${joinWords(times)}`;
    } else if (minutes && !hours) {
      const step = /^\*\/(\d+)$/.exec(hourF);
      if (step) when = `every ${step[1]} hours at minute ${joinWords(minutes.map(String))}`;
      else if (hourF === '*') when = `every hour at minute ${joinWords(minutes.map(String))}`;
      else return `cron "${cron}"`;
    } else {
      const step = /^\*\/(\d+)$/.exec(minF);
      if (step && hourF === '*') when = `every ${step[1]} minutes`;
      else if (minF === '*' && hourF === '*') when = 'every minute';
      else return `cron "${cron}"`;
    }

    let days: string;
    if (dows && !doms) {
      const sorted = [...new Set(dows)].sort((a, b) => a - b);
      days =
        sorted.join(',') === '1,2,3,4,5'
          ? 'every weekday (Monday to Friday)'
          : sorted.length === 7
            ? 'every day'
            : `every ${joinWords(sorted.map((d) => DAY_NAMES[d]!))}`;
    } else if (doms && !dows) {
      days = `on day ${joinWords(doms.map(String))} of every month`;
    } else if (doms && dows) {
      days = `on day ${joinWords(doms.map(String))} of the month or every ${joinWords(dows.map((d) => DAY_NAMES[d]!))}`;
    } else {
      days = 'every day';
    }
    const inMonths = months ? ` in ${joinWords(months.map((m) => MONTH_NAMES[m - 1] ?? String(m)))}` : '';
    // "every 15 minutes", not "every day every 15 minutes"
    if (days === 'every day' && when.startsWith('every ')) return `${when}${inMonths}`;
    return `${days}${inMonths} ${when}`;
  } catch {
    return `cron "${cron}"`;
  }
}

/** "every Tuesday at 06:00 Europe/Berlin" */
export function scheduleInWords(cron: string, timezone: string): string {
  return `${cronInWords(cron)} ${timezone}`;
}

/** "6d 3h", "3h 5m", "12m", "now": the two largest units, to the minute. */
export function shortSpan(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  if (minutes === 0) return 'now';
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const parts = [d && `${d}d`, h && `${h}h`, m && `${m}m`].filter(Boolean) as string[];
  return parts.slice(0, 2).join(' ');
}

/** "in 6d 3h" or "2h 5m ago". */
export function relativeWords(at: number, now: number): string {
  const span = shortSpan(at - now);
  if (span === 'now') return 'now';
  return at >= now ? `in ${span}` : `${span} ago`;
}

/** "Tue 2026-12-08 06:00 CET" in the given IANA zone. */
export function zonedTime(at: number, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    })
      .formatToParts(new Date(at))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.weekday} ${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}

/** "Tue 2026-12-08 06:00 CET (in 6d 3h)" */
export function zonedTimeWithHint(at: number, timezone: string, now: number): string {
  return `${zonedTime(at, timezone)} (${relativeWords(at, now)})`;
}

/** What a schedule did and will do, as read from Temporal's schedule description. */
export interface ScheduleStatus {
  site: string;
  scheduleId: string;
  cron: string;
  timezone: string;
  paused: boolean;
  note?: string;
  /** Absent: the schedule does not exist yet. */
  missing?: boolean;
  nextRuns: number[];
  /** Newest last. */
  recent: Array<{ scheduledAt: number; takenAt: number; workflowId: string; outcome?: string }>;
  /** Scheduled times that passed while nothing could start them and fell outside the catch-up window. */
  missedCatchupWindow: number;
  /** Scheduled times skipped because a cycle of the site was still open (overlap SKIP). */
  skippedOverlap: number;
}

/** The schedule in lines a person reads: when next, when last and how it ended, what was missed. */
export function scheduleLines(s: ScheduleStatus, now: number): string[] {
  if (s.missing) return [`${s.site}: no schedule yet (created when the worker stack starts)`];
  const lines = [`${s.site}: ${scheduleInWords(s.cron, s.timezone)}${s.paused ? ' — PAUSED' : ''}`];
  if (s.paused) lines.push(`  next: none while paused${s.note ? ` (${s.note})` : ''}`);
  else if (s.nextRuns[0] !== undefined) lines.push(`  next: ${zonedTimeWithHint(s.nextRuns[0], s.timezone, now)}`);
  else lines.push('  next: none');
  const last = s.recent[s.recent.length - 1];
  lines.push(
    last
      ? `  last: ${zonedTimeWithHint(last.takenAt, s.timezone, now)} → ${last.outcome ?? 'unknown'} (${last.workflowId})`
      : '  last: never ran',
  );
  if (s.missedCatchupWindow > 0 || s.skippedOverlap > 0) {
    lines.push(`  missed or skipped: ${missedWords(s)}`);
  }
  return lines;
}

/** "1 run missed (outside the catch-up window), 2 skipped (a cycle was still open)" */
export function missedWords(s: Pick<ScheduleStatus, 'missedCatchupWindow' | 'skippedOverlap'>): string {
  const parts: string[] = [];
  if (s.missedCatchupWindow > 0)
    parts.push(
      `${s.missedCatchupWindow} run${s.missedCatchupWindow === 1 ? '' : 's'} missed (outside the catch-up window)`,
    );
  if (s.skippedOverlap > 0) parts.push(`${s.skippedOverlap} skipped (a cycle of the site was still open)`);
  return parts.join(', ') || 'none';
}

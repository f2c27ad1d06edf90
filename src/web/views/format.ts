/** How times, durations and sizes read on the pages: UTC, with a relative hint. */
import { formatDuration } from '../../domain/duration';
import { html, type SafeHtml } from '../../domain/mail/html';
import { formatMailTime, formatSize } from '../../domain/mail/templates';

export { formatSize };

/** `<time datetime="…">2026-11-25 06:00 UTC</time>` */
export function time(ms: number | undefined): SafeHtml {
  if (ms === undefined || !Number.isFinite(ms)) return html`—`;
  return html`<time datetime="${new Date(ms).toISOString()}">${formatMailTime(ms)}</time>`;
}

/** "3h ago" / "in 2d4h", to the minute. */
export function relative(ms: number, now: number): string {
  const delta = Math.round((ms - now) / 60_000) * 60_000;
  if (Math.abs(delta) < 60_000) return 'now';
  return delta < 0 ? `${formatDuration(-delta)} ago` : `in ${formatDuration(delta)}`;
}

/** A time with its relative hint: "2026-11-25 06:00 UTC (3h ago)". */
export function timeWithHint(ms: number | undefined, now: number): SafeHtml {
  if (ms === undefined || !Number.isFinite(ms)) return html`—`;
  return html`${time(ms)} <span class="hint">(${relative(ms, now)})</span>`;
}

/** How a state reads at a glance: the badge's colour class (its text always says the state too). */
export type Tone = 'ok' | 'wait' | 'active' | 'fail' | 'neutral';

const FAIL = /^(failed|mismatch|expired|rejected|aborted|drifted|terminated|timed-out|unknown)/;
const OK = /^(completed|verified|imported|cleaned|in-desired-state|nothing-to-do|copied)/;
const WAIT = /^(awaiting|waiting|paused|soaking|halted)/;
const NEUTRAL = /^(nothing-new|cancelled|pending|not-started|not-needed|not-copied|removed|planned|open)/;

export function toneOf(state: string): Tone {
  const s = state.trim().toLowerCase();
  if (FAIL.test(s)) return 'fail';
  if (OK.test(s)) return 'ok';
  if (WAIT.test(s)) return 'wait';
  if (NEUTRAL.test(s)) return 'neutral';
  return 'active';
}

const TONE_WORD: Record<Tone, string> = {
  ok: 'done',
  wait: 'waits',
  active: 'under way',
  fail: 'problem',
  neutral: '',
};

/**
 * `<span class="badge badge-fail">✗ failed</span>`: colour and a symbol and the state in words,
 * so nothing depends on seeing the colour.
 */
export function badge(state: string, tone: Tone = toneOf(state)): SafeHtml {
  const symbol = { ok: '✓', wait: '…', active: '▶', fail: '✗', neutral: '–' }[tone];
  const label = TONE_WORD[tone] ? `${TONE_WORD[tone]}: ${state}` : state;
  return html`<span class="badge badge-${tone}" title="${label}"
    ><span aria-hidden="true">${symbol}</span> ${state}</span
  >`;
}

/** "1d 4h", "12m": how long a run took or has been going. */
export function runDuration(startedAt: number, endedAt: number | undefined, now: number): string {
  const end = endedAt ?? now;
  const ms = Math.max(0, end - startedAt);
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return '< 1m';
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return ([d && `${d}d`, h && `${h}h`, m && `${m}m`].filter(Boolean) as string[]).slice(0, 2).join(' ');
}

/** The run's page in Temporal's web UI. */
export function temporalRunUrl(ui: { url: string; namespace: string }, workflowId: string): string {
  return `${ui.url.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** How times, durations and sizes read on the pages: UTC, with a relative hint. */
import { formatDuration } from '../../domain/duration';
import { html, type SafeHtml } from '../../domain/mail-html';
import { formatMailTime, formatSize } from '../../domain/mail-templates';

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

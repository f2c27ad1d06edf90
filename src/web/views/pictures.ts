/**
 * Server-rendered SVG pictures: the U1 → U5 rollout as boxes in order with the agents' waves as a
 * progress bar, and a site's protection age over time with its threshold. Every shape carries a
 * <title> and the numbers are text in the picture, so a screen reader and a printout say what the
 * colours say. Only presentation attributes (the CSP allows no inline style).
 */
import { html, type SafeHtml } from '../../domain/mail/html';
import type { ProtectionHistory, RolloutPicture } from '../deps';
import { toneOf, type Tone } from './format';

const DAY = 86_400_000;

const FILL: Record<Tone, { fill: string; stroke: string; text: string }> = {
  ok: { fill: '#dcfce7', stroke: '#1e7b34', text: '#14532d' },
  wait: { fill: '#fef3c7', stroke: '#b35900', text: '#713f12' },
  active: { fill: '#e0ecfa', stroke: '#0b5cab', text: '#0b3a6e' },
  fail: { fill: '#fde2e2', stroke: '#a4161a', text: '#7a1013' },
  neutral: { fill: '#f2f2f2', stroke: '#737373', text: '#333333' },
};

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** U1 → U5, each box with its state and versions (was → target → now); U5's waves below. */
export function rolloutSvg(picture: RolloutPicture): SafeHtml {
  const boxW = 170;
  const gap = 30;
  const boxH = 128;
  const top = 10;
  const n = picture.stages.length;
  const width = n * boxW + (n - 1) * gap + 20;
  const barTop = top + boxH + 30;
  const height = barTop + 60;
  const boxes = picture.stages.map((s, i) => {
    const x = 10 + i * (boxW + gap);
    const tone = toneOf(s.status);
    const c = FILL[tone];
    const versions = `was ${s.before ?? '?'} → target ${s.target} → now ${s.after ?? '?'}`;
    const summary = `${s.id} ${s.title}: ${s.status}; ${versions}${s.failure ? `; ${s.failure}` : ''}`;
    const arrow =
      i < n - 1
        ? html`<g class="arrow" aria-hidden="true">
            <line
              x1="${x + boxW + 4}"
              y1="${top + boxH / 2}"
              x2="${x + boxW + gap - 8}"
              y2="${top + boxH / 2}"
              stroke="#404040"
              stroke-width="2"
            />
            <polygon
              points="${x + boxW + gap - 4},${top + boxH / 2} ${x + boxW + gap - 12},${top + boxH / 2 - 5} ${x + boxW + gap - 12},${top + boxH / 2 + 5}"
              fill="#404040"
            />
          </g>`
        : '';
    return html`<g class="stage stage-${tone}" data-stage="${s.id}" data-status="${s.status}">
        <title>${summary}</title>
        <rect
          x="${x}"
          y="${top}"
          width="${boxW}"
          height="${boxH}"
          rx="8"
          fill="${c.fill}"
          stroke="${c.stroke}"
          stroke-width="${tone === 'fail' ? 4 : 2}"
          ${tone === 'fail' ? html`stroke-dasharray="8 4"` : ''}
        />
        <text x="${x + 10}" y="${top + 22}" font-weight="700" font-size="16" fill="${c.text}">${s.id}</text>
        <text x="${x + 44}" y="${top + 22}" font-size="12" fill="${c.text}">${clip(s.title, 22)}</text>
        <text class="status" x="${x + 10}" y="${top + 46}" font-weight="700" font-size="14" fill="${c.text}"
          >${s.status}</text
        >
        <text x="${x + 10}" y="${top + 68}" font-size="12" fill="#1a1a1a">was ${s.before ?? '—'}</text>
        <text x="${x + 10}" y="${top + 86}" font-size="12" fill="#1a1a1a">target ${s.target}</text>
        <text x="${x + 10}" y="${top + 104}" font-size="12" fill="#1a1a1a">now ${s.after ?? '—'}</text>
        ${s.failure ? html`<text x="${x + 10}" y="${top + 121}" font-size="11" fill="#7a1013">${clip(s.failure, 26)}</text>` : ''}
      </g>
      ${arrow}`;
  });
  const a = picture.agents;
  const total = a.total ?? 0;
  const barW = width - 20;
  const frac = (k: number) => (total > 0 ? Math.min(1, k / total) : 0);
  const vW = Math.round(barW * frac(a.verified));
  const fW = Math.round(barW * frac(a.failed));
  const iW = Math.round(barW * frac(a.inFlight));
  const agentsText =
    total > 0
      ? `U5 agents: ${a.verified} of ${total} verified, ${a.failed} below target, ${a.inFlight} verifying; ${a.wavesDone} wave(s) done`
      : `U5 agents: no wave started yet`;
  return html`<svg
    xmlns="http://www.w3.org/2000/svg"
    class="rollout"
    role="img"
    aria-labelledby="rollout-title"
    viewBox="0 0 ${width} ${height}"
    width="${width}"
    height="${height}"
  >
    <title id="rollout-title">Rollout U1 → U5: ${picture.stages.map((s) => `${s.id} ${s.status}`).join(', ')}</title>
    ${boxes}
    <g class="waves" data-verified="${a.verified}" data-total="${total}">
      <title>${agentsText}</title>
      <text x="10" y="${barTop - 6}" font-size="13" font-weight="700" fill="#1a1a1a">${agentsText}</text>
      <rect class="bar-track" x="10" y="${barTop}" width="${barW}" height="22" rx="4" fill="#f2f2f2" stroke="#737373" />
      <rect class="bar-verified" x="10" y="${barTop}" width="${vW}" height="22" fill="#1e7b34">
        <title>${a.verified} verified</title>
      </rect>
      <rect class="bar-failed" x="${10 + vW}" y="${barTop}" width="${fW}" height="22" fill="#a4161a">
        <title>${a.failed} below target</title>
      </rect>
      <rect class="bar-inflight" x="${10 + vW + fW}" y="${barTop}" width="${iW}" height="22" fill="#b35900">
        <title>${a.inFlight} verifying</title>
      </rect>
    </g>
  </svg>`;
}

/**
 * Protection age (time since the newest successful import) at each point of [from, to]: it grows
 * by one day per day and drops to zero at each import. `undefined` before the first import known.
 */
export function protectionAgePoints(
  imports: readonly number[],
  from: number,
  to: number,
): Array<{ at: number; ageMs?: number }> {
  const sorted = [...imports].sort((x, y) => x - y);
  const before = sorted.filter((t) => t <= from);
  let last = before.length > 0 ? before[before.length - 1] : undefined;
  const points: Array<{ at: number; ageMs?: number }> = [
    { at: from, ageMs: last === undefined ? undefined : from - last },
  ];
  for (const t of sorted.filter((t) => t > from && t <= to)) {
    points.push({ at: t, ageMs: last === undefined ? undefined : t - last });
    points.push({ at: t, ageMs: 0 });
    last = t;
  }
  points.push({ at: to, ageMs: last === undefined ? undefined : to - last });
  return points;
}

/** A site's protection age over `days` days ending at `now`, with the threshold as a dashed line. */
export function protectionChartSvg(h: ProtectionHistory, now: number, days = 90): SafeHtml {
  const from = now - days * DAY;
  const points = protectionAgePoints(h.imports, from, now);
  const known = points.filter((p) => p.ageMs !== undefined) as Array<{ at: number; ageMs: number }>;
  const maxAge = Math.max(h.thresholdMs * 1.5, ...known.map((p) => p.ageMs));
  const W = 640;
  const H = 200;
  const L = 48;
  const R = 12;
  const T = 16;
  const B = 30;
  const x = (t: number) => L + ((t - from) / (now - from)) * (W - L - R);
  const y = (age: number) => T + (1 - age / maxAge) * (H - T - B);
  const line = known.map((p) => `${x(p.at).toFixed(1)},${y(p.ageMs).toFixed(1)}`).join(' ');
  const current = points[points.length - 1]!.ageMs;
  const over = current === undefined || current > h.thresholdMs;
  const days1 = (ms: number) => `${(ms / DAY).toFixed(ms < 10 * DAY ? 1 : 0)}d`;
  const label = `Protection age of ${h.name ?? h.site} over the last ${days} days: ${
    current === undefined ? 'no successful import recorded' : `now ${days1(current)}`
  }, threshold ${days1(h.thresholdMs)}, ${h.imports.filter((t) => t > from).length} import(s) in the period`;
  const ticks = [0, 30, 60, 90].filter((d) => d <= days);
  const yTicks = [0, h.thresholdMs, maxAge].map((v) => Math.round(v / DAY));
  return html`<svg
    xmlns="http://www.w3.org/2000/svg"
    class="protection-chart"
    data-site="${h.site}"
    role="img"
    aria-labelledby="pa-${h.site}"
    viewBox="0 0 ${W} ${H}"
    width="${W}"
    height="${H}"
  >
    <title id="pa-${h.site}">${label}</title>
    <rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="#ffffff" stroke="#8c8c8c" />
    ${[...new Set(yTicks)].map(
      (d) =>
        html`<text class="y-tick" x="${L - 6}" y="${y(d * DAY) + 4}" font-size="11" text-anchor="end" fill="#404040"
          >${d}d</text
        >`,
    )}
    ${ticks.map(
      (d) =>
        html`<text
          class="x-tick"
          x="${x(now - d * DAY)}"
          y="${H - 10}"
          font-size="11"
          text-anchor="${d === 0 ? 'end' : d === days ? 'start' : 'middle'}"
          fill="#404040"
          >${d === 0 ? 'today' : `${d}d ago`}</text
        >`,
    )}
    <g class="threshold">
      <title>threshold ${days1(h.thresholdMs)}</title>
      <line
        x1="${L}"
        x2="${W - R}"
        y1="${y(h.thresholdMs)}"
        y2="${y(h.thresholdMs)}"
        stroke="#a4161a"
        stroke-width="2"
        stroke-dasharray="6 4"
      />
      <text x="${W - R - 4}" y="${y(h.thresholdMs) - 4}" font-size="11" text-anchor="end" fill="#7a1013">
        threshold ${days1(h.thresholdMs)}
      </text>
    </g>
    ${line ? html`<polyline class="age" points="${line}" fill="none" stroke="${over ? '#a4161a' : '#0b5cab'}" stroke-width="2.5"><title>protection age</title></polyline>` : ''}
    <text
      class="now"
      x="${L + 6}"
      y="${T + 14}"
      font-size="12"
      font-weight="700"
      fill="${over ? '#7a1013' : '#14532d'}"
    >
      ${
        current === undefined
          ? 'no successful import recorded'
          : `now ${days1(current)}${over ? ' — over the threshold' : ''}`
      }
    </text>
  </svg>`;
}

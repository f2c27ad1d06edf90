/** The operators' pages: open runs and what each waits for, one run's timeline, past runs. */
import { AUDIT_KINDS } from '../../domain/audit';
import { html, type SafeHtml } from '../../domain/mail/html';
import { RUN_OUTCOMES } from '../../domain/mail/templates';
import type { HistoryPage, Overview, ProtectionHistory, RunDetail, Waiting } from '../deps';
import { badge, runDuration, temporalRunUrl, time, timeWithHint, toneOf } from './format';
import { layout, type LayoutOptions } from './layout';
import { protectionChartSvg, rolloutSvg } from './pictures';

type Nav = NonNullable<LayoutOptions['nav']>;
type TemporalUi = { url: string; namespace: string } | undefined;

/** "Open in Temporal UI" for a run, when the UI's address is known. */
function temporalLink(ui: TemporalUi, workflowId: string): SafeHtml {
  if (!ui) return html``;
  return html`<a class="temporal-link" href="${temporalRunUrl(ui, workflowId)}" rel="noreferrer">in Temporal UI</a>`;
}

/** The state as a badge, and the reason under it when something went wrong. */
function stateCell(state: string, problem: string | undefined): SafeHtml {
  // A problem (a relay's mismatch while the run still waits) turns the badge red: it must not look like a normal wait.
  return html`${problem ? badge(state, 'fail') : badge(state)}${problem ? html`<br /><span class="problem-reason">${problem}</span>` : ''}`;
}

/** Protection age per site, each a chart with its threshold and a link to the site's page. */
export function protectionSection(histories: ProtectionHistory[] | undefined, now: number, link = true): SafeHtml {
  if (!histories || histories.length === 0) return html``;
  return html`<h2>Protection age, last 90 days</h2>
    ${histories.map(
      (h) =>
        html`<figure class="picture">
          ${protectionChartSvg(h, now)}
          <figcaption>
            ${link ? html`<a href="/sites/${encodeURIComponent(h.site)}">${h.name ?? h.site}</a>` : (h.name ?? h.site)}:
            time since the newest successful import; the dashed line is the site's threshold.
          </figcaption>
        </figure>`,
    )}`;
}

function runLink(workflowId: string, label: string): SafeHtml {
  return html`<a href="/runs/${encodeURIComponent(workflowId)}">${label}</a>`;
}

function waitingCells(w: Waiting | undefined, now: number): SafeHtml {
  if (!w)
    return html`<td>—</td>
      <td>—</td>
      <td>—</td>
      <td>—</td>`;
  return html`<td>${w.what}</td>
    <td>${w.from.join(', ') || '—'}</td>
    <td>${timeWithHint(w.since, now)}</td>
    <td>${w.until === undefined ? '—' : timeWithHint(w.until, now)}</td>`;
}

export function overviewPage(
  overview: Overview | undefined,
  now: number,
  nav: Nav,
  extra: { protection?: ProtectionHistory[]; temporalUi?: TemporalUi } = {},
): string {
  const body = !overview
    ? html`<p class="message warning">The overview is not connected to the orchestrator.</p>`
    : html`${overview.notices.map(
        (n) =>
          html`<p class="message ${n.level === 'warning' ? 'warning' : ''}" role="status">
            ${n.level === 'warning' ? badge('attention', 'wait') : ''}
            ${n.site ? html`<strong>${n.site}:</strong> ` : ''}${n.text}
          </p>`,
      )}
      ${
        overview.runs.length === 0
          ? html`<p>No run is open.</p>`
          : html`<table>
              <caption>
                ${overview.runs.length} open run${overview.runs.length === 1 ? '' : 's'}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Site</th>
                  <th scope="col">Run</th>
                  <th scope="col">State</th>
                  <th scope="col">Running for</th>
                  <th scope="col">Waiting for</th>
                  <th scope="col">From</th>
                  <th scope="col">Since</th>
                  <th scope="col">Until</th>
                </tr>
              </thead>
              <tbody>
                ${overview.runs.map(
                  (r) =>
                    html`<tr class="${r.problem || toneOf(r.state) === 'fail' ? 'problem' : ''}">
                      <td><a href="/sites/${encodeURIComponent(r.site)}">${r.site}</a></td>
                      <td>
                        ${runLink(r.workflowId, r.title)}<br /><span class="hint"
                          >${r.kind}, started ${time(r.startedAt)}</span
                        >
                        ${extra.temporalUi ? html`<br />${temporalLink(extra.temporalUi, r.workflowId)}` : ''}
                      </td>
                      <td>${stateCell(r.state, r.problem)}</td>
                      <td>${runDuration(r.startedAt, undefined, now)}</td>
                      ${waitingCells(r.waiting, now)}
                    </tr> `,
                )}
              </tbody>
            </table>`
      }`;
  return layout(
    { title: 'Open runs', nav: { ...nav, current: 'open' } },
    html`<h1>Open runs</h1>
      ${body} ${protectionSection(extra.protection, now)}`,
  );
}

export function runPage(run: RunDetail, now: number, nav: Nav, temporalUi?: TemporalUi): string {
  const events = [...run.events].sort((a, b) => a.at - b.at);
  return layout(
    { title: run.title, nav },
    html`<h1>${run.title}</h1>
      <p class="context">
        <a href="/sites/${encodeURIComponent(run.site)}">${run.site}</a> · ${run.kind} · workflow
        <code>${run.workflowId}</code>${temporalUi ? html` · ${temporalLink(temporalUi, run.workflowId)}` : ''}${
          run.hasSheet
            ? html` · <a href="/runs/${encodeURIComponent(run.workflowId)}/sheet">courier sheet (printable)</a>`
            : ''
        }
      </p>
      ${run.problem ? html`<p class="message error" role="alert"><strong>Problem:</strong> ${run.problem}</p>` : ''}
      <dl class="facts">
        <dt>State</dt>
        <dd>${badge(run.state)}</dd>
        <dt>Duration</dt>
        <dd>${runDuration(run.startedAt, run.endedAt, now)}${run.endedAt === undefined ? ' so far' : ''}</dd>
        <dt>Started</dt>
        <dd>${timeWithHint(run.startedAt, now)}</dd>
        ${
          run.endedAt === undefined
            ? ''
            : html`<dt>Ended</dt>
                <dd>${timeWithHint(run.endedAt, now)}</dd>`
        }
        ${
          run.waiting
            ? html`<dt>Waiting for</dt>
                <dd>
                  ${run.waiting.what}${run.waiting.from.length > 0 ? html` from ${run.waiting.from.join(', ')}` : ''},
                  since
                  ${timeWithHint(run.waiting.since, now)}${
                    run.waiting.until === undefined ? '' : html`, until ${timeWithHint(run.waiting.until, now)}`
                  }
                </dd>`
            : ''
        }
        ${(run.facts ?? []).map(
          (f) =>
            html`<dt>${f.label}</dt>
              <dd>${f.value}</dd>`,
        )}
      </dl>
      ${
        run.rollout
          ? html`<h2>Rollout</h2>
              <figure class="picture">
                ${rolloutSvg(run.rollout)}
                <figcaption>Stages in order, U1 → U5; each box: state, was → target → now.</figcaption>
              </figure>`
          : ''
      }
      ${
        run.relays && run.relays.length > 0
          ? html`<h2>Relays</h2>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Relay</th>
                    <th scope="col">OS</th>
                    <th scope="col">State</th>
                  </tr>
                </thead>
                <tbody>
                  ${run.relays.map(
                    (r) =>
                      html`<tr class="${toneOf(r.status) === 'fail' ? 'problem' : ''}">
                        <td>${r.name}</td>
                        <td>${r.os}</td>
                        <td>${stateCell(r.status, r.problem)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
          : ''
      }
      <h2>Timeline</h2>
      ${
        events.length === 0
          ? html`<p>Nothing recorded yet.</p>`
          : html`<ol class="timeline">
              ${events.map(
                (e) =>
                  html`<li>
                    ${time(e.at)} — <strong>${e.kind}</strong>:
                    ${e.text}${e.actor ? html` <span class="hint">(${e.actor})</span>` : ''}
                  </li>`,
              )}
            </ol>`
      }`,
  );
}

/** The kinds of run the audit records (one list, the audit's own), so every one offered can match. */
export const HISTORY_KINDS: readonly string[] = AUDIT_KINDS;
/** Run outcomes of every kind, and `running` for runs without an end (the audit's `open`). */
export const HISTORY_OUTCOMES: readonly string[] = [
  ...RUN_OUTCOMES,
  'terminated',
  'in-desired-state',
  'drifted',
  'planned',
  'running',
];
const KIND_LABELS: Record<string, string> = { upgrade: 'upgrade rollout', rules: 'rule transfer', harden: 'hardening' };

/** The filter as the form shows it back (dates as YYYY-MM-DD). */
export interface HistoryFormValues {
  site?: string;
  kind?: string;
  outcome?: string;
  from?: string;
  to?: string;
  text?: string;
}

function options(values: readonly string[], selected: string | undefined, labels?: Record<string, string>): SafeHtml {
  return html`<option value="">Any</option>
    ${values.map(
      (v) => html`<option value="${v}" ${v === selected ? html` selected` : ''}>${labels?.[v] ?? v}</option>`,
    )}`;
}

export function historyPage(
  input: {
    page: HistoryPage | undefined;
    values: HistoryFormValues;
    sites: Array<{ id: string; name?: string }>;
    nextUrl?: string;
  },
  nav: Nav,
): string {
  const { page, values } = input;
  const siteLabels = Object.fromEntries(input.sites.map((s) => [s.id, s.name ? `${s.name} (${s.id})` : s.id]));
  const form = html`<form method="get" action="/history" class="filters" role="search" aria-label="Filter past runs">
    <div class="field">
      <label for="f-site">Site</label>${
        input.sites.length > 0
          ? html`<select id="f-site" name="site">
              ${options(
                input.sites.map((s) => s.id),
                values.site,
                siteLabels,
              )}
            </select>`
          : html`<input type="text" id="f-site" name="site" value="${values.site ?? ''}" />`
      }
    </div>
    <div class="field">
      <label for="f-kind">Kind</label
      ><select id="f-kind" name="kind">
        ${options(HISTORY_KINDS, values.kind, KIND_LABELS)}
      </select>
    </div>
    <div class="field">
      <label for="f-outcome">Outcome</label
      ><select id="f-outcome" name="outcome">
        ${options(HISTORY_OUTCOMES, values.outcome)}
      </select>
    </div>
    <div class="field">
      <label for="f-from">Started from</label><input type="date" id="f-from" name="from" value="${values.from ?? ''}" />
    </div>
    <div class="field">
      <label for="f-to">Started until</label><input type="date" id="f-to" name="to" value="${values.to ?? ''}" />
    </div>
    <div class="field">
      <label for="f-text">Text</label
      ><input type="search" id="f-text" name="text" value="${values.text ?? ''}" placeholder="run id, file, person" />
    </div>
    <button type="submit">Filter</button>
  </form>`;
  const results = !page
    ? html`<p class="message warning">The history is not connected to the audit store.</p>`
    : page.entries.length === 0
      ? html`<p>No run matches these filters.</p>`
      : html`<table>
            <caption>
              Past runs, newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">Site</th>
                <th scope="col">Run</th>
                <th scope="col">Outcome</th>
                <th scope="col">Started</th>
                <th scope="col">Ended</th>
                <th scope="col">Duration</th>
                <th scope="col">Summary</th>
              </tr>
            </thead>
            <tbody>
              ${page.entries.map(
                (e) =>
                  html`<tr class="${toneOf(e.outcome) === 'fail' ? 'problem' : ''}">
                    <td>${e.site}</td>
                    <td>${runLink(e.workflowId, e.title)}<br /><span class="hint">${e.kind}</span></td>
                    <td>${badge(e.outcome)}</td>
                    <td>${time(e.startedAt)}</td>
                    <td>${time(e.endedAt)}</td>
                    <td>${e.endedAt === undefined ? 'running' : runDuration(e.startedAt, e.endedAt, e.endedAt)}</td>
                    <td>${e.summary ?? ''}</td>
                  </tr> `,
              )}
            </tbody>
          </table>
          ${input.nextUrl ? html`<p><a href="${input.nextUrl}">Older runs</a></p>` : ''}`;
  return layout(
    { title: 'History', nav: { ...nav, current: 'history' } },
    html`<h1>History</h1>
      ${form} ${results}`,
  );
}

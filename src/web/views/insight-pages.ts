/** The schedules page, a site's page and the printable courier sheet. */
import type { CourierSheet } from '../../domain/courier-sheet';
import { missedWords, scheduleInWords, zonedTimeWithHint, type ScheduleStatus } from '../../domain/cron-words';
import { html } from '../../domain/mail/html';
import type { OpenRun, ProtectionHistory } from '../deps';
import { protectionSection } from './dashboard-pages';
import { badge, formatSize, time, timeWithHint } from './format';
import { layout, type LayoutOptions } from './layout';

type Nav = NonNullable<LayoutOptions['nav']>;

const runHref = (id: string) => `/runs/${encodeURIComponent(id)}`;

export function schedulesPage(schedules: ScheduleStatus[] | undefined, now: number, nav: Nav): string {
  const body = !schedules
    ? html`<p class="message warning">The schedules are not connected to the orchestrator.</p>`
    : schedules.length === 0
      ? html`<p>No site has a schedule.</p>`
      : html`<table>
          <caption>
            Cycle schedules, one per site
          </caption>
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">Runs</th>
              <th scope="col">State</th>
              <th scope="col">Next</th>
              <th scope="col">Last</th>
              <th scope="col">Missed or skipped</th>
            </tr>
          </thead>
          <tbody>
            ${schedules.map((s) => {
              if (s.missing)
                return html`<tr class="schedule" data-site="${s.site}">
                  <td><a href="/sites/${encodeURIComponent(s.site)}">${s.site}</a></td>
                  <td>${scheduleInWords(s.cron, s.timezone)}<br /><code class="hint">${s.cron}</code></td>
                  <td>${badge('not created', 'neutral')}</td>
                  <td colspan="3">created when the worker stack starts</td>
                </tr>`;
              const last = s.recent[s.recent.length - 1];
              const missed = s.missedCatchupWindow > 0 || s.skippedOverlap > 0;
              return html`<tr class="schedule${missed ? ' problem' : ''}" data-site="${s.site}">
                <td><a href="/sites/${encodeURIComponent(s.site)}">${s.site}</a></td>
                <td>${scheduleInWords(s.cron, s.timezone)}<br /><code class="hint">${s.cron}</code></td>
                <td>
                  ${s.paused ? badge('paused', 'wait') : badge('active', 'ok')}${s.note ? html`<br /><span class="hint">${s.note}</span>` : ''}
                </td>
                <td class="next">
                  ${s.paused ? 'none while paused' : s.nextRuns[0] !== undefined ? zonedTimeWithHint(s.nextRuns[0], s.timezone, now) : 'none'}
                </td>
                <td class="last">
                  ${
                    last
                      ? html`${zonedTimeWithHint(last.takenAt, s.timezone, now)}<br />${badge(last.outcome ?? 'unknown')}
                          <a href="${runHref(last.workflowId)}">${last.workflowId}</a>`
                      : 'never ran'
                  }
                </td>
                <td class="missed">
                  ${missed ? html`${badge(s.missedCatchupWindow > 0 ? 'missed' : 'skipped', 'fail')} ${missedWords(s)}` : 'none'}
                </td>
              </tr>`;
            })}
          </tbody>
        </table>`;
  return layout(
    { title: 'Schedules', nav: { ...nav, current: 'schedules' } },
    html`<h1>Schedules</h1>
      ${body}`,
  );
}

export function sitePage(
  input: {
    site: { id: string; name?: string };
    protection?: ProtectionHistory;
    schedule?: ScheduleStatus;
    runs: OpenRun[];
  },
  now: number,
  nav: Nav,
): string {
  const { site } = input;
  const s = input.schedule;
  return layout(
    { title: `Site ${site.name ?? site.id}`, nav },
    html`<h1>Site ${site.name ?? site.id}</h1>
      <p class="context">
        <code>${site.id}</code> · <a href="/history?site=${encodeURIComponent(site.id)}">past runs</a>
      </p>
      ${
        s && !s.missing
          ? html`<p>
              Schedule: ${scheduleInWords(s.cron, s.timezone)}${s.paused ? html` ${badge('paused', 'wait')}` : ''}; next
              ${s.paused ? 'none while paused' : s.nextRuns[0] !== undefined ? zonedTimeWithHint(s.nextRuns[0], s.timezone, now) : 'none'}.
              <a href="/schedules">All schedules</a>
            </p>`
          : ''
      }
      <h2>Open runs</h2>
      ${
        input.runs.length === 0
          ? html`<p>No run of this site is open.</p>`
          : html`<ul>
              ${input.runs.map(
                (r) =>
                  html`<li>
                    <a href="${runHref(r.workflowId)}">${r.title}</a> ${badge(r.state)} since ${time(r.startedAt)}
                  </li>`,
              )}
            </ul>`
      }
      ${protectionSection(input.protection ? [input.protection] : undefined, now, false)}`,
  );
}

/** The sheet a courier takes along: built to print on one page (see @media print in the stylesheet). */
export function courierSheetPage(sheet: CourierSheet, now: number, nav: Nav): string {
  return layout(
    { title: `Courier sheet ${sheet.workflowId}`, nav },
    html`<article class="sheet">
      <p class="print-hint">
        Print this page (Ctrl+P) and take it with the file. <a href="${runHref(sheet.workflowId)}">Back to the run</a>
      </p>
      <h1>Courier sheet</h1>
      <p class="context">
        Site ${sheet.siteName ? html`${sheet.siteName} (${sheet.site})` : sheet.site} · cycle
        <code>${sheet.workflowId}</code> · printed ${time(now)}
      </p>
      <section>
        <h2>What to carry</h2>
        <dl class="facts">
          <dt>File</dt>
          <dd><code class="file">${sheet.file}</code> (do not rename it)</dd>
          <dt>Size</dt>
          <dd class="size">${formatSize(sheet.sizeBytes)}</dd>
          <dt>SHA-256</dt>
          <dd class="digest">${sheet.sha256Groups.join(' ')}</dd>
          <dt>Deadline</dt>
          <dd class="deadline">${sheet.deadline === undefined ? 'none set' : timeWithHint(sheet.deadline, now)}</dd>
        </dl>
      </section>
      <section>
        <h2>Take it from</h2>
        <p>
          DMZ relay <strong>${sheet.source.relay}</strong> (${sheet.source.os}), folder
          <code class="source-folder">${sheet.source.folder}</code>
        </p>
      </section>
      <section>
        <h2>Put it on</h2>
        <table class="targets">
          <thead>
            <tr>
              <th scope="col">Done</th>
              <th scope="col">Air-gapped relay</th>
              <th scope="col">OS</th>
              <th scope="col">Target folder</th>
              <th scope="col">Check the digest there with</th>
            </tr>
          </thead>
          <tbody>
            ${sheet.targets.map(
              (t) =>
                html`<tr data-relay="${t.relay}">
                  <td><span class="check" aria-hidden="true"></span>${t.status ? badge(t.status) : ''}</td>
                  <td>${t.relay}</td>
                  <td>${t.os}</td>
                  <td><code>${t.targetFolder}</code></td>
                  <td><code class="command">${t.checkCommand}</code></td>
                </tr>`,
            )}
          </tbody>
        </table>
        <p>The digest shown there must equal the SHA-256 above, every group.</p>
      </section>
      <section>
        <h2>Then tell</h2>
        <p class="tell">
          ${sheet.tell.join(', ')}${sheet.escalation.length ? html` (if they cannot be reached: ${sheet.escalation.join(', ')})` : ''}
        </p>
        <p>Use the “File copied” link in the transfer mail, or run <code>${sheet.reportCommand}</code></p>
      </section>
    </article>`,
  );
}

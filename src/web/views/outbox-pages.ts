/**
 * The outbox: mails the embedded default "sent". The text body is shown with its links made
 * clickable; the HTML body is shown in a sandboxed frame (no script, no same-origin access) whose
 * links open in the whole window.
 */
import { html, type SafeHtml } from '../../domain/mail/html';
import type { OutboxEntry, OutboxSummary } from '../../adapters/outbox';
import { time } from './format';
import { layout, type LayoutOptions } from './layout';

type Nav = NonNullable<LayoutOptions['nav']>;

const URL_IN_TEXT = /https?:\/\/[^\s<>"']+/g;

/** Escapes text and turns its http(s) URLs into links; trailing punctuation stays text. */
export function linkify(text: string): SafeHtml {
  const parts: SafeHtml[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const url = match[0].replace(/[.,;:!?)\]]+$/, '');
    const start = match.index;
    parts.push(html`${text.slice(last, start)}<a href="${url}">${url}</a>`);
    last = start + url.length;
  }
  parts.push(html`${text.slice(last)}`);
  return html`${parts}`;
}

export function outboxListPage(entries: OutboxSummary[], nav: Nav, olderUrl: string | undefined): string {
  return layout(
    { title: 'Outbox', nav: { ...nav, current: 'outbox' } },
    html`<h1>Outbox</h1>
      <p>Mail is not sent to a mail server in this setup: it is kept here. Open a mail to follow its links.</p>
      ${
        entries.length === 0
          ? html`<p>No mail yet.</p>`
          : html`<table>
              <caption>
                Mails, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Subject</th>
                  <th scope="col">To</th>
                  <th scope="col">Purpose</th>
                  <th scope="col">Site</th>
                </tr>
              </thead>
              <tbody>
                ${entries.map(
                  (e) =>
                    html`<tr>
                      <td>${time(e.createdAt)}</td>
                      <td><a href="/outbox/${e.id}">${e.subject}</a></td>
                      <td>${e.to.join(', ')}</td>
                      <td>${e.purpose}</td>
                      <td>${e.site}</td>
                    </tr> `,
                )}
              </tbody>
            </table>`
      }
      ${olderUrl ? html`<p><a href="${olderUrl}">Older mails</a></p>` : ''}`,
  );
}

export function outboxEntryPage(entry: OutboxEntry, nav: Nav): string {
  return layout(
    { title: entry.subject, nav: { ...nav, current: 'outbox' } },
    html`<h1>${entry.subject}</h1>
      <dl class="facts">
        <dt>From</dt>
        <dd>${entry.from}</dd>
        <dt>To</dt>
        <dd>${entry.to.join(', ')}</dd>
        <dt>Stored</dt>
        <dd>${time(entry.createdAt)}</dd>
        <dt>Purpose</dt>
        <dd>${entry.purpose}</dd>
        <dt>Run</dt>
        <dd><a href="/runs/${encodeURIComponent(entry.workflowId)}">${entry.workflowId}</a></dd>
        <dt>Message-ID</dt>
        <dd><code>${entry.messageId}</code></dd>
        <dt>Idempotency key</dt>
        <dd><code>${entry.idempotencyKey}</code></dd>
      </dl>
      <h2>Text</h2>
      <pre class="mail">${linkify(entry.text)}</pre>
      <h2>HTML</h2>
      <iframe
        class="mail"
        title="HTML version of the mail"
        src="/outbox/${entry.id}/html"
        sandbox="allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"
      ></iframe>
      <p><a href="/outbox">Back to the outbox</a></p>`,
  );
}

/** The stored HTML with a base target so its links replace the whole window, not the frame. */
export function outboxHtmlDocument(entry: OutboxEntry): string {
  const base = '<base target="_top">';
  return /<head[^>]*>/i.test(entry.html)
    ? entry.html.replace(/<head[^>]*>/i, (head) => `${head}${base}`)
    : `${base}${entry.html}`;
}

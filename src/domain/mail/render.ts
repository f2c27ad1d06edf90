/**
 * How every mail is rendered: one model of blocks (paragraphs, facts, steps, lists, code, action
 * links) becomes the text and the HTML part of one message, so both say the same thing. Pure; the
 * templates (templates.ts) only say which blocks a mail has. Times are shown in UTC.
 *
 * Subjects name the site, the run and what is asked:
 *   "[airgap demo] cycle demo-2026-11-25T06:00 — copy the bundle to the air-gapped relay"
 */
import { html, safeHref, type SafeHtml } from './html';
import { mailIdempotencyKey, type MailMessage, type MailPurpose } from './message';

/** The run a mail is about. */
export interface MailRun {
  siteId: string;
  /** The site's display name; the id is used when absent. */
  siteName?: string | undefined;
  workflowId: string;
  kind: 'cycle' | 'rollout' | 'rule transfer' | 'hardening';
  /** How people name the run ("demo-2026-11-25T06:00"); the workflow id when absent. */
  runId?: string | undefined;
  /** The run's page in the web app. */
  runUrl?: string | undefined;
}

/** Thrown when a template is called with input it cannot render safely; names the field. */
export class MailTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MailTemplateError';
  }
}

// ---------------------------------------------------------------------------------------------
// One model, two renderings.

export type Block =
  | { kind: 'p'; text: string }
  | { kind: 'strong'; text: string }
  | { kind: 'facts'; rows: ReadonlyArray<{ label: string; value: string; mono?: boolean }> }
  | { kind: 'steps'; items: readonly string[] }
  | { kind: 'list'; items: readonly string[] }
  | { kind: 'heading'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'action'; label: string; url: string; note?: string };

export interface Model {
  run: MailRun;
  purpose: MailPurpose;
  to: readonly string[];
  discriminator?: string | number | undefined;
  ask: string;
  blocks: Block[];
  /** Whether the mail carries a link that acts in the recipient's name. */
  personal: boolean;
}

/** "2026-11-25 06:00 UTC" */
export function formatMailTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** "1.5 MB (1,572,864 bytes)": the exact count is what people compare. */
export function formatSize(bytes: number): string {
  const exact = `${bytes.toLocaleString('en-US')} bytes`;
  if (bytes < 1024) return exact;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]} (${exact})`;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').trim();
}

function runName(run: MailRun): string {
  return `${run.kind} ${run.runId ?? run.workflowId}`;
}

function siteLabel(run: MailRun): string {
  return run.siteName ? `${run.siteName} (${run.siteId})` : run.siteId;
}

function subjectOf(model: Model): string {
  return oneLine(`[airgap ${model.run.siteId}] ${runName(model.run)} — ${model.ask}`);
}

function checkAddresses(to: readonly string[], personal: boolean, purpose: MailPurpose): void {
  if (to.length === 0) throw new MailTemplateError(`${purpose} mail: no recipient`);
  for (const a of to) {
    if (!/^[^\s@<>]+@[^\s@<>]+$/.test(a))
      throw new MailTemplateError(`${purpose} mail: "${a}" is not an email address`);
  }
  // A personal link forwarded to several people would let each of them act in one person's name.
  if (personal && to.length !== 1) {
    throw new MailTemplateError(
      `${purpose} mail carries a personal link: send one mail per recipient, not ${to.length}`,
    );
  }
}

function footerBlocks(model: Model): Block[] {
  const blocks: Block[] = [];
  if (model.personal) {
    blocks.push({
      kind: 'p',
      text: `The links in this mail are personal to ${model.to[0]}: they record the answer in your name. Do not forward this mail.`,
    });
  }
  if (model.run.runUrl) blocks.push({ kind: 'action', label: 'Open the run in the web app', url: model.run.runUrl });
  blocks.push({
    kind: 'p',
    text: `Sent by airgap-orchestrator for site ${siteLabel(model.run)}, ${runName(model.run)} (workflow ${model.run.workflowId}).`,
  });
  return blocks;
}

function renderText(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'p':
      case 'strong':
        out.push(b.text);
        break;
      case 'heading':
        out.push(`${b.text}\n${'-'.repeat(b.text.length)}`);
        break;
      case 'facts': {
        const width = Math.max(...b.rows.map((r) => r.label.length));
        out.push(b.rows.map((r) => `${`${r.label}:`.padEnd(width + 2)}${r.value}`).join('\n'));
        break;
      }
      case 'steps':
        out.push(b.items.map((s, i) => `${i + 1}. ${s}`).join('\n'));
        break;
      case 'list':
        out.push(b.items.map((s) => `- ${s}`).join('\n'));
        break;
      case 'code':
        out.push(
          b.text
            .split('\n')
            .map((l) => `    ${l}`)
            .join('\n'),
        );
        break;
      case 'action':
        out.push(`${b.label}:\n${b.url}${b.note ? `\n(${b.note})` : ''}`);
        break;
    }
  }
  return `${out.join('\n\n')}\n`;
}

const FONT = 'font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#1a1a1a';
const MONO = 'font-family:Consolas,Menlo,monospace;font-size:14px;word-break:break-all';

function renderBlockHtml(b: Block): SafeHtml {
  switch (b.kind) {
    case 'p':
      return html`<p style="margin:0 0 14px">${b.text}</p>`;
    case 'strong':
      return html`<p style="margin:0 0 14px"><strong>${b.text}</strong></p>`;
    case 'heading':
      return html`<h2 style="font-size:17px;margin:20px 0 8px">${b.text}</h2>`;
    case 'facts':
      return html`<table role="presentation" style="border-collapse:collapse;margin:0 0 14px">
        ${b.rows.map(
          (r) =>
            html`<tr>
              <th scope="row" style="text-align:left;vertical-align:top;padding:2px 12px 2px 0;font-weight:bold">
                ${r.label}
              </th>
              <td style="padding:2px 0;${r.mono ? MONO : ''}">${r.value}</td>
            </tr> `,
        )}
      </table>`;
    case 'steps':
      return html`<ol style="margin:0 0 14px;padding-left:22px">
        ${b.items.map((s) => html`<li style="margin:0 0 6px">${s}</li>`)}
      </ol>`;
    case 'list':
      return html`<ul style="margin:0 0 14px;padding-left:22px">
        ${b.items.map((s) => html`<li style="margin:0 0 4px">${s}</li>`)}
      </ul>`;
    case 'code':
      return html`<pre
        style="${MONO};background:#f3f3f3;border:1px solid #d0d0d0;padding:8px;margin:0 0 14px;white-space:pre-wrap"
      >
${b.text}</pre>`;
    case 'action':
      return html`<p style="margin:0 0 14px">
        <a
          href="${safeHref(b.url)}"
          style="display:inline-block;background:#0b5cab;color:#ffffff;text-decoration:none;padding:10px 16px;border-radius:4px;font-weight:bold"
          >${b.label}</a
        >${b.note ? html`<br /><span style="font-size:13px;color:#444">${b.note}</span>` : ''}<br /><span
          style="font-size:12px;color:#444;word-break:break-all"
          >${b.url}</span
        >
      </p>`;
  }
}

function renderHtml(model: Model, subject: string, blocks: Block[]): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width" />
        <title>${subject}</title>
      </head>
      <body style="margin:0;padding:16px;background:#ffffff">
        <div style="${FONT};max-width:680px">
          <p style="margin:0 0 14px;font-size:13px;color:#444">Site ${siteLabel(model.run)} · ${runName(model.run)}</p>
          ${blocks.map((b) => html`${renderBlockHtml(b)} `)}
        </div>
      </body>
    </html> `.value;
}

export function build(model: Model): MailMessage {
  checkAddresses(model.to, model.personal, model.purpose);
  const subject = subjectOf(model);
  const blocks = [...model.blocks, ...footerBlocks(model)];
  return {
    to: [...model.to],
    subject,
    text: renderText(blocks),
    html: renderHtml(model, subject, blocks),
    purpose: model.purpose,
    site: model.run.siteId,
    workflowId: model.run.workflowId,
    idempotencyKey: mailIdempotencyKey({
      workflowId: model.run.workflowId,
      purpose: model.purpose,
      discriminator: model.discriminator,
      to: model.to,
    }),
  };
}

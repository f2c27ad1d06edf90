/**
 * Every mail the orchestrator sends, rendered as text and HTML from one model so both say the
 * same thing. Pure: links arrive already signed (one set per recipient, because a link acts in
 * its recipient's name), times arrive as epoch milliseconds and are shown in UTC.
 *
 * Subjects name the site, the run and what is asked:
 *   "[airgap demo] cycle demo-2026-11-25T06:00 — copy the bundle to the air-gapped relay"
 */
import { formatDuration } from '../duration';
import { html, safeHref, type SafeHtml } from './html';
import { mailIdempotencyKey, type VersionLine, type MailMessage, type MailPurpose } from './message';
import { checkCommandFor, joinPath } from '../courier-sheet';

const hostOs = (os: string) => (os === 'windows' ? 'windows' : 'linux');

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

export interface BundleFacts {
  /** The zip's name, which the air-gapped relay expects unchanged. */
  fileName: string;
  sha256: string;
  sizeBytes: number;
}

export interface RelayTarget {
  name: string;
  os: string;
  /** The folder on that relay the zip must be copied into. */
  targetFolder: string;
}

export interface TransferInstructionsInput {
  run: MailRun;
  recipient: string;
  /** This recipient's signed "file copied" link. */
  fileCopiedUrl: string;
  bundle: BundleFacts;
  /** Where the zip waits on the DMZ side. */
  pickup?: { relay: string; path: string } | undefined;
  relays: readonly RelayTarget[];
  deadline?: number | undefined;
  /** Tells a re-sent set of instructions (a new bundle in the same run) from the first; part of the idempotency key. */
  round?: number | undefined;
}

export interface ReminderInput {
  run: MailRun;
  to: readonly string[];
  /** What is asked, as in the subject: "copy the bundle to the air-gapped relay". */
  request: string;
  since: number;
  now: number;
  deadline?: number | undefined;
  /** 1 for the first reminder; part of the idempotency key. */
  reminderNumber: number;
  /** The recipient's own action link; only allowed with exactly one recipient. */
  link?: { url: string; label: string } | undefined;
  details?: ReadonlyArray<{ label: string; value: string }> | undefined;
}

export interface EscalationInput {
  run: MailRun;
  to: readonly string[];
  request: string;
  /** Who was asked and has not answered. */
  askedOf: readonly string[];
  since: number;
  now: number;
  deadline?: number | undefined;
  escalationNumber: number;
  details?: ReadonlyArray<{ label: string; value: string }> | undefined;
}

export interface ApprovalRequestInput {
  run: MailRun;
  recipient: string;
  approveUrl: string;
  rejectUrl: string;
  bundle: BundleFacts;
  versions: readonly VersionLine[];
  /** Who said "file copied". */
  carriedBy: string;
  copiedAt?: number | undefined;
  deadline?: number | undefined;
  /** For n-of-m policies: "2 of 3 approvers". */
  policy?: string | undefined;
  /** Tells a second approval round in the same run from the first; part of the idempotency key. */
  round?: number | undefined;
}

/** How a run ends, as every run kind names it: the state `status` shows is the outcome its mail states. */
export const RUN_OUTCOMES = [
  'completed',
  'nothing-new',
  'expired',
  'cancelled',
  'rejected',
  'aborted',
  'failed',
] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

export function isRunOutcome(value: unknown): value is RunOutcome {
  return typeof value === 'string' && (RUN_OUTCOMES as readonly string[]).includes(value);
}

export interface ResultInput {
  run: MailRun;
  to: readonly string[];
  outcome: RunOutcome;
  at: number;
  /** Who rejected or cancelled, when a person did. */
  by?: string | undefined;
  reason?: string | undefined;
  bundle?: BundleFacts | undefined;
  versions?: readonly VersionLine[] | undefined;
  summary?: string | undefined;
}

export interface FailureInput {
  run: MailRun;
  to: readonly string[];
  /** The stage or step that failed. */
  stage?: string | undefined;
  reason: string;
  /** What an operator can do now, one sentence each. */
  operatorCanDo: readonly string[];
  at: number;
  /** Tells repeated failure notices of one run apart (e.g. the attempt); defaults to the stage. */
  failureKey?: string | undefined;
}

export interface ManualStepInput {
  run: MailRun;
  recipient: string;
  doneUrl: string;
  step: { id: string; title: string; instructions: readonly string[] };
  deadline?: number | undefined;
}

export const STAGE_STATUSES = ['starting', 'waiting', 'completed', 'paused', 'failed'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

export interface UpgradeStageInput {
  run: MailRun;
  to: readonly string[];
  stage: { id: string; name: string };
  status: StageStatus;
  at: number;
  hosts?: readonly string[] | undefined;
  detail?: string | undefined;
  nextStage?: string | undefined;
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

type Block =
  | { kind: 'p'; text: string }
  | { kind: 'strong'; text: string }
  | { kind: 'facts'; rows: ReadonlyArray<{ label: string; value: string; mono?: boolean }> }
  | { kind: 'steps'; items: readonly string[] }
  | { kind: 'list'; items: readonly string[] }
  | { kind: 'heading'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'action'; label: string; url: string; note?: string };

interface Model {
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

function build(model: Model): MailMessage {
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

function bundleRows(bundle: BundleFacts): Array<{ label: string; value: string; mono?: boolean }> {
  return [
    { label: 'File', value: bundle.fileName, mono: true },
    { label: 'SHA-256', value: bundle.sha256, mono: true },
    { label: 'Size', value: formatSize(bundle.sizeBytes) },
  ];
}

function deadlineRow(deadline: number | undefined): Array<{ label: string; value: string }> {
  return deadline === undefined ? [] : [{ label: 'Deadline', value: formatMailTime(deadline) }];
}

function versionLines(versions: readonly VersionLine[]): string[] {
  return versions.map((v) => (v.previous ? `${v.name}: ${v.previous} → ${v.version}` : `${v.name}: ${v.version}`));
}

// ---------------------------------------------------------------------------------------------
// The templates.

/** To one carrier: which file to take, where to put it on each air-gapped relay, and the "file copied" link. */
export function transferInstructionsMail(input: TransferInstructionsInput): MailMessage {
  const { bundle, relays } = input;
  if (relays.length === 0) throw new MailTemplateError('transfer-instructions mail: no air-gapped relay');
  const plural = relays.length > 1;
  const steps = [
    input.pickup
      ? `Take the file ${bundle.fileName} from the DMZ relay ${input.pickup.relay} (${input.pickup.path}).`
      : `Take the file ${bundle.fileName} from the DMZ relay.`,
    `Do not rename the file: the air-gapped relay imports it under exactly this name.`,
    `Copy it into the target folder of ${plural ? 'each air-gapped relay' : 'the air-gapped relay'} listed below.`,
    `On ${plural ? 'each relay' : 'the relay'}, compute the SHA-256 of the copied file and compare it with the one above.`,
    `Open the "file copied" link below and type or paste the SHA-256 you computed.`,
  ];
  return build({
    run: input.run,
    purpose: 'transfer-instructions',
    to: [input.recipient],
    discriminator: input.round,
    ask: `copy the bundle to the air-gapped ${plural ? 'relays' : 'relay'}`,
    personal: true,
    blocks: [
      {
        kind: 'p',
        text: `A new Deep Security update bundle is ready on the DMZ side. Please carry it to the air-gapped ${plural ? 'relays' : 'relay'}.`,
      },
      { kind: 'facts', rows: [...bundleRows(bundle), ...deadlineRow(input.deadline)] },
      { kind: 'heading', text: 'Steps' },
      { kind: 'steps', items: steps },
      { kind: 'heading', text: plural ? 'Air-gapped relays' : 'Air-gapped relay' },
      ...relays.flatMap((r): Block[] => [
        {
          kind: 'facts',
          rows: [
            { label: 'Relay', value: r.name },
            { label: 'OS', value: r.os },
            { label: 'Target folder', value: r.targetFolder, mono: true },
          ],
        },
        {
          kind: 'code',
          // One command per OS for the mail, the pages and the courier sheet, quoted for its shell.
          text: checkCommandFor(joinPath(r.targetFolder, bundle.fileName, hostOs(r.os)), hostOs(r.os)),
        },
      ]),
      {
        kind: 'action',
        label: 'File copied',
        url: input.fileCopiedUrl,
        note: 'Opens a page where you confirm; nothing happens until you press the button there.',
      },
    ],
  });
}

/** A reminder that something is still awaited; carries the recipient's link when it has one. */
export function reminderMail(input: ReminderInput): MailMessage {
  const waited = formatDuration(Math.max(0, input.now - input.since));
  const rows = [...(input.details ?? []), ...deadlineRow(input.deadline)];
  const blocks: Block[] = [
    {
      kind: 'p',
      text: `Still waiting for you to ${input.request}. Asked ${formatMailTime(input.since)}, ${waited} ago.`,
    },
  ];
  if (rows.length > 0) blocks.push({ kind: 'facts', rows });
  if (input.link) blocks.push({ kind: 'action', label: input.link.label, url: input.link.url });
  return build({
    run: input.run,
    purpose: 'reminder',
    to: input.to,
    discriminator: input.reminderNumber,
    ask: `reminder ${input.reminderNumber}: ${input.request}`,
    personal: input.link !== undefined,
    blocks,
  });
}

/** To the escalation list: who was asked what, since when, and until when. */
export function escalationMail(input: EscalationInput): MailMessage {
  const waited = formatDuration(Math.max(0, input.now - input.since));
  return build({
    run: input.run,
    purpose: 'escalation',
    to: input.to,
    discriminator: input.escalationNumber,
    ask: `escalation: no answer for ${waited} to "${input.request}"`,
    personal: false,
    blocks: [
      {
        kind: 'p',
        text: `Nobody has answered for ${waited}. The run is waiting for someone to ${input.request}.`,
      },
      {
        kind: 'facts',
        rows: [
          { label: 'Asked of', value: input.askedOf.join(', ') },
          { label: 'Asked at', value: formatMailTime(input.since) },
          ...deadlineRow(input.deadline),
          ...(input.details ?? []),
        ],
      },
      {
        kind: 'p',
        text:
          input.deadline === undefined
            ? 'Please make sure someone takes care of it.'
            : 'Please make sure someone takes care of it before the deadline; after it the run ends without importing.',
      },
    ],
  });
}

/** To one approver: the bundle that was carried, its versions, who carried it, approve and reject links. */
export function approvalRequestMail(input: ApprovalRequestInput): MailMessage {
  return build({
    run: input.run,
    purpose: 'approval-request',
    to: [input.recipient],
    discriminator: input.round,
    ask: `approve or reject the import of ${input.bundle.fileName}`,
    personal: true,
    blocks: [
      {
        kind: 'p',
        text: `The bundle below is on the air-gapped relays and its SHA-256 has been verified. It is imported only after approval${input.policy ? ` (${input.policy})` : ''}.`,
      },
      {
        kind: 'facts',
        rows: [
          ...bundleRows(input.bundle),
          {
            label: 'Carried by',
            value: input.copiedAt ? `${input.carriedBy}, ${formatMailTime(input.copiedAt)}` : input.carriedBy,
          },
          ...deadlineRow(input.deadline),
        ],
      },
      ...(input.versions.length > 0
        ? [
            { kind: 'heading' as const, text: 'Versions in the bundle' },
            { kind: 'list' as const, items: versionLines(input.versions) },
          ]
        : []),
      {
        kind: 'action',
        label: 'Approve the import',
        url: input.approveUrl,
        note: 'Opens a page where you confirm.',
      },
      { kind: 'action', label: 'Reject the import', url: input.rejectUrl, note: 'Opens a page where you confirm.' },
    ],
  });
}

/** What the end of each kind of run leaves behind: "the updates are imported", "nothing was applied"… */
const KIND_EFFECT: Record<MailRun['kind'], { done: string; none: string }> = {
  cycle: { done: 'the updates are imported on the air-gapped side', none: 'Nothing was imported.' },
  'rule transfer': {
    done: 'the rule updates are imported on the air-gapped manager',
    none: 'No rule update was imported.',
  },
  hardening: {
    done: 'every item was applied and verified or confirmed',
    none: 'Nothing more is applied; items applied before stay applied.',
  },
  rollout: {
    done: 'every stage was verified at its target version',
    none: 'Nothing new is started; stages already upgraded stay upgraded.',
  },
};

/** The words of an outcome in a subject: "rollout aborted", "cycle: nothing new to import". */
const OUTCOME_WORDS: Record<RunOutcome, string> = {
  completed: 'completed',
  'nothing-new': 'ended: nothing new to import',
  expired: 'expired without an answer',
  cancelled: 'cancelled',
  rejected: 'rejected',
  aborted: 'aborted',
  failed: 'failed',
};

/**
 * The subject's "what" of a run's final notice: the run kind and its own outcome, and who when a
 * person decided it ("rollout aborted by lead@plant.example"). One function for every kind, so a
 * notice cannot name another outcome than the run's.
 */
export function outcomeHeadline(kind: MailRun['kind'], outcome: RunOutcome, by?: string): string {
  const who = by && (outcome === 'rejected' || outcome === 'cancelled' || outcome === 'aborted') ? ` by ${by}` : '';
  return `${kind} ${OUTCOME_WORDS[outcome]}${who}`;
}

/** The first line of a final notice's body: the outcome in a sentence, with what it leaves behind. */
export function outcomeLead(kind: MailRun['kind'], outcome: RunOutcome): string {
  const effect = KIND_EFFECT[kind];
  const The = `The ${kind}`;
  switch (outcome) {
    case 'completed':
      return `${The} completed: ${effect.done}.`;
    case 'nothing-new':
      return `${The} ended without a transfer (nothing new): the air-gapped side already has the latest updates.`;
    case 'expired':
      return `${The} expired: it ended at its deadline without the awaited answer. ${effect.none}`;
    case 'cancelled':
      return `${The} was cancelled. ${effect.none}`;
    case 'rejected':
      return `${The} was rejected. ${effect.none}`;
    case 'aborted':
      return `${The} was aborted. ${effect.none}`;
    case 'failed':
      return `${The} failed. ${effect.none}`;
  }
}

/** How a run ended: subject and body state the run's own outcome, in the words of its kind. */
export function resultMail(input: ResultInput): MailMessage {
  if (!isRunOutcome(input.outcome)) {
    throw new MailTemplateError(
      `result mail: "${String(input.outcome)}" is not an outcome (${RUN_OUTCOMES.join(', ')})`,
    );
  }
  return build({
    run: input.run,
    purpose: 'result',
    to: input.to,
    discriminator: input.outcome,
    ask: outcomeHeadline(input.run.kind, input.outcome, input.by),
    personal: false,
    blocks: [
      { kind: 'p', text: outcomeLead(input.run.kind, input.outcome) },
      ...(input.summary ? [{ kind: 'p' as const, text: input.summary }] : []),
      {
        kind: 'facts',
        rows: [
          { label: 'Outcome', value: input.outcome },
          { label: 'At', value: formatMailTime(input.at) },
          ...(input.by ? [{ label: 'By', value: input.by }] : []),
          ...(input.reason ? [{ label: 'Reason', value: input.reason }] : []),
          ...(input.bundle ? bundleRows(input.bundle) : []),
        ],
      },
      ...(input.versions && input.versions.length > 0
        ? [
            { kind: 'heading' as const, text: 'Versions' },
            { kind: 'list' as const, items: versionLines(input.versions) },
          ]
        : []),
    ],
  });
}

/** A failure an operator must know about, with what they can do. */
export function failureMail(input: FailureInput): MailMessage {
  if (input.operatorCanDo.length === 0) {
    throw new MailTemplateError('failure mail: say at least one thing an operator can do (operatorCanDo)');
  }
  return build({
    run: input.run,
    purpose: 'failure',
    to: input.to,
    discriminator: input.failureKey ?? input.stage ?? 'run',
    ask: `${input.run.kind} failed${input.stage ? ` at ${input.stage}` : ''}: action needed`,
    personal: false,
    blocks: [
      {
        kind: 'strong',
        text: input.stage ? `The ${input.run.kind} failed at ${input.stage}.` : `The ${input.run.kind} failed.`,
      },
      {
        kind: 'facts',
        rows: [
          { label: 'Outcome', value: 'failed' },
          { label: 'Reason', value: input.reason },
          { label: 'At', value: formatMailTime(input.at) },
        ],
      },
      { kind: 'heading', text: 'What you can do' },
      { kind: 'list', items: input.operatorCanDo },
    ],
  });
}

/** To one operator: the steps of a manual step and the "done" link. */
export function manualStepMail(input: ManualStepInput): MailMessage {
  if (input.step.instructions.length === 0)
    throw new MailTemplateError('manual-step mail: the step has no instructions');
  return build({
    run: input.run,
    purpose: 'manual-step',
    to: [input.recipient],
    discriminator: input.step.id,
    ask: `manual step: ${input.step.title}`,
    personal: true,
    blocks: [
      {
        kind: 'p',
        text: `This step is done by hand. The run waits until you confirm that it is done.`,
      },
      { kind: 'facts', rows: [{ label: 'Step', value: input.step.title }, ...deadlineRow(input.deadline)] },
      { kind: 'heading', text: 'Steps' },
      { kind: 'steps', items: input.step.instructions },
      {
        kind: 'action',
        label: 'Done',
        url: input.doneUrl,
        note: 'Opens a page where you confirm; nothing happens until you press the button there.',
      },
    ],
  });
}

const STAGE_TEXT: Record<StageStatus, string> = {
  starting: 'starts',
  waiting: 'is waiting',
  completed: 'completed',
  paused: 'is paused',
  failed: 'failed',
};

/** A notice about one stage of an agent/relay upgrade rollout. */
export function upgradeStageMail(input: UpgradeStageInput): MailMessage {
  const verb = STAGE_TEXT[input.status];
  return build({
    run: input.run,
    purpose: 'upgrade-stage',
    to: input.to,
    discriminator: `${input.stage.id}/${input.status}`,
    ask: `stage ${input.stage.name} ${verb}`,
    personal: false,
    blocks: [
      { kind: 'p', text: `Upgrade stage ${input.stage.name} ${verb} (${formatMailTime(input.at)}).` },
      ...(input.detail ? [{ kind: 'p' as const, text: input.detail }] : []),
      ...(input.hosts && input.hosts.length > 0
        ? [
            { kind: 'heading' as const, text: 'Hosts in this stage' },
            { kind: 'list' as const, items: input.hosts },
          ]
        : []),
      ...(input.nextStage ? [{ kind: 'p' as const, text: `Next stage: ${input.nextStage}.` }] : []),
    ],
  });
}

export interface PlainNoticeInput {
  run: MailRun;
  to: readonly string[];
  purpose: MailPurpose;
  /** Tells notices of one purpose in a run apart; part of the idempotency key. */
  discriminator?: string | number | undefined;
  ask: string;
  lead: string;
  facts?: ReadonlyArray<{ label: string; value: string }> | undefined;
  steps?: readonly string[] | undefined;
  heading?: string | undefined;
  lines?: readonly string[] | undefined;
  commands?: readonly string[] | undefined;
  /**
   * Signed links that act in the recipient's name (approve, reject, done). With actions the mail
   * is personal: exactly one recipient.
   */
  actions?: ReadonlyArray<{ label: string; url: string }> | undefined;
  /**
   * Set for a run's final notice: the subject becomes the outcome's headline, and the body begins
   * with the outcome in a sentence and an "Outcome" fact, whatever the lead says.
   */
  outcome?: RunOutcome | undefined;
}

/**
 * A notice of a run kind that has no template of its own (rule transfer, hardening): a lead, facts,
 * steps, a list, the commands that answer it, and optionally the recipient's own action links.
 */
export function plainNoticeMail(input: PlainNoticeInput): MailMessage {
  const outcome = input.outcome;
  if (outcome !== undefined && !isRunOutcome(outcome)) {
    throw new MailTemplateError(
      `${input.purpose} mail: "${String(outcome)}" is not an outcome (${RUN_OUTCOMES.join(', ')})`,
    );
  }
  const blocks: Block[] = outcome ? [{ kind: 'strong', text: outcomeLead(input.run.kind, outcome) }] : [];
  blocks.push({ kind: 'p', text: input.lead });
  const facts = [...(outcome ? [{ label: 'Outcome', value: outcome }] : []), ...(input.facts ?? [])];
  if (facts.length > 0) blocks.push({ kind: 'facts', rows: facts });
  if (input.steps && input.steps.length > 0) {
    blocks.push({ kind: 'heading', text: 'Steps' }, { kind: 'steps', items: input.steps });
  }
  if (input.lines && input.lines.length > 0) {
    if (input.heading) blocks.push({ kind: 'heading', text: input.heading });
    blocks.push({ kind: 'list', items: input.lines });
  }
  for (const action of input.actions ?? []) {
    blocks.push({
      kind: 'action',
      label: action.label,
      url: action.url,
      note: 'Opens a confirmation page; nothing happens until you confirm there.',
    });
  }
  if (input.commands && input.commands.length > 0) {
    blocks.push({ kind: 'heading', text: 'To answer' }, { kind: 'code', text: input.commands.join('\n') });
  }
  return build({
    run: input.run,
    purpose: input.purpose,
    to: input.to,
    discriminator: input.discriminator,
    ask: outcome ? outcomeHeadline(input.run.kind, outcome) : input.ask,
    personal: (input.actions?.length ?? 0) > 0,
    blocks,
  });
}

/**
 * The pages a link from a mail leads to. The confirmation page shows what the link is about and a
 * form; only pressing its button (a POST) acts. No script, no auto-submit, no redirect.
 */
import { checkCommandFor, joinPath } from '../../domain/courier-sheet';
import type { LinkAction, LinkPayload } from '../../domain/link-token';
import { html, raw, type SafeHtml } from '../../domain/mail/html';
import type { ActionOutcome, AlreadyDecidedView, NoLongerWaitingView, WaitingActionView } from '../deps';
import { CSRF_FIELD } from '../csrf';
import { formatSize, time, timeWithHint } from './format';
import { layout, type LayoutOptions } from './layout';

interface ActionText {
  heading: string;
  button: string;
  lead: string;
  danger?: boolean;
  comment?: { label: string; help: string };
}

export const ACTION_TEXT: Record<LinkAction, ActionText> = {
  approve: {
    heading: 'Approve the import',
    button: 'Approve the import',
    lead: 'Pressing the button records your approval in your name. The import may start right after.',
    comment: { label: 'Comment (optional)', help: 'Kept in the audit with your approval.' },
  },
  reject: {
    heading: 'Reject the import',
    button: 'Reject the import',
    lead: 'Pressing the button records your rejection in your name. The bundle will not be imported.',
    danger: true,
    comment: { label: 'Reason (optional)', help: 'Sent to the operators and kept in the audit.' },
  },
  'file-copied': {
    heading: 'Confirm the file is copied',
    button: 'Confirm: file copied',
    lead: 'Confirm only when the file is in the target folder of every relay listed, under its original name.',
  },
  'manual-done': {
    heading: 'Confirm the step is done',
    button: 'Confirm: step done',
    lead: 'Confirm only after you have done every step below.',
    comment: { label: 'Note (optional)', help: 'Anything the operators should know, kept in the audit.' },
  },
  'stage-confirm': {
    heading: 'Confirm the stage',
    button: 'Confirm the stage',
    lead: 'Confirm only when the stage is done as its instructions say.',
  },
};

export interface ConfirmationPageInput {
  actionPath: string;
  payload: LinkPayload;
  view: WaitingActionView;
  csrf: string;
  now: number;
  error?: string;
  values?: { sha256?: string; comment?: string };
}

function fact(label: string, value: SafeHtml | string | undefined): SafeHtml {
  if (value === undefined || value === '') return html``;
  return html`<dt>${label}</dt>
    <dd>${value}</dd> `;
}

/**
 * The command that prints a file's SHA-256 on a relay of this OS, for the file in its target
 * folder (quoted for the shell that runs it: sh on Linux, PowerShell on Windows).
 */
export function digestCommand(os: string, folder: string, file: string): string {
  const hostOs = os === 'windows' ? 'windows' : 'linux';
  const trimmed = hostOs === 'windows' ? folder.replace(/[\\/]+$/, '') : folder.replace(/\/+$/, '');
  return checkCommandFor(joinPath(trimmed, file, hostOs), hostOs);
}

function waitingFacts(view: WaitingActionView, payload: LinkPayload, now: number, fromLink: boolean): SafeHtml {
  // A "file copied" page asks the person for the digest they computed on the relay: showing the
  // expected one there would let them copy it instead (the mail to the courier still has it).
  const showDigest = payload.action !== 'file-copied';
  return html`<dl class="facts">
    ${fact('Site', view.site)} ${fact('Run', view.runLabel ?? view.workflowId)}
    ${fact('File', view.file ? html`<code>${view.file}</code>` : undefined)}
    ${fact('SHA-256', showDigest && view.sha256 ? html`<code>${view.sha256}</code>` : undefined)}
    ${fact('Size', view.sizeBytes === undefined ? undefined : formatSize(view.sizeBytes))}
    ${fact(
      'Versions',
      view.versions && view.versions.length > 0
        ? html`<ul>
            ${view.versions.map(
              (v) => html`<li>${v.name}: ${v.previous ? html`${v.previous} → ` : ''}<strong>${v.version}</strong></li>`,
            )}
          </ul>`
        : undefined,
    )}
    ${fact('Asked by', view.askedBy)} ${fact('Carried by', view.carriedBy)}
    ${fact('Waiting since', view.since === undefined ? undefined : timeWithHint(view.since, now))}
    ${fact('Deadline', view.deadline === undefined ? undefined : timeWithHint(view.deadline, now))}
    ${fromLink ? html`${fact('Link sent to', payload.recipient)} ${fact('Link valid until', time(payload.expiresAt))}` : ''}
  </dl>`;
}

function relaysTable(view: WaitingActionView): SafeHtml {
  if (!view.relays || view.relays.length === 0) return html``;
  return html`<table>
    <caption>
      Where the file goes
    </caption>
    <thead>
      <tr>
        <th scope="col">Relay</th>
        <th scope="col">OS</th>
        <th scope="col">Target folder</th>
      </tr>
    </thead>
    <tbody>
      ${view.relays.map(
        (r) =>
          html`<tr>
            <td>${r.name}</td>
            <td>${r.os}</td>
            <td><code>${r.targetFolder}</code></td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function instructionsList(view: WaitingActionView): SafeHtml {
  if (!view.instructions || view.instructions.length === 0) return html``;
  return html`<h2>Steps</h2>
    <ol>
      ${view.instructions.map((s) => html`<li>${s}</li>`)}
    </ol>`;
}

function digestCommands(view: WaitingActionView): SafeHtml {
  const file = view.file ?? 'the file';
  const relays = view.relays ?? [];
  if (relays.length === 0) {
    return html`<p class="help">
      On Linux: <code>sha256sum ${file}</code>; on Windows (PowerShell):
      <code>Get-FileHash -Algorithm SHA256 ${file}</code>
    </p>`;
  }
  return html`<p class="help">Commands to run:</p>
    <ul class="commands">
      ${relays.map((r) => html`<li>${r.name} (${r.os}): <code>${digestCommand(r.os, r.targetFolder, file)}</code></li>`)}
    </ul>`;
}

function formFields(input: ConfirmationPageInput, text: ActionText): SafeHtml {
  const describedBy = input.error ? 'form-error ' : '';
  if (input.payload.action === 'file-copied') {
    return html`<div class="field">
      <label for="sha256">SHA-256 of the copied file</label>
      <input
        type="text"
        id="sha256"
        name="sha256"
        required
        minlength="12"
        maxlength="100"
        autocomplete="off"
        spellcheck="false"
        autocapitalize="off"
        aria-describedby="${describedBy}sha256-help"
        ${input.error ? raw(' aria-invalid="true"') : ''}
        value="${input.values?.sha256 ?? ''}"
      />
      <p class="help" id="sha256-help">
        Compute it on the relay, over the copied file, and type or paste what the command prints: at least the first 12
        hex digits, the whole digest is best.
      </p>
      ${digestCommands(input.view)}
    </div>`;
  }
  if (!text.comment) return html``;
  return html`<div class="field">
    <label for="comment">${text.comment.label}</label>
    <textarea id="comment" name="comment" maxlength="1000" aria-describedby="${describedBy}comment-help">
${input.values?.comment ?? ''}</textarea>
    <p class="help" id="comment-help">${text.comment.help}</p>
  </div>`;
}

/** The form that answers one waiting action; `hidden` adds fields (the "waiting on me" page names the run in them). */
export function actionForm(input: ConfirmationPageInput & { hidden?: Record<string, string> }): SafeHtml {
  const text = ACTION_TEXT[input.payload.action];
  return html`<form method="post" action="${input.actionPath}" class="action">
    <p>${text.lead}</p>
    ${input.error ? html`<p class="message error" role="alert" id="form-error">${input.error}</p>` : ''}
    <input type="hidden" name="${CSRF_FIELD}" value="${input.csrf}" />
    ${Object.entries(input.hidden ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`)}
    ${formFields(input, text)}
    <button type="submit" ${text.danger ? raw(' class="danger"') : ''}>${text.button}</button>
  </form>`;
}

/** What the run waits for: its facts, relays and steps (without the link's own recipient and expiry when `fromLink` is false). */
export function waitingDetails(view: WaitingActionView, payload: LinkPayload, now: number, fromLink = true): SafeHtml {
  return html`${waitingFacts(view, payload, now, fromLink)} ${relaysTable(view)} ${instructionsList(view)}`;
}

export function confirmationPage(input: ConfirmationPageInput): string {
  const text = ACTION_TEXT[input.payload.action];
  const { view } = input;
  return layout(
    { title: text.heading },
    html`<h1>${text.heading}</h1>
      <p class="context">${view.site} · ${view.runLabel ?? view.workflowId}</p>
      <p>${view.title}</p>
      ${waitingDetails(view, input.payload, input.now)} ${actionForm(input)}`,
  );
}

function runContext(site: string | undefined, run: string | undefined, title: string | undefined): SafeHtml {
  const parts = [site, run].filter((p): p is string => Boolean(p));
  return html`${parts.length > 0 ? html`<p class="context">${parts.join(' · ')}</p>` : ''}${title ? html`<p>${title}</p>` : ''}`;
}

export function alreadyDecidedPage(
  view: Omit<AlreadyDecidedView, 'state' | 'at'> & { at?: number | undefined },
): string {
  return layout(
    { title: 'Already decided' },
    html`<h1>Already decided</h1>
      ${runContext(view.site, view.workflowId, view.title)}
      <p class="message" role="status">
        This was already answered: <strong>${view.decision}</strong> by
        ${view.by}${view.at === undefined ? '' : html`, ${time(view.at)}`}.
      </p>
      <p>Nothing more to do here.</p>`,
  );
}

export function noLongerWaitingPage(view: NoLongerWaitingView): string {
  return layout(
    { title: 'No longer waiting' },
    html`<h1>No longer waiting</h1>
      ${runContext(view.site, view.workflowId, view.title)}
      <p class="message warning" role="status">
        The run is no longer waiting for this answer. It is now: <strong>${view.currentState}</strong>.
      </p>
      <p>Nothing was changed. If you think this is wrong, tell an operator.</p>`,
  );
}

export function donePage(action: LinkAction, outcome: ActionOutcome): string {
  return layout(
    { title: 'Done' },
    html`<h1>Done</h1>
      <p class="message ok" role="status">${outcome.message}</p>
      ${outcome.by || outcome.at !== undefined ? html`<p>Recorded${outcome.by ? html` for ${outcome.by}` : ''}${outcome.at !== undefined ? html`, ${time(outcome.at)}` : ''}.</p>` : ''}
      <p>${ACTION_TEXT[action].heading}: nothing more to do here. You can close this page.</p>`,
  );
}

export function refusedPage(outcome: ActionOutcome, actionPath: string, nav?: LayoutOptions['nav']): string {
  return layout(
    { title: 'Not accepted', ...(nav ? { nav } : {}) },
    html`<h1>Not accepted</h1>
      <p class="message error" role="alert">${outcome.message}</p>
      <p>Nothing was changed. <a href="${actionPath}">Back to the form</a></p>`,
  );
}

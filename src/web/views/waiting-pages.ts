/**
 * "Waiting on me": what open runs ask of the signed-in person, each with its form right on the
 * page (the same facts and fields as a mail link's confirmation page; only a button acts).
 */
import type { LinkAction, LinkPayload } from '../../domain/link-token';
import { html } from '../../domain/mail/html';
import type { ActionOutcome, WaitingActionView } from '../deps';
import { ACTION_TEXT, actionForm, waitingDetails } from './action-pages';
import { time } from './format';
import { layout, type LayoutOptions } from './layout';

type Nav = NonNullable<LayoutOptions['nav']>;

export interface WaitingForm {
  action: LinkAction;
  csrf: string;
  hidden: Record<string, string>;
}

export interface WaitingItem {
  payload: LinkPayload;
  view: WaitingActionView;
  forms: WaitingForm[];
}

export function waitingPage(input: {
  person: string;
  items: WaitingItem[];
  now: number;
  nav: Nav;
  error?: { workflowId: string; action: LinkAction; text: string };
}): string {
  const { items } = input;
  return layout(
    { title: 'Waiting on me', nav: { ...input.nav, current: 'me' } },
    html`<h1>Waiting on me</h1>
      <p>Open runs that wait for something ${input.person} may do. Each answer is recorded in your name.</p>
      ${items.length === 0 ? html`<p class="message" role="status">Nothing waits on you right now.</p>` : ''}
      ${items.map(
        (item) =>
          html`<section class="waiting-item" data-run="${item.view.workflowId}" data-action="${item.payload.action}">
            <h2>${item.view.title}</h2>
            <p class="context">
              ${item.view.site} ·
              <a href="/runs/${encodeURIComponent(item.view.workflowId)}"
                >${item.view.runLabel ?? item.view.workflowId}</a
              >
            </p>
            ${waitingDetails(item.view, item.payload, input.now, false)}
            ${item.forms.map((form) =>
              actionForm({
                actionPath: '/me',
                payload: { ...item.payload, action: form.action },
                view: item.view,
                csrf: form.csrf,
                now: input.now,
                hidden: form.hidden,
                ...(input.error?.workflowId === item.view.workflowId && input.error.action === form.action
                  ? { error: input.error.text }
                  : {}),
              }),
            )}
          </section>`,
      )}`,
  );
}

/** Why this viewer has no "waiting on me" page. */
export function noPersonPage(reason: string, nav: Nav): string {
  return layout(
    { title: 'Waiting on me', nav: { ...nav, current: 'me' } },
    html`<h1>Waiting on me</h1>
      <p class="message warning" role="status">${reason}</p>`,
  );
}

/** The answer to a form of the page, with the way back to it. */
export function waitingResultPage(action: LinkAction, outcome: ActionOutcome, nav: Nav): string {
  const heading =
    outcome.outcome === 'done' ? 'Done' : outcome.outcome === 'refused' ? 'Not accepted' : 'Already decided';
  const tone = outcome.outcome === 'done' ? 'ok' : outcome.outcome === 'refused' ? 'error' : 'warning';
  return layout(
    { title: heading, nav: { ...nav, current: 'me' } },
    html`<h1>${heading}</h1>
      <p class="message ${tone}" role="${outcome.outcome === 'refused' ? 'alert' : 'status'}">
        ${ACTION_TEXT[action].heading}: ${outcome.message}
      </p>
      ${outcome.by || outcome.at !== undefined ? html`<p>Recorded${outcome.by ? html` for ${outcome.by}` : ''}${outcome.at !== undefined ? html`, ${time(outcome.at)}` : ''}.</p>` : ''}
      ${outcome.outcome === 'refused' ? html`<p>Nothing was changed.</p>` : ''}
      <p><a href="/me">Back to what waits on you</a></p>`,
  );
}

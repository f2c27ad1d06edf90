import { html, safeHref } from '../../domain/mail-html';
import type { WebError } from '../errors';
import { layout } from './layout';

/** The page for every WebError: heading, what happened and what to do, an optional way forward. */
export function errorPage(err: WebError): string {
  return layout(
    { title: err.title },
    html`<h1>${err.title}</h1>
      <p class="message error" role="alert">${err.detail}</p>
      ${err.link ? html`<p><a href="${safeHref(err.link.href)}">${err.link.label}</a></p>` : ''}`,
  );
}

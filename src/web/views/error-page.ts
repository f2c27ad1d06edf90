import { html, safeHref } from '../../domain/mail/html';
import type { WebError } from '../errors';
import { layout, type LayoutOptions } from './layout';

/** The page for every WebError: heading, what happened and what to do, an optional way forward. */
export function errorPage(err: WebError, nav?: LayoutOptions['nav']): string {
  return layout(
    { title: err.title, ...(nav ? { nav } : {}) },
    html`<h1>${err.title}</h1>
      <p class="message error" role="alert">${err.detail}</p>
      ${err.link ? html`<p><a href="${safeHref(err.link.href)}">${err.link.label}</a></p>` : ''}
      ${nav ? html`<p><a href="/">Back to the open runs</a> · <a href="/history">Search past runs</a></p>` : ''}`,
  );
}

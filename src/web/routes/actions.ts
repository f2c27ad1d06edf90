/**
 * `/a/:token`: what a link from a mail opens. GET (and HEAD, which hono answers with the GET
 * handler minus the body) verifies the token, asks the gateway to describe the wait and shows a
 * confirmation form. Mail scanners and link previews fetch links by themselves: nothing here acts
 * on a GET. POST verifies the token and the CSRF pair, then asks the gateway to perform; the
 * gateway makes that an Update keyed by the token id, so a second POST returns the first answer.
 */
import type { Context, Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { verifyLinkToken, type LinkPayload, type LinkTokenFailure } from '../../domain/link-token';
import { CSRF_COOKIE, CSRF_FIELD, csrfFieldFor, csrfValid, ensureCsrfCookie } from '../csrf';
import type { ActionView, PerformRequest, WaitingActionView } from '../deps';
import type { WebEnv } from '../env';
import { WebError } from '../errors';
import type { AppContext } from '../app-context';
import {
  alreadyDecidedPage,
  confirmationPage,
  donePage,
  noLongerWaitingPage,
  refusedPage,
} from '../views/action-pages';

export const MIN_SHA_DIGITS = 12;
export const MAX_COMMENT = 1000;

function linkFailure(reason: LinkTokenFailure): WebError {
  if (reason === 'expired') {
    return new WebError(
      'expired-link',
      'This link has expired',
      'Links in the mails are valid for a limited time. Nothing was changed. If the run still waits for you, ask an operator to send the mail again.',
    );
  }
  return new WebError(
    'invalid-link',
    'This link is not valid',
    'The link may have been cut off or changed on its way. Nothing was changed. Open it again from the mail, copying the whole address; if it still fails, ask an operator.',
  );
}

/** Lowercase hex, spaces and colons removed; undefined when it is not at least 12 hex digits. */
export function normaliseSha256(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const digits = input.replace(/[\s:]/g, '').toLowerCase();
  return new RegExp(`^[0-9a-f]{${MIN_SHA_DIGITS},64}$`).test(digits) ? digits : undefined;
}

// Control characters other than the line feed: they have no business in an audit comment.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0009\u000b-\u001f\u007f]/g;

export function normaliseComment(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const text = input.replace(/\r\n?/g, '\n').replace(CONTROL_CHARACTERS, '').trim();
  return text === '' ? undefined : text;
}

export function actionRoutes(app: Hono<WebEnv>, ctx: AppContext): void {
  const { deps } = ctx;

  const verify = (token: string): { tokenId: string; payload: LinkPayload } => {
    const result = verifyLinkToken(token, deps.keys, ctx.now());
    if (!result.ok) throw linkFailure(result.reason);
    return result;
  };

  /** The form page, with the link-scoped CSRF cookie it needs (a fresh one unless the browser has one). */
  const renderForm = (
    c: Context<WebEnv>,
    token: string,
    tokenId: string,
    payload: LinkPayload,
    view: WaitingActionView,
    problem?: { error: string; values: { sha256?: string; comment?: string } },
  ): Response => {
    const actionPath = `/a/${token}`;
    const cookieValue = ensureCsrfCookie(c, actionPath, ctx.secureCookies);
    const body = confirmationPage({
      actionPath,
      payload,
      view,
      csrf: csrfFieldFor(tokenId, cookieValue, deps.keys),
      now: ctx.now(),
      ...(problem ? { error: problem.error, values: problem.values } : {}),
    });
    return c.html(body, problem ? 422 : 200);
  };

  const renderView = (
    c: Context<WebEnv>,
    token: string,
    tokenId: string,
    payload: LinkPayload,
    view: ActionView,
    problem?: { error: string; values: { sha256?: string; comment?: string } },
  ): Response => {
    switch (view.state) {
      case 'waiting':
        return renderForm(c, token, tokenId, payload, view, problem);
      case 'already-decided':
        return c.html(alreadyDecidedPage(view));
      case 'no-longer-waiting':
        return c.html(noLongerWaitingPage(view));
    }
  };

  app.get('/a/:token', async (c) => {
    const token = c.req.param('token');
    const { tokenId, payload } = verify(token);
    return renderView(c, token, tokenId, payload, await deps.actions.describe(payload, tokenId));
  });

  app.post('/a/:token', async (c) => {
    const token = c.req.param('token');
    const { tokenId, payload } = verify(token);
    const form = await c.req.parseBody();
    if (!csrfValid(tokenId, getCookie(c, CSRF_COOKIE), form[CSRF_FIELD], deps.keys)) {
      throw new WebError(
        'form-expired',
        'Please confirm on the page',
        'This answer did not come from the confirmation page for this link, or that page is out of date. Nothing was changed.',
        { link: { href: `/a/${token}`, label: 'Open the confirmation page again' } },
      );
    }

    const request: PerformRequest = { tokenId };
    const address = ctx.clientAddress(c);
    if (address) request.address = address;
    const rawSha = typeof form.sha256 === 'string' ? form.sha256.slice(0, 200) : '';
    const rawComment = typeof form.comment === 'string' ? form.comment : '';
    const invalid = async (error: string): Promise<Response> =>
      renderView(c, token, tokenId, payload, await deps.actions.describe(payload, tokenId), {
        error,
        values: { sha256: rawSha, comment: rawComment.slice(0, MAX_COMMENT) },
      });

    if (payload.action === 'file-copied') {
      const sha = normaliseSha256(form.sha256);
      if (!sha) {
        return invalid(
          `Type or paste the SHA-256 you computed on the relay: at least ${MIN_SHA_DIGITS} hex digits (0-9, a-f).`,
        );
      }
      request.confirmedSha256 = sha;
    } else {
      const comment = normaliseComment(form.comment);
      if (comment !== undefined && comment.length > MAX_COMMENT) {
        return invalid(`Keep the comment under ${MAX_COMMENT} characters.`);
      }
      if (comment !== undefined) request.comment = comment;
    }

    // The link's own token proves its recipient (issue 14); the run checks it again.
    const outcome = await deps.actions.perform(payload, request, { kind: 'mail-link', credential: token });
    switch (outcome.outcome) {
      case 'done':
        return c.html(donePage(payload.action, outcome));
      case 'already-decided':
        return c.html(
          alreadyDecidedPage({
            by: outcome.by ?? 'someone else',
            at: outcome.at,
            decision: outcome.decision ?? outcome.message,
          }),
        );
      case 'refused':
        return c.html(refusedPage(outcome, `/a/${token}`), 409);
    }
  });
}

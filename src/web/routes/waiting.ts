/**
 * `/me`: every open run that waits for something the signed-in person may do, with the action's
 * form on the page. The forms follow the link pages' rules: a GET changes nothing; a POST must
 * carry the CSRF pair (a cookie scoped to /me and a field bound to this form's run, action and
 * subject). The action is sent with a proof (domain/proof.ts): a link token signed now for this
 * person, this run, action and subject, valid ten minutes, of the kind the sign-in gives
 * (`web-session` for OIDC and proxy, `shared-secret` for the shared secret). The form's random id
 * is the Update id (and the token's id), so a double click gets the first answer.
 */
import type { Context, Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { newLinkTokenId, signLinkToken, type LinkAction, type LinkPayload } from '../../domain/link-token';
import type { AppContext } from '../app-context';
import { CSRF_COOKIE, CSRF_FIELD, csrfFieldFor, csrfValid, ensureCsrfCookie } from '../csrf';
import type { PerformRequest } from '../deps';
import type { WebEnv } from '../env';
import { WebError } from '../errors';
import { noPersonPage, waitingPage, waitingResultPage, type WaitingItem } from '../views/waiting-pages';
import { MAX_COMMENT, MIN_SHA_DIGITS, normaliseComment, normaliseSha256 } from './actions';

/** How long the proof the page signs for an action stays valid. */
export const WEB_PROOF_TTL_MS = 10 * 60_000;
const PATH = '/me';
const ACTIONS: readonly LinkAction[] = ['approve', 'reject', 'file-copied', 'manual-done'];
const FORM_ID = /^[A-Za-z0-9_-]{22,64}$/;

/** What a form's CSRF field is bound to: the form and the run, action and subject it answers. */
function binding(formId: string, payload: Pick<LinkPayload, 'workflowId' | 'action' | 'subject'>): string {
  return `me|${formId}|${payload.workflowId}|${payload.action}|${payload.subject}`;
}

export function waitingRoutes(app: Hono<WebEnv>, ctx: AppContext): void {
  const { deps } = ctx;

  /** The signed-in person (lowercase email) and their proof kind, or why there is no page for them. */
  const personOf = (c: Context<WebEnv>): { person: string; kind: 'web-session' | 'shared-secret' } | string => {
    const kind = deps.auth.proofKind;
    const person = c.get('identity')?.email;
    if (!kind) {
      return 'Nobody signs in to this web app (web.auth.mode none), so it cannot tell who you are: act from the links in the mails (the outbox shows them).';
    }
    if (!person) return 'You signed in without naming yourself. Log out and sign in again with your email.';
    if (!deps.waiting) return 'This web app is not connected to the runs.';
    return { person, kind };
  };

  const csrfCookie = (c: Context<WebEnv>): string => ensureCsrfCookie(c, PATH, ctx.secureCookies);

  const render = async (
    c: Context<WebEnv>,
    person: string,
    error?: { workflowId: string; action: LinkAction; text: string },
  ) => {
    const cookie = csrfCookie(c);
    const now = ctx.now();
    const items: WaitingItem[] = [];
    for (const asked of await deps.waiting!.askedOf(person)) {
      const payload: LinkPayload = { ...asked, recipient: person, expiresAt: now + WEB_PROOF_TTL_MS };
      const view = await deps.actions.describe(payload, newLinkTokenId());
      if (view.state !== 'waiting') continue;
      const actions: LinkAction[] = asked.action === 'approve' ? ['approve', 'reject'] : [asked.action];
      const forms = actions.map((action) => {
        const formId = newLinkTokenId();
        const hidden = { formId, workflowId: payload.workflowId, action, subject: payload.subject };
        return { action, hidden, csrf: csrfFieldFor(binding(formId, { ...payload, action }), cookie, deps.keys) };
      });
      items.push({ payload, view, forms });
    }
    return c.html(waitingPage({ person, items, now, nav: ctx.nav(c), ...(error ? { error } : {}) }), error ? 422 : 200);
  };

  app.get(PATH, async (c) => {
    const who = personOf(c);
    if (typeof who === 'string') return c.html(noPersonPage(who, ctx.nav(c)));
    return render(c, who.person);
  });

  app.post(PATH, async (c) => {
    const who = personOf(c);
    if (typeof who === 'string') throw new WebError('forbidden', 'Not signed in as a person', who);
    const form = await c.req.parseBody();
    const text = (name: string): string => (typeof form[name] === 'string' ? (form[name] as string) : '');
    const formId = text('formId');
    const action = text('action') as LinkAction;
    const payload: LinkPayload = {
      workflowId: text('workflowId'),
      action,
      subject: text('subject'),
      recipient: who.person,
      expiresAt: ctx.now() + WEB_PROOF_TTL_MS,
    };
    if (
      !FORM_ID.test(formId) ||
      !ACTIONS.includes(action) ||
      !csrfValid(binding(formId, payload), getCookie(c, CSRF_COOKIE), form[CSRF_FIELD], deps.keys)
    ) {
      throw new WebError(
        'form-expired',
        'Please answer on the page',
        'This answer did not come from your "waiting on me" page, or that page is out of date. Nothing was changed.',
        { link: { href: PATH, label: 'Open the page again' } },
      );
    }
    // Signed now, in this person's name, with the form's id: the control worker checks it.
    const credential = signLinkToken(payload, deps.keys, formId);
    const request: PerformRequest = { tokenId: formId, channel: 'web' };
    const proof = { kind: who.kind, credential };
    const address = ctx.clientAddress(c);
    if (address) request.address = address;
    if (action === 'file-copied') {
      const sha = normaliseSha256(form.sha256);
      if (!sha) {
        return render(c, who.person, {
          workflowId: payload.workflowId,
          action,
          text: `Type or paste the SHA-256 you computed on the relay: at least ${MIN_SHA_DIGITS} hex digits (0-9, a-f).`,
        });
      }
      request.confirmedSha256 = sha;
    } else {
      const comment = normaliseComment(form.comment);
      if (comment !== undefined && comment.length > MAX_COMMENT) {
        return render(c, who.person, {
          workflowId: payload.workflowId,
          action,
          text: `Keep the comment under ${MAX_COMMENT} characters.`,
        });
      }
      if (comment !== undefined) request.comment = comment;
    }
    const outcome = await deps.actions.perform(payload, request, proof);
    return c.html(waitingResultPage(action, outcome, ctx.nav(c)), outcome.outcome === 'refused' ? 409 : 200);
  });
}

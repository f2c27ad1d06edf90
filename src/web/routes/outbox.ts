/** `/outbox`, `/outbox/:id`, `/outbox/:id/html`: the embedded default's mails, with working links. */
import type { Hono } from 'hono';
import type { OutboxReader } from '../../adapters/outbox';
import type { AppContext } from '../app-context';
import type { WebEnv } from '../env';
import { WebError } from '../errors';
import { outboxEntryPage, outboxHtmlDocument, outboxListPage } from '../views/outbox-pages';

const PAGE_SIZE = 50;

/** The mail's own HTML runs under a policy of its own: its inline styles, nothing else, framed only by us. */
export const MAIL_FRAME_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation";

function idParam(value: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(value)) throw WebError.notFound('This mail');
  return Number(value);
}

export function outboxRoutes(app: Hono<WebEnv>, ctx: AppContext): void {
  const outbox = (): OutboxReader => {
    if (!ctx.deps.outbox) {
      throw new WebError(
        'not-found',
        'No outbox',
        'Mail goes to the mail server in this setup, so there is no outbox to show.',
      );
    }
    return ctx.deps.outbox;
  };

  app.get('/outbox', async (c) => {
    const before = c.req.query('before');
    const beforeId = before ? idParam(before) : undefined;
    const entries = await outbox().list({ limit: PAGE_SIZE, beforeId });
    const last = entries[entries.length - 1];
    const olderUrl = entries.length === PAGE_SIZE && last ? `/outbox?before=${last.id}` : undefined;
    return c.html(outboxListPage(entries, ctx.nav(c), olderUrl));
  });

  app.get('/outbox/:id', async (c) => {
    const entry = await outbox().get(idParam(c.req.param('id')));
    if (!entry) throw WebError.notFound('This mail');
    return c.html(outboxEntryPage(entry, ctx.nav(c)));
  });

  app.get('/outbox/:id/html', async (c) => {
    const entry = await outbox().get(idParam(c.req.param('id')));
    if (!entry) throw WebError.notFound('This mail');
    c.header('Content-Security-Policy', MAIL_FRAME_CSP);
    c.header('X-Frame-Options', 'SAMEORIGIN');
    return c.html(outboxHtmlDocument(entry));
  });
}

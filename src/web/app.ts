/**
 * The approval and dashboard HTTP app, as a value: `createApp(deps)` returns a hono app and never
 * listens (src/web/serve.ts does). Every response carries the security headers; every POST must
 * come from this site; every page but the mail links, the login and the static files needs the
 * viewer to be identified by the configured Authenticator; every error becomes a page in one place
 * (`app.onError`).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { MIN_LINK_KEY_BYTES } from '../domain/link-token';
import type { AppContext } from './app-context';
import { safeNext, type AuthRuntime } from './auth';
import type { WebDeps } from './deps';
import type { WebEnv } from './env';
import { WebError } from './errors';
import { actionRoutes } from './routes/actions';
import { dashboardRoutes } from './routes/dashboard';
import { outboxRoutes } from './routes/outbox';
import { waitingRoutes } from './routes/waiting';
import { insightRoutes } from './routes/insight';
import { errorPage } from './views/error-page';
import { STYLESHEET, STYLESHEET_PATH } from './views/layout';

/** No inline script or style anywhere; forms post only here; nobody frames these pages. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const MAX_FORM_BYTES = 16 * 1024;

/** Paths anyone may request: mail links carry their own credential; login must be reachable. */
const OPEN_PATHS = [/^\/a\/[^/]*$/, /^\/static\//, /^\/login$/, /^\/logout$/, /^\/healthz$/, /^\/favicon\.ico$/];

function securityHeaders(): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    // Tokens are in the path: no page may leak its URL to another site.
    h.set('Referrer-Policy', 'no-referrer');
    h.set('X-Content-Type-Options', 'nosniff');
    if (!h.has('Content-Security-Policy')) h.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    if (!h.has('X-Frame-Options')) h.set('X-Frame-Options', 'DENY');
    if (!h.has('Cache-Control')) h.set('Cache-Control', 'no-store');
    h.set('Cross-Origin-Opener-Policy', 'same-origin');
    h.set('Cross-Origin-Resource-Policy', 'same-origin');
    h.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  };
}

/** localhost and the loopback addresses: only a browser on this machine sends these. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** "name" or "name:port" as the Host header and allowedHosts write it; undefined when malformed. */
function splitHost(value: string): { name: string; port?: string } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+?)\.?(?::(\d{1,5}))?$/.exec(value.trim().toLowerCase());
  if (!m) return undefined;
  return m[2] === undefined ? { name: m[1]! } : { name: m[1]!, port: m[2] };
}

/**
 * Which Host values the app answers to: the loopback names, publicUrl's host (its port, or the
 * scheme's default), and each allowed host ("name" for any port, "name:port" for that one).
 */
export function hostMatcher(options: {
  publicUrl?: string;
  allowedHosts?: readonly string[];
}): (host: string) => boolean {
  const entries: Array<{ name: string; port?: string }> = LOOPBACK_NAMES.map((name) => ({ name }));
  if (options.publicUrl) {
    const url = new URL(options.publicUrl);
    entries.push({ name: url.hostname.toLowerCase(), port: url.port || (url.protocol === 'https:' ? '443' : '80') });
  }
  for (const allowed of options.allowedHosts ?? []) {
    const entry = splitHost(allowed);
    if (!entry) throw new WebConfigError(`allowedHosts: "${allowed}" is not a host name or name:port`);
    entries.push(entry);
  }
  return (host) => {
    const given = splitHost(host);
    if (!given) return false;
    // No port in the Host header: the scheme's default, 80 or 443 (behind a TLS proxy).
    const portMatches = (e: { port?: string }) =>
      e.port === undefined || (given.port === undefined ? e.port === '80' || e.port === '443' : e.port === given.port);
    return entries.some((e) => e.name === given.name && portMatches(e));
  };
}

/**
 * Only configured names are served. The browser's same-origin rules protect nothing when an
 * attacker's name resolves to this server (DNS rebinding): its pages would then read the outbox
 * and post forms as "same origin". So the Host header must be one of ours, before anything else.
 */
function configuredHostsOnly(allowed: (host: string) => boolean): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    // Node's server refuses HTTP/1.1 requests without Host; in-process requests carry it in the URL.
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    if (!allowed(host)) {
      throw new WebError(
        'misdirected',
        'Unknown address',
        `This server does not answer to the name "${host.slice(0, 100)}". ` +
          'Open it by its configured address; an operator can add a name to web.allowedHosts. Nothing was read or changed.',
      );
    }
    await next();
  };
}

/**
 * A POST must come from a page of this site. Browsers say where a request comes from in
 * Sec-Fetch-Site and Origin; with `Referrer-Policy: no-referrer` our own forms send `Origin: null`,
 * so null is allowed here and the per-form CSRF check does the rest. An Origin is compared with
 * the configured names, never with the request's own Host (which the sender chooses).
 */
function sameSitePosts(allowed: (host: string) => boolean): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    if (c.req.method === 'POST') {
      const fetchSite = c.req.header('sec-fetch-site');
      const origin = c.req.header('origin');
      let foreignOrigin = false;
      if (origin !== undefined && origin !== 'null') {
        try {
          const url = new URL(origin);
          foreignOrigin = !/^https?:$/.test(url.protocol) || !allowed(url.host);
        } catch {
          foreignOrigin = true;
        }
      }
      if (fetchSite === 'cross-site' || foreignOrigin) {
        throw new WebError('forbidden', 'Refused', 'This form was sent from another site. Nothing was changed.');
      }
    }
    await next();
  };
}

/** Thrown by createApp when a dependency cannot work; names the option (never a secret's value). */
export class WebConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebConfigError';
  }
}

export function createApp(deps: WebDeps): Hono<WebEnv> {
  if (!(deps.keys?.current instanceof Uint8Array) || deps.keys.current.length < MIN_LINK_KEY_BYTES) {
    throw new WebConfigError(`createApp: keys.current must be a link key of at least ${MIN_LINK_KEY_BYTES} bytes`);
  }
  if (deps.publicUrl !== undefined && !/^https?:\/\//.test(deps.publicUrl)) {
    throw new WebConfigError(`createApp: publicUrl must be an http(s) URL, not "${deps.publicUrl}"`);
  }
  const now = deps.now ?? Date.now;
  const publicOrigin = deps.publicUrl ? new URL(deps.publicUrl).origin : undefined;
  const allowedHost = hostMatcher({
    ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
    ...(deps.allowedHosts ? { allowedHosts: deps.allowedHosts } : {}),
  });
  const secureCookies = deps.secureCookies ?? publicOrigin?.startsWith('https:') ?? false;
  const log = deps.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const clientAddress = (c: Context<WebEnv>): string | undefined => c.env?.incoming?.socket?.remoteAddress;
  const runtime: AuthRuntime = { now, secureCookies, clientAddress };
  const ctx: AppContext = {
    deps,
    now,
    secureCookies,
    clientAddress,
    nav: (c) => ({
      outbox: deps.outbox !== undefined,
      schedules: deps.schedules !== undefined,
      identity: c.get('identity')?.name,
      canLogOut: deps.auth.required,
      me: c.get('identity')?.email !== undefined,
    }),
  };

  const app = new Hono<WebEnv>();

  const errorResponse = (c: Context<WebEnv>, err: unknown): Response => {
    let webError: WebError;
    if (err instanceof WebError) {
      webError = err;
    } else {
      log(
        `web: ${c.req.method} ${c.req.path.replace(/^\/a\/.*/, '/a/…')} failed: ${(err as Error)?.stack ?? String(err)}`,
      );
      webError = new WebError(
        'internal',
        'Something went wrong',
        'An unexpected error happened and was logged for the operators. If you were confirming something, open the link again to see whether it was recorded.',
        { cause: err },
      );
    }
    // Operators' pages keep their navigation on an error (an unknown run id is no dead end); a
    // mail link's reader may not be an operator, and a viewer not logged in sees none.
    const operator = !c.req.path.startsWith('/a/') && (c.get('identity') !== undefined || !deps.auth.required);
    return c.html(errorPage(webError, operator ? ctx.nav(c) : undefined), webError.status as 400);
  };

  app.use('*', securityHeaders());
  app.use('*', configuredHostsOnly(allowedHost));
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: () => {
        throw new WebError('too-large', 'Too large', 'The form sent more data than any page here asks for.');
      },
    }),
  );
  app.use('*', sameSitePosts(allowedHost));
  app.use('*', async (c, next) => {
    if (OPEN_PATHS.some((p) => p.test(c.req.path)) || deps.auth.openPaths?.includes(c.req.path)) return next();
    const identity = await deps.auth.identify(c, runtime);
    if (!identity) {
      if (c.req.method === 'GET' || c.req.method === 'HEAD') {
        const url = new URL(c.req.url);
        return c.redirect(deps.auth.loginUrl(safeNext(`${url.pathname}${url.search}`)), 303);
      }
      throw new WebError('login-required', 'Log in first', 'This needs an operator login.', {
        link: { href: '/login', label: 'Log in' },
      });
    }
    c.set('identity', identity);
    return next();
  });

  app.get(STYLESHEET_PATH, (c) => {
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(STYLESHEET, 200, { 'Content-Type': 'text/css; charset=utf-8' });
  });
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/healthz', (c) => c.text('ok'));

  actionRoutes(app, ctx);
  deps.auth.routes(app, runtime);
  dashboardRoutes(app, ctx);
  waitingRoutes(app, ctx);
  insightRoutes(app, ctx);
  outboxRoutes(app, ctx);

  app.notFound((c) => errorResponse(c, WebError.notFound('This page')));
  app.onError((err, c) => errorResponse(c, err));
  return app;
}

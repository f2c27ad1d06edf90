/**
 * Who may see the dashboard. The app asks an `Authenticator` who sends a request and lets it mount
 * its own routes, so an identity provider (OIDC: redirect on /login, a callback route, the same
 * session cookie) is one more implementation, not a change to the app. Links from mails never go
 * through here: the signed token is their credential.
 *
 * Sessions are HMAC-signed cookies (HttpOnly, SameSite=Strict); the key is derived from the shared
 * secret, so changing the secret logs everybody out.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppConfig } from '../domain/config';
import type { Identity, WebEnv } from './env';
import { MIN_SHARED_SECRET_LENGTH, WebAuthConfigError } from './auth-errors';
import { WebError } from './errors';

export { MIN_SHARED_SECRET_LENGTH, WebAuthConfigError } from './auth-errors';
import { loginPage } from './views/login-page';

export type { Identity };

/** What the app gives an authenticator: its clock and whether cookies must be Secure. */
export interface AuthRuntime {
  now(): number;
  secureCookies: boolean;
  clientAddress(c: Context<WebEnv>): string | undefined;
}

export interface Authenticator {
  readonly mode: string;
  /** false: the dashboard is open to whoever reaches it (mode none). */
  readonly required: boolean;
  /** Who sends this request, or undefined when they must log in. */
  identify(c: Context<WebEnv>, runtime: AuthRuntime): Promise<Identity | undefined>;
  /** Where to send a browser that must log in; `next` is a checked local path. */
  loginUrl(next: string): string;
  /** Mounts /login, /logout and any callback the method needs. */
  routes(app: Hono<WebEnv>, runtime: AuthRuntime): void;
}

export const SESSION_COOKIE = 'airgap_session';

/**
 * A local path to go back to after login, or "/". Refuses absolute URLs, scheme-relative `//x`,
 * backslash tricks and control characters: no open redirect through ?next=.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > 1000) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(next)) return '/';
  if (next.startsWith('/login') || next.startsWith('/logout')) return '/';
  return next;
}

/** No login: every dashboard page is open. For a loopback-only web app (the embedded default). */
export function noAuth(): Authenticator {
  const local: Identity = { id: 'local', name: 'local operator', method: 'none' };
  return {
    mode: 'none',
    required: false,
    identify: async () => local,
    loginUrl: () => '/',
    routes(app) {
      app.get('/login', (c) => c.redirect(safeNext(c.req.query('next')), 303));
    },
  };
}

interface SessionBody {
  sub: string;
  name: string;
  m: string;
  exp: number;
}

function sessionSign(body: SessionBody, key: Buffer): string {
  const text = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
  return `${text}.${createHmac('sha256', key).update(text).digest('base64url')}`;
}

function sessionVerify(cookie: string | undefined, key: Buffer, now: number): SessionBody | undefined {
  if (!cookie || cookie.length > 1024) return undefined;
  const [text, sig, ...rest] = cookie.split('.');
  if (!text || !sig || rest.length > 0) return undefined;
  const expected = createHmac('sha256', key).update(text).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const body = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as SessionBody;
    if (typeof body.exp !== 'number' || body.exp <= now || typeof body.sub !== 'string') return undefined;
    return body;
  } catch {
    return undefined;
  }
}

export interface SharedSecretAuthOptions {
  secret: string;
  /** How long a login lasts; 12 hours by default. */
  sessionTtlMs?: number;
  /** Failed logins allowed per client address per minute before it must wait; 10 by default. */
  maxFailuresPerMinute?: number;
}

/** One secret for all operators, typed on /login, compared in constant time. */
export function sharedSecretAuth(options: SharedSecretAuthOptions): Authenticator {
  if (options.secret.length < MIN_SHARED_SECRET_LENGTH) {
    throw new WebAuthConfigError(
      `the shared secret is ${options.secret.length} characters long; it needs at least ${MIN_SHARED_SECRET_LENGTH}`,
    );
  }
  const ttl = options.sessionTtlMs ?? 12 * 3_600_000;
  const maxFailures = options.maxFailuresPerMinute ?? 10;
  const sessionKey = createHmac('sha256', options.secret).update('airgap-session-key-v1').digest();
  const secretHash = createHash('sha256').update(options.secret, 'utf8').digest();
  const failures = new Map<string, number[]>();

  const throttled = (address: string, now: number): boolean => {
    const recent = (failures.get(address) ?? []).filter((t) => now - t < 60_000);
    failures.set(address, recent);
    return recent.length >= maxFailures;
  };

  return {
    mode: 'shared-secret',
    required: true,
    async identify(c, runtime) {
      const body = sessionVerify(getCookie(c, SESSION_COOKIE), sessionKey, runtime.now());
      return body ? { id: body.sub, name: body.name, method: body.m } : undefined;
    },
    loginUrl: (next) => `/login?next=${encodeURIComponent(next)}`,
    routes(app, runtime) {
      app.get('/login', (c) => c.html(loginPage(safeNext(c.req.query('next')))));

      app.post('/login', async (c) => {
        const now = runtime.now();
        const address = runtime.clientAddress(c) ?? 'unknown';
        if (throttled(address, now)) {
          throw new WebError('login-throttled', 'Too many attempts', 'Wait a minute before trying again.');
        }
        const form = await c.req.parseBody();
        const next = safeNext(form.next);
        const given = typeof form.secret === 'string' ? form.secret : '';
        const givenHash = createHash('sha256').update(given, 'utf8').digest();
        if (!timingSafeEqual(givenHash, secretHash)) {
          failures.get(address)!.push(now);
          return c.html(loginPage(next, 'That secret is not right.'), 401);
        }
        failures.delete(address);
        const session = sessionSign(
          { sub: 'operator', name: 'operator', m: 'shared-secret', exp: now + ttl },
          sessionKey,
        );
        setCookie(c, SESSION_COOKIE, session, {
          httpOnly: true,
          sameSite: 'Strict',
          secure: runtime.secureCookies,
          path: '/',
          maxAge: Math.floor(ttl / 1000),
        });
        return c.redirect(next, 303);
      });

      app.post('/logout', (c) => {
        deleteCookie(c, SESSION_COOKIE, { path: '/', secure: runtime.secureCookies, sameSite: 'Strict' });
        return c.redirect('/login', 303);
      });
    },
  };
}

/**
 * The authenticator config `web.auth` asks for, with its shared secret already resolved at start
 * (runtime/secrets.ts: webSecretFromEnv).
 */
export function authenticatorFromConfig(auth: AppConfig['web']['auth'], secret: string | undefined): Authenticator {
  if (auth.mode === 'none') return noAuth();
  if (secret === undefined) throw new WebAuthConfigError(`web.auth.secretEnv names ${auth.secretEnv}, but it is unset`);
  return sharedSecretAuth({ secret });
}

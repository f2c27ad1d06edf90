/**
 * Who may see the dashboard. The app asks an `Authenticator` who sends a request and lets it mount
 * its own routes, so an identity provider (OIDC: redirect on /login, a callback route, the same
 * session cookie) is one more implementation, not a change to the app. Links from mails never go
 * through here: the signed token is their credential.
 *
 * Sessions are HMAC-signed cookies (HttpOnly, SameSite=Strict); the key is derived from the shared
 * secret, so changing the secret logs everybody out.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { AppConfig } from '../domain/config';
import type { ProofKind } from '../domain/proof';
import type { Identity, WebEnv } from './env';
import { MIN_SHARED_SECRET_LENGTH, WebAuthConfigError } from './auth-errors';
import { WebError } from './errors';
import { oidcAuth } from './oidc-auth';
import { configuredPerson } from './people';
import { proxyAuth } from './proxy-auth';
import { safeNext } from './safe-next';
import { clearSession, sessionIdentity, sessionKey, sessionSign, setSession } from './session';

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
  /**
   * The proof kind the actions of a signed-in person carry (domain/proof.ts): `web-session` when
   * an identity provider or the proxy proved who they are, `shared-secret` when only the shared
   * secret did; absent when nobody signs in (mode none: the mail links are the proof there).
   */
  readonly proofKind?: Extract<ProofKind, 'web-session' | 'shared-secret'>;
  /** Paths of its own that must be reachable without a session (an identity provider's callback). */
  readonly openPaths?: readonly string[];
}

export { SESSION_COOKIE } from './session';
export { safeNext } from './safe-next';

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

export interface SharedSecretAuthOptions {
  secret: string;
  /** How long a login lasts; 12 hours by default. */
  sessionTtlMs?: number;
  /** Failed logins allowed per client address per minute before it must wait; 10 by default. */
  maxFailuresPerMinute?: number;
  /**
   * The configured people: a login may name one of them (its actions then carry the proof kind
   * `shared-secret` in their name); a login naming anybody else is refused. Empty: no names.
   */
  people?: readonly string[];
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
  const key = sessionKey(options.secret, 'airgap-session-key-v1');
  const people = options.people ?? [];
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
    proofKind: 'shared-secret',
    identify: async (c, runtime) => sessionIdentity(c, key, runtime.now()),
    loginUrl: (next) => `/login?next=${encodeURIComponent(next)}`,
    routes(app, runtime) {
      app.get('/login', (c) => c.html(loginPage(safeNext(c.req.query('next')), undefined, people.length > 0)));

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
        const askNames = people.length > 0;
        if (!timingSafeEqual(givenHash, secretHash)) {
          failures.get(address)!.push(now);
          return c.html(loginPage(next, 'That secret is not right.', askNames), 401);
        }
        const named = typeof form.email === 'string' && form.email.trim() !== '' ? form.email : undefined;
        const email = named === undefined ? undefined : configuredPerson(people, named);
        if (named !== undefined && email === undefined) {
          return c.html(loginPage(next, 'That email is not one of the people in the configuration.', askNames), 403);
        }
        failures.delete(address);
        const body = email
          ? { sub: email, name: email, m: 'shared-secret', exp: now + ttl, e: email }
          : { sub: 'operator', name: 'operator', m: 'shared-secret', exp: now + ttl };
        setSession(c, sessionSign(body, key), ttl, runtime.secureCookies);
        return c.redirect(next, 303);
      });

      app.post('/logout', (c) => {
        clearSession(c, runtime.secureCookies);
        return c.redirect('/login', 303);
      });
    },
  };
}

/**
 * The authenticator config `web.auth` asks for, with its secret (shared secret or OIDC client
 * secret) already resolved at start (runtime/secrets.ts: webSecretFromEnv). `people` are the
 * configured operators and approvers: the only people an OIDC or proxy login is accepted for.
 */
export function authenticatorFromConfig(
  auth: AppConfig['web']['auth'],
  secret: string | undefined,
  options: { people?: readonly string[]; publicUrl?: string } = {},
): Authenticator {
  const people = options.people ?? [];
  switch (auth.mode) {
    case 'none':
      return noAuth();
    case 'proxy':
      return proxyAuth({ header: auth.header, proxies: auth.proxies, people });
    case 'oidc': {
      if (secret === undefined) {
        throw new WebAuthConfigError(`web.auth.clientSecretEnv names ${auth.clientSecretEnv}, but it is unset`);
      }
      const redirectUrl =
        auth.redirectUrl ?? (options.publicUrl && `${options.publicUrl.replace(/\/+$/, '')}/login/callback`);
      if (!redirectUrl) throw new WebAuthConfigError('web.auth.redirectUrl is needed when web.publicUrl is not set');
      return oidcAuth({
        issuer: auth.issuer,
        clientId: auth.clientId,
        clientSecret: secret,
        redirectUrl,
        emailClaim: auth.emailClaim,
        people,
      });
    }
    case 'shared-secret':
      if (secret === undefined) {
        throw new WebAuthConfigError(`web.auth.secretEnv names ${auth.secretEnv}, but it is unset`);
      }
      return sharedSecretAuth({ secret, people });
  }
}

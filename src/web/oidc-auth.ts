/**
 * `web.auth.mode: oidc`: sign-in at the site's identity provider with the authorization code flow
 * and PKCE (openid-client). /login sends the browser to the provider with a fresh verifier, state
 * and nonce kept in a short-lived signed cookie; the callback exchanges the code, reads the email
 * claim and accepts only a configured person. The session is then the same signed cookie as the
 * shared-secret login's.
 *
 * The provider's redirect back is a cross-site navigation: a SameSite=Strict cookie set on it is
 * not sent on a redirect that continues it, so the callback answers with a page that moves on by
 * itself (meta refresh, a same-site navigation) instead of a 303.
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type * as OpenIdClientModule from 'openid-client' with { 'resolution-mode': 'import' };
import type { Authenticator } from './auth';
import { WebAuthConfigError } from './auth-errors';
import type { WebEnv } from './env';
import { WebError } from './errors';
import { configuredPerson } from './people';
import { safeNext } from './safe-next';
import { clearSession, sessionIdentity, sessionKey, sessionSign, sessionVerify, setSession } from './session';
import { signedInPage } from './views/signed-in-page';

type OpenIdClient = typeof OpenIdClientModule;
type OidcConfiguration = Awaited<ReturnType<OpenIdClient['discovery']>>;

export interface OidcAuthOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Registered at the provider; its path is the callback route. */
  redirectUrl: string;
  /** The claim with the person's email; "email" by default. */
  emailClaim?: string;
  people: readonly string[];
  sessionTtlMs?: number;
}

const PENDING_COOKIE = 'airgap_oidc';
const PENDING_TTL_MS = 10 * 60_000;

/** http is for an identity provider on this machine only (tests, a local provider). */
function insecureAllowed(issuer: URL): boolean {
  return issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
}

export function oidcAuth(options: OidcAuthOptions): Authenticator {
  const issuer = new URL(options.issuer);
  if (issuer.protocol !== 'https:' && !insecureAllowed(issuer)) {
    throw new WebAuthConfigError(`web.auth.issuer must be https (http only on loopback), not ${options.issuer}`);
  }
  const callbackPath = new URL(options.redirectUrl).pathname;
  const ttl = options.sessionTtlMs ?? 12 * 3_600_000;
  const key = sessionKey(options.clientSecret, 'airgap-oidc-session-key-v1');
  // Its own key: a pending login's cookie copied into the session cookie must not open a session.
  const pendingKey = sessionKey(options.clientSecret, 'airgap-oidc-pending-key-v1');
  const emailClaim = options.emailClaim ?? 'email';
  let discovered: Promise<{ lib: OpenIdClient; config: OidcConfiguration }> | undefined;

  // Asked at the first login, not at start: the web app serves its links while the provider is down.
  const provider = (): Promise<{ lib: OpenIdClient; config: OidcConfiguration }> => {
    discovered ??= (async () => {
      const lib = await import('openid-client');
      const config = await lib.discovery(
        issuer,
        options.clientId,
        undefined,
        lib.ClientSecretBasic(options.clientSecret),
        { execute: insecureAllowed(issuer) ? [lib.allowInsecureRequests] : [], timeout: 10 },
      );
      return { lib, config };
    })().catch((err: unknown) => {
      discovered = undefined;
      throw WebError.unavailable(
        `The identity provider at ${options.issuer} did not answer (${(err as Error).message}). Try again in a moment.`,
        err,
      );
    });
    return discovered;
  };

  const refuse = (detail: string): WebError =>
    new WebError('forbidden', 'Sign-in refused', `${detail} Nothing was read or changed.`, {
      link: { href: '/login', label: 'Sign in again' },
    });

  return {
    mode: 'oidc',
    required: true,
    proofKind: 'web-session',
    openPaths: [callbackPath],
    identify: async (c, runtime) => sessionIdentity(c, key, runtime.now()),
    loginUrl: (next) => `/login?next=${encodeURIComponent(next)}`,
    routes(app, runtime) {
      app.get('/login', async (c) => {
        const { lib, config } = await provider();
        const verifier = lib.randomPKCECodeVerifier();
        const state = lib.randomState();
        const nonce = lib.randomNonce();
        const pending = {
          sub: 'pending',
          name: JSON.stringify({ v: verifier, s: state, n: nonce, next: safeNext(c.req.query('next')) }),
          m: 'oidc-pending',
          exp: runtime.now() + PENDING_TTL_MS,
        };
        // Lax: the provider's redirect back is a cross-site top-level GET, which Lax cookies survive.
        setCookie(c, PENDING_COOKIE, sessionSign(pending, pendingKey), {
          httpOnly: true,
          sameSite: 'Lax',
          secure: runtime.secureCookies,
          path: callbackPath,
          maxAge: PENDING_TTL_MS / 1000,
        });
        const url = lib.buildAuthorizationUrl(config, {
          redirect_uri: options.redirectUrl,
          scope: 'openid email profile',
          code_challenge: await lib.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        });
        return c.redirect(url.href, 303);
      });

      app.get(callbackPath, async (c) => {
        const pendingBody = sessionVerify(getCookie(c, PENDING_COOKIE), pendingKey, runtime.now());
        deleteCookie(c, PENDING_COOKIE, { path: callbackPath, secure: runtime.secureCookies, sameSite: 'Lax' });
        if (!pendingBody || pendingBody.m !== 'oidc-pending') {
          throw refuse('This sign-in was not started here, or took longer than ten minutes.');
        }
        const pending = JSON.parse(pendingBody.name) as { v: string; s: string; n: string; next: string };
        const email = await signedInEmail(c, pending);
        const body = { sub: email, name: email, m: 'oidc', exp: runtime.now() + ttl, e: email };
        setSession(c, sessionSign(body, key), ttl, runtime.secureCookies);
        return c.html(signedInPage(email, pending.next));
      });

      app.post('/logout', (c) => {
        clearSession(c, runtime.secureCookies);
        return c.redirect('/', 303);
      });
    },
  };

  /** The configured person the provider vouches for in this callback, or a refusal. */
  async function signedInEmail(c: Context<WebEnv>, pending: { v: string; s: string; n: string }): Promise<string> {
    const { lib, config } = await provider();
    // The URL the provider redirected to: the registered one with this request's query.
    const current = new URL(options.redirectUrl);
    current.search = new URL(c.req.url).search;
    let claims: Record<string, unknown>;
    try {
      const tokens = await lib.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.v,
        expectedState: pending.s,
        expectedNonce: pending.n,
        idTokenExpected: true,
      });
      claims = { ...tokens.claims() };
      // Providers that conform to the spec put scope claims in userinfo, not the ID token.
      if (claims[emailClaim] === undefined) {
        claims = { ...claims, ...(await lib.fetchUserInfo(config, tokens.access_token, String(claims.sub))) };
      }
    } catch (err) {
      if (err instanceof WebError) throw err;
      throw refuse(`The identity provider's answer could not be verified (${(err as Error).message}).`);
    }
    const named = claims[emailClaim];
    if (claims.email_verified === false)
      throw refuse(`The identity provider has not verified the email ${String(named)}.`);
    const email = configuredPerson(options.people, named);
    if (!email) {
      throw refuse(
        typeof named === 'string'
          ? `The identity provider signed you in as ${named.slice(0, 200)}, who is not one of this site's operators or approvers. Ask an operator to add you to the configuration.`
          : `The identity provider gave no "${emailClaim}" claim, so this site cannot tell which of its people you are.`,
      );
    }
    return email;
  }
}

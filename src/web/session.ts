/**
 * The signed-in session as an HMAC-signed cookie (HttpOnly, SameSite=Strict), shared by the
 * shared-secret and OIDC logins: the key is derived from that login's secret, so changing it logs
 * everybody out. The body says who (and, for a person, their email) and how they signed in.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Identity, WebEnv } from './env';

export const SESSION_COOKIE = 'airgap_session';

export interface SessionBody {
  sub: string;
  name: string;
  /** How they signed in (Identity.method). */
  m: string;
  exp: number;
  /** The person's email, when the login named one of the configured people. */
  e?: string;
}

/** A session key for one login method, derived from its secret. */
export function sessionKey(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(purpose).digest();
}

export function sessionSign(body: SessionBody, key: Buffer): string {
  const text = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
  return `${text}.${createHmac('sha256', key).update(text).digest('base64url')}`;
}

export function sessionVerify(cookie: string | undefined, key: Buffer, now: number): SessionBody | undefined {
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

/** The identity a session cookie names, or undefined. */
export function sessionIdentity(c: Context<WebEnv>, key: Buffer, now: number): Identity | undefined {
  const body = sessionVerify(getCookie(c, SESSION_COOKIE), key, now);
  if (!body) return undefined;
  return { id: body.sub, name: body.name, method: body.m, ...(typeof body.e === 'string' ? { email: body.e } : {}) };
}

export function setSession(c: Context<WebEnv>, value: string, ttlMs: number, secure: boolean): void {
  setCookie(c, SESSION_COOKIE, value, {
    httpOnly: true,
    sameSite: 'Strict',
    secure,
    path: '/',
    maxAge: Math.floor(ttlMs / 1000),
  });
}

export function clearSession(c: Context<WebEnv>, secure: boolean): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure, sameSite: 'Strict' });
}

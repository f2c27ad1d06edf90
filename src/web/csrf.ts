/**
 * Proof that an action form was posted from the page this app rendered for that link, not by a
 * crawler or another site. Two parts must agree: a random value in a cookie scoped to the link's
 * path (HttpOnly, SameSite=Strict, so another site's form cannot send it) and a form field that is
 * an HMAC of the token id and that value, under a key derived from the link key. Either link key
 * (current or previous) is accepted, like the tokens themselves.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { LinkKeys } from '../domain/link-token';

export const CSRF_COOKIE = 'airgap_csrf';
export const CSRF_FIELD = 'csrf';

function csrfKey(linkKey: Uint8Array): Buffer {
  return createHmac('sha256', linkKey).update('airgap-csrf-key-v1').digest();
}

function mac(key: Uint8Array, tokenId: string, cookieValue: string): Buffer {
  return createHmac('sha256', csrfKey(key)).update(`${tokenId}.${cookieValue}`).digest();
}

/** A fresh cookie value: 128 random bits. */
export function newCsrfCookieValue(): string {
  return randomBytes(16).toString('base64url');
}

export function isCsrfCookieValue(value: string | undefined): value is string {
  return value !== undefined && /^[A-Za-z0-9_-]{22}$/.test(value);
}

/**
 * The browser's CSRF cookie value for the pages under `path`: the one it sent when well formed,
 * else a new one. Either way the cookie is (re)set, so it lasts a day from the last page view.
 */
export function ensureCsrfCookie(c: Context, path: string, secure: boolean): string {
  const existing = getCookie(c, CSRF_COOKIE);
  const value = isCsrfCookieValue(existing) ? existing : newCsrfCookieValue();
  setCookie(c, CSRF_COOKIE, value, { path, httpOnly: true, sameSite: 'Strict', secure, maxAge: 86_400 });
  return value;
}

/** The form field for one link and one browser's cookie value. */
export function csrfFieldFor(tokenId: string, cookieValue: string, keys: LinkKeys): string {
  return mac(keys.current, tokenId, cookieValue).toString('base64url');
}

/** Whether a posted field matches the cookie for this token id, compared in constant time. */
export function csrfValid(tokenId: string, cookieValue: string | undefined, field: unknown, keys: LinkKeys): boolean {
  if (!isCsrfCookieValue(cookieValue) || typeof field !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(field)) return false;
  const given = Buffer.from(field, 'base64url');
  return [keys.current, keys.previous].some(
    (key) => key !== undefined && timingSafeEqual(mac(key, tokenId, cookieValue), given),
  );
}

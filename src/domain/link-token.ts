/**
 * Signed links for the mails: "approve", "reject", "file copied", "manual step done". A link is
 * a bearer credential for one action by one recipient on one run, so its token binds all of that
 * (workflow id, action, subject, recipient, expiry) and carries a random id the web app passes to
 * Temporal as the Update id: a second click on the same link gets the first answer.
 *
 * Token text: `<body>.<signature>`, both base64url (A–Z a–z 0–9 - _), so a token is one URL path
 * segment. `body` is the JSON of the payload and the id; `signature` is HMAC-SHA256 over a
 * versioned prefix and the body. Keys come from the environment (config `links.keyEnv`,
 * `links.previousKeyEnv`); during a rotation tokens signed with the previous key still verify.
 *
 * Pure: no I/O, no clock (`now` is a parameter); node:crypto only.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a link lets its recipient do. Add new actions at the end; old tokens keep verifying. */
export const LINK_ACTIONS = ['approve', 'reject', 'file-copied', 'manual-done', 'stage-confirm'] as const;
export type LinkAction = (typeof LINK_ACTIONS)[number];

export interface LinkPayload {
  workflowId: string;
  action: LinkAction;
  /** What the action is about: the bundle's SHA-256 for approvals and transfers, the stage or step id otherwise. */
  subject: string;
  /** The one person the link was sent to; the action is recorded in their name. */
  recipient: string;
  /** Milliseconds since the epoch after which the link is refused. */
  expiresAt: number;
}

/** Key bytes: the current key signs and verifies; the previous one only verifies (rotation). */
export interface LinkKeys {
  current: Uint8Array;
  previous?: Uint8Array | undefined;
}

export type LinkTokenFailure = 'malformed' | 'tampered' | 'expired';

export type LinkVerification =
  | { ok: true; tokenId: string; payload: LinkPayload; signedWith: 'current' | 'previous' }
  | { ok: false; reason: LinkTokenFailure };

/** Shortest key accepted: 32 bytes, the HMAC-SHA256 block-size guidance for a full-strength key. */
export const MIN_LINK_KEY_BYTES = 32;
/** Longest token text considered at all; anything longer is malformed without further work. */
export const MAX_LINK_TOKEN_LENGTH = 2048;

const SIGNATURE_PREFIX = 'airgap-link-v1.';
const SIGNATURE_BYTES = 32;
const B64URL = /^[A-Za-z0-9_-]+$/;
const TOKEN_ID = /^[A-Za-z0-9_-]{22,64}$/;
const MAX_FIELD = 320;

/** Thrown when a key is missing or too short to sign links; names the environment variable when known. */
export class LinkKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkKeyError';
  }
}

/** Thrown by signLinkToken when a payload could not be verified later (bad field); names the field and value. */
export class InvalidLinkPayloadError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    expectation: string,
  ) {
    super(`link payload field "${field}" is ${JSON.stringify(value)}: expected ${expectation}`);
    this.name = 'InvalidLinkPayloadError';
  }
}

function checkKey(key: Uint8Array, which: string): void {
  if (key.length < MIN_LINK_KEY_BYTES) {
    throw new LinkKeyError(
      `the ${which} link key is ${key.length} bytes long; it needs at least ${MIN_LINK_KEY_BYTES}`,
    );
  }
}

function sign(body: string, key: Uint8Array): Buffer {
  return createHmac('sha256', key).update(SIGNATURE_PREFIX).update(body).digest();
}

/** A new random token id: 128 bits, base64url. */
export function newLinkTokenId(): string {
  return randomBytes(16).toString('base64url');
}

function checkPayload(payload: LinkPayload): void {
  const text = (field: keyof LinkPayload, value: unknown): void => {
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_FIELD) {
      throw new InvalidLinkPayloadError(field, value, `a non-empty string of at most ${MAX_FIELD} characters`);
    }
  };
  text('workflowId', payload.workflowId);
  text('subject', payload.subject);
  text('recipient', payload.recipient);
  if (!/^[^\s@]+@[^\s@]+$/.test(payload.recipient)) {
    throw new InvalidLinkPayloadError('recipient', payload.recipient, 'an email address');
  }
  if (!(LINK_ACTIONS as readonly string[]).includes(payload.action)) {
    throw new InvalidLinkPayloadError('action', payload.action, `one of ${LINK_ACTIONS.join(', ')}`);
  }
  if (!Number.isSafeInteger(payload.expiresAt) || payload.expiresAt <= 0) {
    throw new InvalidLinkPayloadError('expiresAt', payload.expiresAt, 'milliseconds since the epoch');
  }
}

/** Signs a payload with the current key; `randomId` (base64url, ≥128 bits) is for tests and replays. */
export function signLinkToken(payload: LinkPayload, keys: LinkKeys, randomId: string = newLinkTokenId()): string {
  checkKey(keys.current, 'current');
  checkPayload(payload);
  if (!TOKEN_ID.test(randomId)) {
    throw new InvalidLinkPayloadError('randomId', randomId, 'base64url text of 22 to 64 characters (≥128 bits)');
  }
  // Short keys keep links short; the order is fixed so a token's text is reproducible.
  const wire = {
    v: 1,
    i: randomId,
    w: payload.workflowId,
    a: payload.action,
    s: payload.subject,
    r: payload.recipient,
    e: payload.expiresAt,
  };
  const body = Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url');
  return `${body}.${sign(body, keys.current).toString('base64url')}`;
}

function matches(body: string, signature: Buffer, key: Uint8Array | undefined): boolean {
  if (!key || key.length < MIN_LINK_KEY_BYTES) return false;
  return timingSafeEqual(sign(body, key), signature);
}

function decodeBody(body: string): { tokenId: string; payload: LinkPayload } | undefined {
  let wire: unknown;
  try {
    wire = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof wire !== 'object' || wire === null) return undefined;
  const w = wire as Record<string, unknown>;
  const payload = { workflowId: w.w, action: w.a, subject: w.s, recipient: w.r, expiresAt: w.e } as LinkPayload;
  if (w.v !== 1 || typeof w.i !== 'string' || !TOKEN_ID.test(w.i)) return undefined;
  try {
    checkPayload(payload);
  } catch {
    return undefined;
  }
  return { tokenId: w.i, payload };
}

/**
 * Checks a token's shape, then its signature (current key, then previous), then its expiry —
 * in that order, so an altered token is reported as tampered and never as expired.
 */
export function verifyLinkToken(token: string, keys: LinkKeys, now: number): LinkVerification {
  checkKey(keys.current, 'current');
  if (typeof token !== 'string' || token.length > MAX_LINK_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 2) return { ok: false, reason: 'malformed' };
  const [body, sig] = parts as [string, string];
  if (!B64URL.test(body) || !B64URL.test(sig)) return { ok: false, reason: 'malformed' };
  const signature = Buffer.from(sig, 'base64url');
  // Canonical encoding only: other spellings of the same bytes would be other tokens for one link.
  if (signature.length !== SIGNATURE_BYTES || signature.toString('base64url') !== sig) {
    return { ok: false, reason: 'malformed' };
  }
  let signedWith: 'current' | 'previous';
  if (matches(body, signature, keys.current)) signedWith = 'current';
  else if (matches(body, signature, keys.previous)) signedWith = 'previous';
  else return { ok: false, reason: 'tampered' };
  const decoded = decodeBody(body);
  // Signed by us yet unreadable: only a token from a future or broken signer can be here.
  if (!decoded) return { ok: false, reason: 'malformed' };
  if (now >= decoded.payload.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, tokenId: decoded.tokenId, payload: decoded.payload, signedWith };
}

/** The URL a mail links to: `<publicUrl>/a/<token>`, whatever trailing slash publicUrl has. */
export function actionLinkUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/a/${token}`;
}

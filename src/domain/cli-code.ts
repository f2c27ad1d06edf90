/**
 * One-time codes for the CLI (issue 14): the approval mail carries, beside its links, a short code
 * its recipient types after `--code`, so `airgap cycle approve <id> --by x --code …` proves that
 * x received the mail. Like a link token (domain/link-token.ts), a code is bound to the run, the
 * action, the subject (digest or run id), the person and an expiry, and is signed with the link
 * key (HMAC-SHA256); unlike a link it must be typed, so it is short and carries no payload but
 * its expiry. The run records the codes it accepted, so each is used once.
 *
 * Text: 12 characters of RFC 4648 base32 (A–Z, 2–7), shown as `ABCD-EFGH-IJKL`: 4 characters
 * (20 bits) for the expiry in hours since 2024-01-01 UTC (to 2143), 8 (40 bits) for the signature.
 * Input is read case-insensitively, with dashes and spaces ignored.
 *
 * Pure: no I/O, no clock (`now` is a parameter); node:crypto only.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { LinkAction, LinkKeys } from './link-token';

export interface CliCodeBinding {
  workflowId: string;
  action: LinkAction;
  subject: string;
  /** The one person the code was mailed to (compared case-insensitively). */
  recipient: string;
}

export type CliCodeFailure = 'malformed' | 'wrong' | 'expired';

export type CliCodeVerification =
  | { ok: true; code: string; expiresAt: number; signedWith: 'current' | 'previous' }
  | { ok: false; reason: CliCodeFailure };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const EPOCH = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;
const EXPIRY_CHARS = 4;
const MAC_CHARS = 8;
export const CLI_CODE_LENGTH = EXPIRY_CHARS + MAC_CHARS;
const PREFIX = 'airgap-cli-code-v1';

function toBase32(value: bigint, chars: number): string {
  let out = '';
  for (let i = chars - 1; i >= 0; i--) out += ALPHABET[Number((value >> BigInt(5 * i)) & 31n)];
  return out;
}

function fromBase32(text: string): bigint {
  let value = 0n;
  for (const ch of text) value = (value << 5n) | BigInt(ALPHABET.indexOf(ch));
  return value;
}

function mac(binding: CliCodeBinding, hours: number, key: Uint8Array): string {
  const h = createHmac('sha256', key);
  // NUL-separated: no field can contain NUL, so two bindings never sign the same text.
  h.update(
    [
      PREFIX,
      binding.workflowId,
      binding.action,
      binding.subject,
      binding.recipient.trim().toLowerCase(),
      String(hours),
    ].join('\0'),
  );
  const digest = h.digest();
  return toBase32(BigInt(`0x${digest.subarray(0, 5).toString('hex')}`), MAC_CHARS);
}

/** The code's canonical text: upper case, without the dashes and spaces a person may type. */
export function normaliseCliCode(input: string): string {
  return input.replace(/[\s-]/g, '').toUpperCase();
}

/** `ABCD-EFGH-IJKL`: how a mail shows a code. */
export function formatCliCode(code: string): string {
  return normaliseCliCode(code).replace(/(.{4})(?=.)/g, '$1-');
}

/**
 * The code for one action by one person, valid until `expiresAt` (rounded up to the hour: a code
 * never expires before the link mailed beside it).
 */
export function deriveCliCode(binding: CliCodeBinding, expiresAt: number, keys: LinkKeys): string {
  const hours = Math.ceil((expiresAt - EPOCH) / HOUR);
  if (!Number.isSafeInteger(hours) || hours < 0 || hours >= 32 ** EXPIRY_CHARS) {
    throw new Error(`a CLI code cannot expire at ${expiresAt}: expected a time between 2024 and 2143`);
  }
  return formatCliCode(toBase32(BigInt(hours), EXPIRY_CHARS) + mac(binding, hours, keys.current));
}

/** Checks the code's shape, then that it was signed for this binding (current key, then previous), then its expiry. */
export function verifyCliCode(
  input: string,
  binding: CliCodeBinding,
  keys: LinkKeys,
  now: number,
): CliCodeVerification {
  if (typeof input !== 'string' || input.length > 64) return { ok: false, reason: 'malformed' };
  const code = normaliseCliCode(input);
  if (code.length !== CLI_CODE_LENGTH || [...code].some((c) => !ALPHABET.includes(c))) {
    return { ok: false, reason: 'malformed' };
  }
  const hours = Number(fromBase32(code.slice(0, EXPIRY_CHARS)));
  const given = Buffer.from(code.slice(EXPIRY_CHARS));
  const matches = (key: Uint8Array | undefined) =>
    key !== undefined && timingSafeEqual(Buffer.from(mac(binding, hours, key)), given);
  let signedWith: 'current' | 'previous';
  if (matches(keys.current)) signedWith = 'current';
  else if (matches(keys.previous)) signedWith = 'previous';
  else return { ok: false, reason: 'wrong' };
  const expiresAt = EPOCH + hours * HOUR;
  if (now >= expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, code, expiresAt, signedWith };
}

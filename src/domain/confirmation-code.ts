/**
 * The short confirmation code an air-gapped installation shows when nothing may be carried back:
 * 10 base32 characters (50 bits), shown as "ABCDE-FGHIJ", that a person types into the DMZ side.
 *
 * The DMZ side never sees the receipt, so the code cannot cover all of it (times, versions,
 * failure details): it covers the part of the receipt the DMZ side can rebuild on its own — the
 * site, the cycle id, the SHA-256 of the manifest it sent, and for each air-gapped relay whether it
 * imported. The DMZ side computes the code of every possible outcome (each relay imported or not)
 * and the one that matches tells it the outcome; none matching is refused as 'wrong-code'.
 *
 * What a matching code proves: the person read it off a receipt for exactly this package (this
 * cycle, this manifest, this site) with exactly that per-relay outcome; a typo, a code of another
 * cycle or site, or a code of another package of the same cycle does not match (2^-50 per
 * guess and outcome).
 *
 * Its limits: without `isolated.confirmationKeyEnv` the code is a plain SHA-256, so anyone who has
 * the manifest (the courier does) can compute the code of any outcome without importing anything:
 * it proves care, not origin. With a shared confirmation key (the same secret set on both sides,
 * carried once by hand) the code is an HMAC and only a holder of the key can make it — but 50 bits
 * is still far weaker than the signed receipt, and the versions now installed are not covered.
 * Sites that need proof of origin carry the signed receipt back.
 */
import { createHash, createHmac } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import { refusal, type Checked } from './transfer-refusal';
import type { TransferReceipt } from './transfer-receipt';

/** RFC 4648 base32: no 0, 1, 8 or 9, so fewer misreadings. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const CODE_LENGTH = 10;
/** Beyond this many relays the DMZ side only tries "all imported" and "none imported" (2^n outcomes otherwise). */
export const MAX_ENUMERATED_RELAYS = 12;

export interface ConfirmationStatement {
  site: string;
  cycleId: string;
  manifestSha256: string;
  /** Relay names that imported; every other relay of the site did not. */
  imported: readonly string[];
  /** All air-gapped relays the package was for. */
  relays: readonly string[];
}

export function statementOfReceipt(receipt: TransferReceipt): ConfirmationStatement {
  return {
    site: receipt.site,
    cycleId: receipt.cycleId,
    manifestSha256: receipt.manifestSha256,
    imported: receipt.relays.filter((r) => r.outcome === 'imported').map((r) => r.relay),
    relays: receipt.relays.map((r) => r.relay),
  };
}

function statementBytes(s: ConfirmationStatement): string {
  const imported = new Set(s.imported);
  return canonicalJson({
    purpose: 'airgap-confirmation-code/1',
    site: s.site,
    cycleId: s.cycleId,
    manifestSha256: s.manifestSha256,
    relays: [...new Set(s.relays)].sort().map((relay) => ({ relay, imported: imported.has(relay) })),
  });
}

function base32(bytes: Buffer, length: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length >= length) break;
  }
  return out;
}

/** The code of a statement, as shown: "ABCDE-FGHIJ". `key`: the shared confirmation key, if the site has one. */
export function confirmationCode(statement: ConfirmationStatement, key?: Buffer): string {
  const text = statementBytes(statement);
  const digest = key ? createHmac('sha256', key).update(text).digest() : createHash('sha256').update(text).digest();
  const code = base32(digest, CODE_LENGTH);
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/**
 * A typed code in its bare form: case, blanks and dashes ignored, and the digits people write for
 * letters the alphabet lacks read as those letters (0→O, 1→I, 8→B). Undefined when it cannot be a code.
 */
export function normaliseCode(typed: string): string | undefined {
  const bare = typed.toUpperCase().replace(/[\s-]/g, '').replace(/0/g, 'O').replace(/1/g, 'I').replace(/8/g, 'B');
  return bare.length === CODE_LENGTH && [...bare].every((c) => ALPHABET.includes(c)) ? bare : undefined;
}

export interface CodeCheckInput {
  site: string;
  cycleId: string;
  manifestSha256: string;
  /** The air-gapped relays the package was for. */
  relays: readonly string[];
  typed: string;
  key?: Buffer;
}

function outcomes(relays: readonly string[]): string[][] {
  if (relays.length > MAX_ENUMERATED_RELAYS) return [[...relays], []];
  const all: string[][] = [];
  for (let mask = (1 << relays.length) - 1; mask >= 0; mask--) {
    all.push(relays.filter((_, i) => (mask & (1 << i)) !== 0));
  }
  return all;
}

/**
 * Which outcome a typed code stands for: the relays that imported. Refused as 'wrong-code' when
 * it is no code, or the code of no outcome of this cycle's package.
 */
export function matchConfirmationCode(input: CodeCheckInput): Checked<{ imported: string[]; failed: string[] }> {
  const typed = normaliseCode(input.typed);
  if (!typed) {
    return {
      ok: false,
      refusal: refusal(
        'wrong-code',
        `"${input.typed.slice(0, 40)}" is not a confirmation code (expected ${CODE_LENGTH} letters A-Z and digits 2-7, such as ABCDE-FGHIJ)`,
      ),
    };
  }
  for (const imported of outcomes(input.relays)) {
    const code = confirmationCode({ ...input, imported }, input.key).replace('-', '');
    if (code === typed) {
      return { ok: true, value: { imported, failed: input.relays.filter((r) => !imported.includes(r)) } };
    }
  }
  return {
    ok: false,
    refusal: refusal(
      'wrong-code',
      `code ${input.typed.trim()} does not match any outcome of cycle ${input.cycleId}'s package ` +
        `(manifest ${input.manifestSha256.slice(0, 16)}…); check it was read off this cycle's receipt`,
    ),
  };
}

/**
 * Why an isolated site's intake refused a transfer package or a receipt: a typed code, for the
 * workflows, the CLI and the web app to decide on, and a sentence for people. Every refusal means
 * nothing was imported (a package) or nothing was closed (a receipt).
 *
 * Pure, no Node built-ins: workflow code may import it.
 */

export const TRANSFER_REFUSAL_CODES = [
  /** manifest.json is not JSON, or lacks a field, or a field has the wrong form. */
  'malformed-manifest',
  /** receipt.json is not JSON, or lacks a field, or a field has the wrong form. */
  'malformed-receipt',
  /** The package or receipt folder lacks a file it must hold (the zip, the document, its signature). */
  'missing-file',
  /** Signed by a key that is not among the trusted keys of this installation. */
  'unknown-key',
  /** Signed by a trusted key whose rotation overlap has ended. */
  'key-expired',
  /** The signature does not verify: the document was changed after it was signed. */
  'bad-signature',
  /** The zip's size differs from the manifest's (an interrupted copy, a truncated zip). */
  'size-mismatch',
  /** The zip's SHA-256 differs from the manifest's (another zip in its place). */
  'sha256-mismatch',
  /** The package or receipt belongs to another site. */
  'other-site',
  /** A component would go back to a version older than this side last imported. */
  'older-versions',
  /** This package (or its zip) was taken in before. */
  'already-imported',
  /** The receipt answers another cycle than the one it is offered to. */
  'receipt-other-cycle',
  /** The receipt names the right cycle but another manifest (a package that was not the one sent). */
  'receipt-other-package',
  /** A typed confirmation code matches no outcome of this cycle's package. */
  'wrong-code',
] as const;
export type TransferRefusalCode = (typeof TRANSFER_REFUSAL_CODES)[number];

export interface TransferRefusal {
  code: TransferRefusalCode;
  /** One sentence for people: what was refused and why, with the ids and values involved. */
  message: string;
}

export function refusal(code: TransferRefusalCode, message: string): TransferRefusal {
  return { code, message };
}

export function isTransferRefusalCode(value: unknown): value is TransferRefusalCode {
  return typeof value === 'string' && (TRANSFER_REFUSAL_CODES as readonly string[]).includes(value);
}

/** A parse or check result: the value, or why it was refused. */
export type Checked<T> = { ok: true; value: T } | { ok: false; refusal: TransferRefusal };

/** Shape checks shared by the manifest and the receipt parsers: each returns a problem or undefined. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;
/** A cycle id as Temporal holds it (scheduled runs append an ISO time, hence ':'). */
export const CYCLE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
export const SITE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** "ed25519:" and the first 32 hex digits of the SHA-256 of the public key's DER (SPKI) form. */
export const KEY_ID = /^ed25519:[0-9a-f]{32}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

export function isIsoTime(value: unknown): value is string {
  return typeof value === 'string' && ISO_TIME.test(value) && !Number.isNaN(Date.parse(value));
}

/** The part of a cycle id that is safe in a file name on any medium (FAT and NTFS refuse ':'). */
export function cycleFileStem(cycleId: string): string {
  return cycleId.replace(/[^A-Za-z0-9._-]/g, '-');
}

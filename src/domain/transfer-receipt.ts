/**
 * The receipt of an isolated site: what the air-gapped installation writes back onto the medium
 * once a package's import is over, and what the DMZ installation checks before it closes the
 * cycle. On the medium: a folder `airgap-receipt-<cycle>/` holding `receipt.json` (this module's
 * canonical text) and `receipt.json.sig` (Ed25519 over its bytes, by the air-gapped side's key).
 *
 * Where nothing may be carried back, the air-gapped side shows a short confirmation code instead
 * (src/domain/confirmation-code.ts).
 *
 * Pure, no Node built-ins: workflow code may import it.
 */
import { canonicalJson } from './canonical-json';
import type { ComponentVersion } from './cycle';
import {
  CYCLE_ID,
  isIsoTime,
  KEY_ID,
  refusal,
  SHA256_HEX,
  SITE_ID,
  type Checked,
  type TransferRefusal,
} from './transfer-refusal';

export const RECEIPT_FORMAT = 'airgap-transfer-receipt/1';
export const RECEIPT_FILE = 'receipt.json';

export const RELAY_OUTCOMES = ['imported', 'failed'] as const;
export type RelayOutcomeKind = (typeof RELAY_OUTCOMES)[number];

export interface RelayOutcome {
  relay: string;
  outcome: RelayOutcomeKind;
  /** The versions the relay reported after the import (what is installed now, whatever the outcome). */
  versions: ComponentVersion[];
  /** Why it failed, in a person's words or the manager's; absent when imported. */
  detail?: string;
}

export interface TransferReceipt {
  format: typeof RECEIPT_FORMAT;
  site: string;
  cycleId: string;
  /** SHA-256 of the manifest.json bytes this receipt answers: binds it to exactly that package. */
  manifestSha256: string;
  relays: RelayOutcome[];
  completedAt: string;
  /** The air-gapped installation that wrote the receipt (isolated.installationId on that side). */
  installationId: string;
  keyId: string;
}

/** The exact bytes that are signed and written as receipt.json. */
export function receiptText(receipt: TransferReceipt): string {
  return canonicalJson(receipt);
}

const RELAY_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

function receiptProblem(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'expected a JSON object';
  const r = doc as Record<string, unknown>;
  if (r.format !== RECEIPT_FORMAT) {
    return `format: expected "${RECEIPT_FORMAT}", found ${JSON.stringify(r.format) ?? 'nothing'}`;
  }
  const known = new Set([
    'format',
    'site',
    'cycleId',
    'manifestSha256',
    'relays',
    'completedAt',
    'installationId',
    'keyId',
  ]);
  const extra = Object.keys(r).filter((k) => !known.has(k));
  if (extra.length > 0) return `unknown field(s) ${extra.join(', ')}`;
  if (typeof r.site !== 'string' || !SITE_ID.test(r.site)) return 'site: expected a site id';
  if (typeof r.cycleId !== 'string' || !CYCLE_ID.test(r.cycleId)) return 'cycleId: expected a cycle id';
  if (typeof r.manifestSha256 !== 'string' || !SHA256_HEX.test(r.manifestSha256)) {
    return 'manifestSha256: expected 64 lowercase hex digits';
  }
  if (!Array.isArray(r.relays) || r.relays.length === 0) return 'relays: expected at least one relay outcome';
  const names = new Set<string>();
  for (const [i, v] of r.relays.entries()) {
    const o = v as Record<string, unknown> | null;
    const at = `relays.${i}`;
    if (typeof o !== 'object' || o === null) return `${at}: expected { relay, outcome, versions }`;
    if (typeof o.relay !== 'string' || !RELAY_NAME.test(o.relay)) return `${at}.relay: expected a relay name`;
    if (names.has(o.relay)) return `${at}.relay: "${o.relay}" is listed twice`;
    names.add(o.relay);
    if (!(RELAY_OUTCOMES as readonly unknown[]).includes(o.outcome)) {
      return `${at}.outcome: expected ${RELAY_OUTCOMES.join(' or ')}`;
    }
    if (!Array.isArray(o.versions)) return `${at}.versions: expected a list of { name, version }`;
    for (const [j, c] of (o.versions as unknown[]).entries()) {
      const cv = c as Record<string, unknown> | null;
      if (typeof cv !== 'object' || cv === null || typeof cv.name !== 'string' || typeof cv.version !== 'string') {
        return `${at}.versions.${j}: expected { name, version }`;
      }
    }
    if (o.detail !== undefined && typeof o.detail !== 'string') return `${at}.detail: expected text`;
    const extraRelay = Object.keys(o).filter((k) => !['relay', 'outcome', 'versions', 'detail'].includes(k));
    if (extraRelay.length > 0) return `${at}: unknown field(s) ${extraRelay.join(', ')}`;
  }
  if (!isIsoTime(r.completedAt)) return 'completedAt: expected an ISO-8601 UTC time such as 2026-12-01T06:00:00Z';
  if (typeof r.installationId !== 'string' || !SITE_ID.test(r.installationId)) {
    return 'installationId: expected an installation id';
  }
  if (typeof r.keyId !== 'string' || !KEY_ID.test(r.keyId)) return 'keyId: expected ed25519:<32 hex digits>';
  return undefined;
}

/** Reads receipt.json's text; a refusal 'malformed-receipt' names the first wrong field. */
export function parseReceipt(text: string): Checked<TransferReceipt> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, refusal: refusal('malformed-receipt', `receipt.json is not JSON: ${(err as Error).message}`) };
  }
  const problem = receiptProblem(doc);
  if (problem) return { ok: false, refusal: refusal('malformed-receipt', `receipt.json: ${problem}`) };
  return { ok: true, value: doc as TransferReceipt };
}

export interface ReceiptCheckInput {
  receipt: TransferReceipt;
  siteId: string;
  /** The cycle the DMZ side is closing. */
  cycleId: string;
  /** SHA-256 of the manifest.json the DMZ side wrote for that cycle. */
  manifestSha256: string;
}

/**
 * What the DMZ side checks after the receipt's signature (src/adapters/transfer-medium.ts): the
 * receipt answers this site, this cycle and exactly the manifest that was sent. Undefined when
 * the cycle may be closed with the receipt's outcomes.
 */
export function checkReceipt(input: ReceiptCheckInput): TransferRefusal | undefined {
  const { receipt } = input;
  if (receipt.site !== input.siteId) {
    return refusal(
      'other-site',
      `the receipt is from site "${receipt.site}", but cycle ${input.cycleId} belongs to site "${input.siteId}"`,
    );
  }
  if (receipt.cycleId !== input.cycleId) {
    return refusal(
      'receipt-other-cycle',
      `the receipt is for cycle ${receipt.cycleId}, not for cycle ${input.cycleId}; it cannot close this cycle`,
    );
  }
  if (receipt.manifestSha256 !== input.manifestSha256) {
    return refusal(
      'receipt-other-package',
      `the receipt answers manifest ${receipt.manifestSha256.slice(0, 16)}…, but cycle ${input.cycleId} sent ` +
        `manifest ${input.manifestSha256.slice(0, 16)}…; the package imported there is not the one sent`,
    );
  }
  return undefined;
}

/** The cycle's overall result by its relays: completed when every relay imported. */
export function receiptSucceeded(receipt: TransferReceipt): boolean {
  return receipt.relays.every((r) => r.outcome === 'imported');
}

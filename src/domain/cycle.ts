/**
 * The update cycle's vocabulary and its pure rules: states, what an operator may do in each,
 * digest quoting, approval policy. The workflow (src/workflows/cycle.ts) applies these; tests
 * exercise them without Temporal.
 */

export const CYCLE_STATES = [
  'bundling',
  'nothing-new',
  'awaiting-transfer',
  'verifying',
  'awaiting-approval',
  /** Isolated sites, DMZ side: the package is on the medium; waiting for the receipt or its code. */
  'awaiting-receipt',
  'importing',
  'cleaning-up',
  'completed',
  'failed',
  'expired',
  'rejected',
  'cancelled',
] as const;
export type CycleState = (typeof CYCLE_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<CycleState> = new Set([
  'nothing-new',
  'completed',
  'failed',
  'expired',
  'rejected',
  'cancelled',
]);

export function isTerminal(state: CycleState): boolean {
  return TERMINAL_STATES.has(state);
}

/** A component as the manager reports it (pattern, engine, rule update…). */
export interface ComponentVersion {
  name: string;
  version: string;
}

export interface BundleInfo {
  /** The zip's name as dsa_control made it; it must not be renamed. */
  fileName: string;
  /** Where it sits on the DMZ relay. */
  path: string;
  size: number;
  sha256: string;
  /** What the DMZ relay had when it built the bundle. */
  versions: ComponentVersion[];
}

export type Channel = 'cli' | 'link' | 'web' | 'schedule' | 'system';

/** Who did something, and through which door. */
export interface Actor {
  who: string;
  channel: Channel;
  address?: string;
}

export const MIN_DIGEST_PREFIX = 12;

/** Thrown by normaliseQuotedDigest when a quoted digest is unusable; the message says why. */
export class QuotedDigestError extends Error {}

/**
 * An operator quotes the digest they see on their copy: "sha256:ABCD…", spaces from a terminal,
 * or only the first characters. At least 12 hex digits are required so that a quote identifies
 * this bundle and not merely any file.
 */
export function normaliseQuotedDigest(quoted: string): string {
  const cleaned = quoted
    .trim()
    .toLowerCase()
    .replace(/^sha-?256[:=]\s*/, '')
    .replace(/\s+/g, '');
  if (!/^[0-9a-f]+$/.test(cleaned)) throw new QuotedDigestError(`"${quoted}" is not a hexadecimal SHA-256 digest`);
  if (cleaned.length < MIN_DIGEST_PREFIX) {
    throw new QuotedDigestError(
      `quote at least ${MIN_DIGEST_PREFIX} hex digits of the SHA-256 (got ${cleaned.length})`,
    );
  }
  if (cleaned.length > 64) throw new QuotedDigestError('a SHA-256 digest has 64 hex digits; the quote is longer');
  return cleaned;
}

export function digestMatches(quoted: string, actual: string): boolean {
  return actual.toLowerCase().startsWith(normaliseQuotedDigest(quoted));
}

export type ApprovalPolicy = 'none' | 'any' | 'n-of-m';

export interface ApprovalRules {
  policy: ApprovalPolicy;
  required: number;
  carrierMayApprove: boolean;
  approvers: string[];
}

export function requiredApprovals(rules: ApprovalRules): number {
  if (rules.policy === 'none') return 0;
  if (rules.policy === 'any') return 1;
  return rules.required;
}

const sameEmail = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/** Why the approval rules refuse a person: a typed code (shared with domain/asks.ts) and the sentence. */
export interface ApprovalProblem {
  code: 'not-approver' | 'carrier-may-not-approve' | 'already-decided';
  message: string;
}

const CARRIER_FORBIDDEN = "carried the file and the site's policy forbids the carrier from approving its import";

/**
 * Why `who` may not approve (or reject) now, or undefined when they may. `carriers` are the people
 * who reported the file copied (or, for a hardening, asked for it: `carrierReason` says so);
 * `decided` those who already approved.
 */
export function approvalProblem(
  rules: ApprovalRules,
  who: string,
  carriers: readonly string[],
  decided: readonly string[],
  carrierReason = CARRIER_FORBIDDEN,
): ApprovalProblem | undefined {
  if (!rules.approvers.some((a) => sameEmail(a, who))) {
    return {
      code: 'not-approver',
      message: `${who} is not an approver of this site (approvers: ${rules.approvers.join(', ')})`,
    };
  }
  if (!rules.carrierMayApprove && carriers.some((c) => sameEmail(c, who))) {
    return { code: 'carrier-may-not-approve', message: `${who} ${carrierReason}` };
  }
  if (decided.some((d) => sameEmail(d, who))) {
    return { code: 'already-decided', message: `${who} has already approved this cycle` };
  }
  return undefined;
}

/** The sentence of `approvalProblem` alone. */
export function approvalRefusal(
  rules: ApprovalRules,
  who: string,
  carriers: readonly string[],
  decided: readonly string[],
): string | undefined {
  return approvalProblem(rules, who, carriers, decided)?.message;
}

export function sameActor(a: string, b: string): boolean {
  return sameEmail(a, b);
}

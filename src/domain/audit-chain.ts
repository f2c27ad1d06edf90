/**
 * The hash chain that makes the audit tamper-evident: each record's hash covers its content and
 * its predecessor's hash, so changing, removing or reordering any record breaks every link after
 * it. The walk is pure and streaming; the store feeds it rows, `verifyRecords` feeds it an export.
 *
 * What a chain alone cannot show: that records were cut from the END (the shorter chain is still
 * valid) or that the whole chain was recomputed. The store keeps a head anchor for the first, and
 * only a head copied somewhere else (`--expect-head`) settles the second.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, type AuditRecord } from './audit';

/** prevHash of record 1. */
export const GENESIS_HASH = '0'.repeat(64);

// Prefixed to the hashed text so a future serialisation cannot collide with this one.
const HASH_DOMAIN = 'airgap-audit/1\n';

// Every field but `hash` is covered; as a Record, adding a field to AuditRecord without deciding
// here is a type error rather than an unprotected field.
const HASHED: Record<Exclude<keyof AuditRecord, 'hash'>, true> = {
  seq: true,
  id: true,
  workflowId: true,
  runId: true,
  site: true,
  kind: true,
  type: true,
  at: true,
  actor: true,
  outcome: true,
  data: true,
  recordedAt: true,
  prevHash: true,
};
type HashedKey = keyof typeof HASHED;
const SORTED_KEYS = (Object.keys(HASHED) as HashedKey[]).sort();

/**
 * The canonical JSON of a record's content, with actor and data given as canonical JSON already.
 * Built directly rather than through canonicalJson(content) so that verify can hash the texts the
 * store holds without parsing and re-serialising them; the bytes are the same.
 */
function hashedText(r: Omit<AuditRecord, 'hash'>, actorJson: string | undefined, dataJson: string | undefined): string {
  let out = '{';
  for (const key of SORTED_KEYS) {
    const value =
      key === 'actor'
        ? actorJson
        : key === 'data'
          ? dataJson
          : r[key] === undefined
            ? undefined
            : canonicalJson(r[key]);
    if (value !== undefined) out += `${out.length > 1 ? ',' : ''}"${key}":${value}`;
  }
  return `${out}}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(HASH_DOMAIN).update(text).digest('hex');
}

/** SHA-256 (hex) of the canonical JSON of a record's content, its seq and prevHash included. */
export function recordHash(record: Omit<AuditRecord, 'hash'>): string {
  const actor = record.actor === undefined ? undefined : canonicalJson(record.actor);
  const data = record.data === undefined ? undefined : canonicalJson(record.data);
  return sha256(hashedText(record, actor, data));
}

/**
 * recordHash for a stored row whose actor and data are kept as canonical JSON text. A text edited
 * into a different but equivalent form (keys reordered) no longer matches: its bytes changed.
 */
export function recordHashOfStored(
  record: Omit<AuditRecord, 'hash'>,
  actorJson: string | null,
  dataJson: string | null,
): string {
  return sha256(hashedText(record, actorJson ?? undefined, dataJson ?? undefined));
}

export interface AuditHead {
  seq: number;
  hash: string;
}

/** The form operators copy elsewhere and give back to `--expect-head`: `<seq>:<hash>`. */
export function formatHead(head: AuditHead): string {
  return `${head.seq}:${head.hash}`;
}

/** Thrown by parseHead when a head reference is neither `<seq>:<hash>` nor a bare hash. */
export class AuditHeadError extends Error {
  constructor(readonly text: string) {
    super(`"${text}" is not an audit head: expected <seq>:<sha256 hex>, as printed by "airgap audit verify"`);
    this.name = 'AuditHeadError';
  }
}

export function parseHead(text: string): { seq?: number; hash: string } {
  const m = /^(?:(\d+):)?([0-9a-f]{64})$/i.exec(text.trim());
  if (!m) throw new AuditHeadError(text);
  const hash = m[2]!.toLowerCase();
  return m[1] === undefined ? { hash } : { seq: Number(m[1]), hash };
}

export type BreakReason =
  | 'changed' // a record's content no longer matches its hash
  | 'removed' // a record is missing from the middle of the chain
  | 'reordered' // a record follows a different record than the one it was written after
  | 'truncated' // records are missing at the end
  | 'unanchored' // records past the head anchor: written around the store
  | 'head-mismatch' // the chain does not contain the head the operator expected
  | 'index-mismatch'; // the runs/protection tables disagree with the records they summarise

export interface ChainBreak {
  seq: number;
  reason: BreakReason;
  detail: string;
}

export type VerifyResult =
  { ok: true; count: number; head?: AuditHead } | { ok: false; count: number; firstBad: ChainBreak };

/**
 * Walks records in storage order and stops at the first bad one. `seqOfHash` finds the record
 * that holds a hash, which tells a reordered record (its predecessor is elsewhere in the store)
 * from one whose predecessor is gone.
 */
export class ChainWalker {
  private last?: AuditHead;
  private walked = 0;

  constructor(private readonly seqOfHash: (hash: string) => number | undefined) {}

  get count(): number {
    return this.walked;
  }

  get head(): AuditHead | undefined {
    return this.last;
  }

  /** `hash` may be computed by the caller from stored text (recordHashOfStored). */
  push(r: AuditRecord, hash: string = recordHash(r)): ChainBreak | undefined {
    const lastSeq = this.last?.seq ?? 0;
    const expectedSeq = lastSeq + 1;
    if (r.seq > expectedSeq) {
      return { seq: expectedSeq, reason: 'removed', detail: `record ${expectedSeq} is missing (next is ${r.seq})` };
    }
    if (r.seq < expectedSeq) {
      return { seq: r.seq, reason: 'reordered', detail: `record ${r.seq} appears again after record ${lastSeq}` };
    }
    if (r.prevHash !== (this.last?.hash ?? GENESIS_HASH)) {
      const predecessor = this.seqOfHash(r.prevHash);
      return predecessor !== undefined
        ? {
            seq: r.seq,
            reason: 'reordered',
            detail: `record ${r.seq} was written after the record now numbered ${predecessor}, not after ${lastSeq}`,
          }
        : {
            seq: r.seq,
            reason: 'removed',
            detail: `the record that ${r.seq} was written after is gone (removed, or rewritten and re-hashed)`,
          };
    }
    if (hash !== r.hash) {
      return { seq: r.seq, reason: 'changed', detail: `record ${r.seq} no longer matches its hash` };
    }
    this.last = { seq: r.seq, hash: r.hash };
    this.walked += 1;
    return undefined;
  }
}

/**
 * Compares the end of a verified chain with the anchor written in the same transaction as each
 * append. Only an attacker who also rewrites the anchor gets past this.
 */
export function checkAnchor(last: AuditHead | undefined, anchor: AuditHead | undefined): ChainBreak | undefined {
  const lastSeq = last?.seq ?? 0;
  const anchorSeq = anchor?.seq ?? 0;
  if (anchorSeq > lastSeq) {
    return {
      seq: lastSeq + 1,
      reason: 'truncated',
      detail: `records ${lastSeq + 1}..${anchorSeq} are missing: the head anchor says the chain ends at ${anchorSeq}`,
    };
  }
  if (anchorSeq < lastSeq) {
    return {
      seq: anchorSeq + 1,
      reason: 'unanchored',
      detail: `records ${anchorSeq + 1}..${lastSeq} were not written by the store: the head anchor ends at ${anchorSeq}`,
    };
  }
  if (last && anchor && last.hash !== anchor.hash) {
    return { seq: last.seq, reason: 'changed', detail: `record ${last.seq} differs from the head anchor` };
  }
  return undefined;
}

/**
 * Checks a head the operator kept elsewhere against a verified chain. Records appended since are
 * fine; a head that is not in the chain means history up to it was rewritten or cut.
 */
export function checkExpectedHead(
  expected: { seq?: number; hash: string },
  last: AuditHead | undefined,
  lookup: { hashOfSeq(seq: number): string | undefined; seqOfHash(hash: string): number | undefined },
): ChainBreak | undefined {
  const lastSeq = last?.seq ?? 0;
  const seq = expected.seq ?? lookup.seqOfHash(expected.hash);
  if (seq === undefined) {
    return lastSeq === 0
      ? { seq: 1, reason: 'truncated', detail: 'the chain is empty but a head was expected' }
      : {
          seq: lastSeq,
          reason: 'head-mismatch',
          detail: `no record has the expected hash ${expected.hash}: the chain was rewritten or cut before it`,
        };
  }
  if (seq > lastSeq) {
    return {
      seq: lastSeq + 1,
      reason: 'truncated',
      detail: `the expected head is record ${seq} but the chain ends at ${lastSeq}`,
    };
  }
  if (lookup.hashOfSeq(seq) !== expected.hash) {
    return {
      seq,
      reason: 'head-mismatch',
      detail: `record ${seq} is not the expected head: the chain up to it was rewritten`,
    };
  }
  return undefined;
}

/** Verifies records held in memory, e.g. an export read back on another machine. */
export function verifyRecords(
  records: readonly AuditRecord[],
  expectHead?: { seq?: number; hash: string },
): VerifyResult {
  const bySeq = new Map(records.map((r) => [r.seq, r.hash]));
  const byHash = new Map(records.map((r) => [r.hash, r.seq]));
  const walker = new ChainWalker((hash) => byHash.get(hash));
  for (const r of records) {
    const bad = walker.push(r);
    if (bad) return { ok: false, count: walker.count, firstBad: bad };
  }
  const bad =
    expectHead &&
    checkExpectedHead(expectHead, walker.head, {
      hashOfSeq: (seq) => bySeq.get(seq),
      seqOfHash: (hash) => byHash.get(hash),
    });
  if (bad) return { ok: false, count: walker.count, firstBad: bad };
  return walker.head ? { ok: true, count: walker.count, head: walker.head } : { ok: true, count: 0 };
}

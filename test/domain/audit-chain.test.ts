import type { AuditRecord } from '../../src/domain/audit';
import {
  AuditHeadError,
  formatHead,
  GENESIS_HASH,
  parseHead,
  recordHash,
  verifyRecords,
} from '../../src/domain/audit-chain';

/** A valid chain of n records, built the way the store builds it. */
function chain(n: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const content = {
      seq,
      id: `wf-${seq}`,
      workflowId: 'wf',
      site: 'north',
      kind: 'cycle' as const,
      type: seq === 1 ? 'cycle.started' : 'step.done',
      at: `2025-05-06T06:00:0${seq}Z`,
      data: { step: seq },
      recordedAt: '2025-05-06T07:00:00.000Z',
      prevHash: records[seq - 2]?.hash ?? GENESIS_HASH,
    };
    records.push({ ...content, hash: recordHash(content) });
  }
  return records;
}

describe('the audit hash chain', () => {
  it('verifies an intact chain and reports its head', () => {
    const records = chain(5);
    expect(verifyRecords(records)).toEqual({ ok: true, count: 5, head: { seq: 5, hash: records[4]!.hash } });
    expect(verifyRecords([])).toEqual({ ok: true, count: 0 });
  });

  it('hashes every field: changing any one of them changes the hash', () => {
    const [r] = chain(1);
    const { hash, ...content } = r!;
    const variants = [
      { ...content, seq: 2 },
      { ...content, id: 'other' },
      { ...content, at: '2025-05-06T06:00:02Z' },
      { ...content, data: { step: 2 } },
      { ...content, actor: { who: 'ann', channel: 'cli' as const } },
      { ...content, outcome: 'completed' },
      { ...content, recordedAt: '2025-05-06T07:00:01.000Z' },
      { ...content, prevHash: 'f'.repeat(64) },
    ];
    for (const v of variants) expect(recordHash(v)).not.toBe(hash);
    expect(recordHash({ ...content })).toBe(hash);
  });

  it('names a changed record', () => {
    const records = chain(5);
    records[2] = { ...records[2]!, data: { step: 99 } };
    expect(verifyRecords(records)).toMatchObject({ ok: false, count: 2, firstBad: { seq: 3, reason: 'changed' } });
  });

  it('names the first missing record when one is cut from the middle', () => {
    const records = chain(5);
    records.splice(2, 1);
    expect(verifyRecords(records)).toMatchObject({ ok: false, firstBad: { seq: 3, reason: 'removed' } });
  });

  it('names a record that moved, and the one it was written after', () => {
    const records = chain(5);
    // Swapped positions, each renumbered to its new place, as an UPDATE of seq would leave them.
    const [third, fourth] = [records[2]!, records[3]!];
    records[2] = { ...fourth, seq: 3 };
    records[3] = { ...third, seq: 4 };
    const result = verifyRecords(records);
    expect(result).toMatchObject({ ok: false, firstBad: { seq: 3, reason: 'reordered' } });
    expect(!result.ok && result.firstBad.detail).toContain('now numbered 4');
  });

  it('cannot see a cut tail by itself, but a head kept elsewhere can', () => {
    const records = chain(5);
    const kept = formatHead({ seq: 5, hash: records[4]!.hash });
    const cut = records.slice(0, 3);
    expect(verifyRecords(cut).ok).toBe(true);
    expect(verifyRecords(cut, parseHead(kept))).toMatchObject({ ok: false, firstBad: { seq: 4, reason: 'truncated' } });
    expect(verifyRecords(records, parseHead(kept)).ok).toBe(true);
  });

  it('accepts an older head as long as the chain still contains it', () => {
    const records = chain(5);
    expect(verifyRecords(records, parseHead(`2:${records[1]!.hash}`)).ok).toBe(true);
    expect(verifyRecords(records, parseHead(records[1]!.hash)).ok).toBe(true);
  });

  it('catches a chain recomputed after a change when checked against an earlier head', () => {
    const original = chain(4);
    const kept = parseHead(formatHead({ seq: 4, hash: original[3]!.hash }));
    const rewritten: AuditRecord[] = [];
    for (const r of original) {
      const content = {
        ...r,
        data: r.seq === 2 ? { step: 'forged' } : r.data,
        prevHash: rewritten[rewritten.length - 1]?.hash ?? GENESIS_HASH,
      };
      const { hash: _old, ...rest } = content;
      rewritten.push({ ...rest, hash: recordHash(rest) });
    }
    expect(verifyRecords(rewritten).ok).toBe(true);
    expect(verifyRecords(rewritten, kept)).toMatchObject({ ok: false, firstBad: { seq: 4, reason: 'head-mismatch' } });
    expect(verifyRecords(rewritten, { hash: kept.hash })).toMatchObject({
      ok: false,
      firstBad: { reason: 'head-mismatch' },
    });
  });

  it('reads heads as <seq>:<hash> or a bare hash and refuses anything else', () => {
    const hash = 'AB'.repeat(32);
    expect(parseHead(`12:${hash}`)).toEqual({ seq: 12, hash: hash.toLowerCase() });
    expect(parseHead(hash)).toEqual({ hash: hash.toLowerCase() });
    expect(() => parseHead('12:abc')).toThrow(AuditHeadError);
    expect(() => parseHead('latest')).toThrow('"latest" is not an audit head');
  });
});

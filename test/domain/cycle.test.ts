import { approvalRefusal, digestMatches, normaliseQuotedDigest, requiredApprovals } from '../../src/domain/cycle';

const digest = 'ab'.repeat(32);

describe('quoting a bundle digest', () => {
  it('accepts the full digest or a prefix of at least 12 hex digits, in any case and with a sha256: prefix', () => {
    expect(digestMatches(digest, digest)).toBe(true);
    expect(digestMatches('ABABABABABAB', digest)).toBe(true);
    expect(digestMatches(`sha256:${digest.slice(0, 20)}`, digest)).toBe(true);
  });

  it('refuses a prefix shorter than 12 hex digits and says how many were given', () => {
    expect(() => normaliseQuotedDigest('abababab')).toThrow('at least 12 hex digits of the SHA-256 (got 8)');
  });

  it('refuses text that is not hexadecimal', () => {
    expect(() => normaliseQuotedDigest('not-a-digest-at-all')).toThrow('is not a hexadecimal SHA-256 digest');
  });

  it('does not match a different digest', () => {
    expect(digestMatches('cd'.repeat(6), digest)).toBe(false);
  });
});

describe('who may approve an import', () => {
  const rules = { policy: 'n-of-m' as const, required: 2, carrierMayApprove: false, approvers: ['a@x', 'b@x', 'c@x'] };

  it('counts the approvals each policy needs', () => {
    expect(requiredApprovals({ ...rules, policy: 'none' })).toBe(0);
    expect(requiredApprovals({ ...rules, policy: 'any' })).toBe(1);
    expect(requiredApprovals(rules)).toBe(2);
  });

  it('refuses someone who is not an approver', () => {
    expect(approvalRefusal(rules, 'z@x', [], [])).toMatch(/not an approver/);
  });

  it('refuses the carrier when the policy forbids it, and allows them when it does not', () => {
    expect(approvalRefusal(rules, 'A@x', ['a@x'], [])).toMatch(/carried the file/);
    expect(approvalRefusal({ ...rules, carrierMayApprove: true }, 'a@x', ['a@x'], [])).toBeUndefined();
  });

  it('refuses a second approval by the same person', () => {
    expect(approvalRefusal(rules, 'b@x', [], ['b@x'])).toMatch(/already approved/);
  });
});

/** One-time CLI codes (issue 14): bound to run, action, subject, person and expiry; either key of a rotation verifies. */
import { randomBytes } from 'node:crypto';
import { deriveCliCode, formatCliCode, normaliseCliCode, verifyCliCode } from '../../src/domain/cli-code';

const keys = { current: randomBytes(32) };
const NOW = Date.UTC(2026, 11, 1, 10, 0);
const binding = {
  workflowId: 'cycle-plant-1',
  action: 'approve' as const,
  subject: 'ab'.repeat(32),
  recipient: 'ann@plant.example',
};

describe('one-time CLI codes', () => {
  it('is 12 base32 characters shown in groups of four, and verifies for its own binding however it is typed', () => {
    const code = deriveCliCode(binding, NOW + 3_600_000, keys);
    expect(code).toMatch(/^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
    expect(verifyCliCode(code, binding, keys, NOW)).toMatchObject({ ok: true, code: normaliseCliCode(code) });
    expect(
      verifyCliCode(code.replace(/-/g, ' ').toLowerCase(), { ...binding, recipient: 'ANN@plant.example' }, keys, NOW)
        .ok,
    ).toBe(true);
    expect(formatCliCode(normaliseCliCode(code))).toBe(code);
  });

  it('is wrong for another run, action, subject, person or key', () => {
    const code = deriveCliCode(binding, NOW + 3_600_000, keys);
    for (const other of [
      { ...binding, workflowId: 'cycle-plant-2' },
      { ...binding, action: 'reject' as const },
      { ...binding, subject: 'cd'.repeat(32) },
      { ...binding, recipient: 'bob@plant.example' },
    ]) {
      expect(verifyCliCode(code, other, keys, NOW)).toEqual({ ok: false, reason: 'wrong' });
    }
    expect(verifyCliCode(code, binding, { current: randomBytes(32) }, NOW)).toEqual({ ok: false, reason: 'wrong' });
  });

  it('expires at the hour after its expiry, and an altered expiry does not verify', () => {
    const code = deriveCliCode(binding, NOW + 90 * 60_000, keys);
    expect(verifyCliCode(code, binding, keys, NOW + 119 * 60_000).ok).toBe(true);
    expect(verifyCliCode(code, binding, keys, NOW + 120 * 60_000)).toEqual({ ok: false, reason: 'expired' });
    const plain = normaliseCliCode(code);
    const later = `${plain.slice(0, 3)}${plain[3] === 'Z' ? 'Y' : 'Z'}${plain.slice(4)}`;
    expect(verifyCliCode(later, binding, keys, NOW)).toEqual({ ok: false, reason: 'wrong' });
  });

  it('still verifies with the previous key during a rotation, and refuses malformed text', () => {
    const code = deriveCliCode(binding, NOW + 3_600_000, keys);
    expect(verifyCliCode(code, binding, { current: randomBytes(32), previous: keys.current }, NOW)).toMatchObject({
      ok: true,
      signedWith: 'previous',
    });
    for (const bad of ['', 'ABCD-EFGH', 'ABCD-EFGH-IJK1', 'x'.repeat(100)]) {
      expect(verifyCliCode(bad, binding, keys, NOW)).toEqual({ ok: false, reason: 'malformed' });
    }
  });
});

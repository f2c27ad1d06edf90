import {
  confirmationCode,
  matchConfirmationCode,
  normaliseCode,
  statementOfReceipt,
} from '../../src/domain/confirmation-code';
import {
  checkReceipt,
  parseReceipt,
  RECEIPT_FORMAT,
  receiptSucceeded,
  receiptText,
  type TransferReceipt,
} from '../../src/domain/transfer-receipt';

const MANIFEST_SHA = 'e'.repeat(64);
const receipt: TransferReceipt = {
  format: RECEIPT_FORMAT,
  site: 'plant1',
  cycleId: 'cycle-plant1-2026-12-01T06-00-00Z-3f9a',
  manifestSha256: MANIFEST_SHA,
  relays: [
    { relay: 'ag-relay-1', outcome: 'imported', versions: [{ name: 'pattern', version: '20.0.877' }] },
    {
      relay: 'ag-relay-2',
      outcome: 'failed',
      versions: [{ name: 'pattern', version: '20.0.800' }],
      detail: 'import timed out',
    },
  ],
  completedAt: '2026-12-02T09:30:00.000Z',
  installationId: 'ag-plant1',
  keyId: `ed25519:${'f'.repeat(32)}`,
};
const relays = ['ag-relay-1', 'ag-relay-2'];
const base = { site: 'plant1', cycleId: receipt.cycleId, manifestSha256: MANIFEST_SHA, relays };

describe('the receipt', () => {
  it('round-trips through its canonical text and tells whether every relay imported', () => {
    expect(parseReceipt(receiptText(receipt))).toEqual({ ok: true, value: receipt });
    expect(receiptSucceeded(receipt)).toBe(false);
  });

  it.each([
    ['no relay outcome', { ...receipt, relays: [] }, /relays: expected at least one relay outcome/],
    [
      'an outcome it does not know',
      { ...receipt, relays: [{ ...receipt.relays[0], outcome: 'maybe' }] },
      /relays\.0\.outcome/,
    ],
    ['a relay twice', { ...receipt, relays: [receipt.relays[0], receipt.relays[0]] }, /"ag-relay-1" is listed twice/],
    ['a manifest digest that is no digest', { ...receipt, manifestSha256: 'x' }, /manifestSha256/],
  ])('refuses %s as malformed', (_what, doc, reason) => {
    const parsed = parseReceipt(JSON.stringify(doc));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.refusal.code).toBe('malformed-receipt');
      expect(parsed.refusal.message).toMatch(reason);
    }
  });

  it('closes only the cycle it answers, for the manifest that was sent', () => {
    const input = { receipt, siteId: 'plant1', cycleId: receipt.cycleId, manifestSha256: MANIFEST_SHA };
    expect(checkReceipt(input)).toBeUndefined();
    expect(checkReceipt({ ...input, cycleId: 'cycle-plant1-other' })).toEqual({
      code: 'receipt-other-cycle',
      message: `the receipt is for cycle ${receipt.cycleId}, not for cycle cycle-plant1-other; it cannot close this cycle`,
    });
    expect(checkReceipt({ ...input, manifestSha256: '0'.repeat(64) })?.code).toBe('receipt-other-package');
    expect(checkReceipt({ ...input, siteId: 'plant2' })?.code).toBe('other-site');
  });
});

describe('the confirmation code', () => {
  const code = confirmationCode(statementOfReceipt(receipt));

  it('is 10 base32 characters shown in two groups of five', () => {
    expect(code).toMatch(/^[A-Z2-7]{5}-[A-Z2-7]{5}$/);
  });

  it('typed on the DMZ side, tells which relays imported', () => {
    expect(matchConfirmationCode({ ...base, typed: code })).toEqual({
      ok: true,
      value: { imported: ['ag-relay-1'], failed: ['ag-relay-2'] },
    });
  });

  it('is read the way people type it: lower case, blanks, no dash, 0 for O and 1 for I', () => {
    const bare = code.replace('-', '');
    expect(normaliseCode(` ${bare.toLowerCase().slice(0, 5)} ${bare.slice(5)} `)).toBe(bare);
    expect(normaliseCode(bare.replace(/O/g, '0').replace(/I/g, '1'))).toBe(bare);
    expect(normaliseCode('ABCDE')).toBeUndefined();
  });

  it("refuses a wrong code: a typo, another cycle's code, another package's, another site's", () => {
    const typo = code.slice(0, -1) + (code.endsWith('A') ? 'B' : 'A');
    const otherCycle = confirmationCode({ ...statementOfReceipt(receipt), cycleId: 'cycle-plant1-other' });
    const otherPackage = confirmationCode({ ...statementOfReceipt(receipt), manifestSha256: '0'.repeat(64) });
    const otherSite = confirmationCode({ ...statementOfReceipt(receipt), site: 'plant2' });
    for (const typed of [typo, otherCycle, otherPackage, otherSite]) {
      const result = matchConfirmationCode({ ...base, typed });
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.refusal.code).toBe('wrong-code');
        expect(result.refusal.message).toContain(`does not match any outcome of cycle ${receipt.cycleId}'s package`);
      }
    }
    const garbage = matchConfirmationCode({ ...base, typed: 'hello' });
    expect(!garbage.ok && garbage.refusal.message).toMatch(/"hello" is not a confirmation code/);
  });

  it('with a shared confirmation key is an HMAC: the plain code no longer matches', () => {
    const key = Buffer.from('a shared secret carried once by hand');
    const keyed = confirmationCode(statementOfReceipt(receipt), key);
    expect(keyed).not.toBe(code);
    expect(matchConfirmationCode({ ...base, typed: keyed, key }).ok).toBe(true);
    expect(matchConfirmationCode({ ...base, typed: code, key }).ok).toBe(false);
    expect(matchConfirmationCode({ ...base, typed: keyed }).ok).toBe(false);
  });
});

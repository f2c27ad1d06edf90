import { canonicalJson, NotCanonicalError } from '../../src/domain/canonical-json';
import {
  checkIntake,
  lastImportedVersions,
  skippedPackage,
  manifestText,
  MANIFEST_FORMAT,
  parseManifest,
  type ImportedPackage,
  type TransferManifest,
} from '../../src/domain/transfer-package';
import { cycleFileStem } from '../../src/domain/transfer-refusal';

const DIGEST_A = 'a'.repeat(64);
const DIGEST_B = 'b'.repeat(64);

const manifest: TransferManifest = {
  format: MANIFEST_FORMAT,
  site: 'plant1',
  cycleId: 'cycle-plant1-2026-12-01T06-00-00Z-3f9a',
  previousCycleId: null,
  zip: { name: 'ds_update_bundle_20261201T060000Z.zip', size: 1234, sha256: DIGEST_A },
  versions: [
    { name: 'pattern', version: '20.0.877' },
    { name: 'rules', version: '26-052' },
  ],
  createdAt: '2026-12-01T06:00:00.000Z',
  installationId: 'dmz-plant1',
  keyId: `ed25519:${'c'.repeat(32)}`,
};

const imported = (over: Partial<ImportedPackage>): ImportedPackage => ({
  cycleId: 'cycle-plant1-old',
  manifestSha256: DIGEST_B,
  zipSha256: DIGEST_B,
  versions: [{ name: 'pattern', version: '20.0.800' }],
  importedAt: '2026-11-24T08:00:00.000Z',
  ...over,
});

describe('the canonical byte form of a signed document', () => {
  it('is the same text whatever order the fields were built in, sorted, indented, ending in a newline', () => {
    const a = canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 'x' } });
    const b = canonicalJson({ a: { c: 'x', d: [2, { y: 2, z: 1 }] }, b: 1 });
    expect(a).toBe(b);
    expect(a).toBe(
      '{\n  "a": {\n    "c": "x",\n    "d": [\n      2,\n      {\n        "y": 2,\n        "z": 1\n      }\n    ]\n  },\n  "b": 1\n}\n',
    );
  });

  it('drops a field set to undefined, as if it were absent', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('refuses values without one JSON form, naming where', () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow(NotCanonicalError);
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow(/\$\.a\[1\]: NaN is not a finite number/);
  });
});

describe('the transfer manifest', () => {
  it('round-trips through its canonical text', () => {
    const text = manifestText(manifest);
    expect(text.endsWith('}\n')).toBe(true);
    const parsed = parseManifest(text);
    expect(parsed).toEqual({ ok: true, value: manifest });
    // Building the same manifest in another key order gives the same bytes: the signature is reproducible.
    const reordered = Object.fromEntries(Object.entries(manifest).reverse()) as unknown as TransferManifest;
    expect(manifestText(reordered)).toBe(text);
  });

  it.each([
    ['not JSON', '{', /manifest\.json is not JSON/],
    ['a format it does not know', { ...manifest, format: 'other/9' }, /format: expected "airgap-transfer-manifest\/1"/],
    ['an unknown field', { ...manifest, extra: 1 }, /unknown field\(s\) extra/],
    ['a zip name that walks folders', { ...manifest, zip: { ...manifest.zip, name: '../evil.zip' } }, /zip\.name/],
    ['a digest that is not SHA-256 hex', { ...manifest, zip: { ...manifest.zip, sha256: 'ABC' } }, /zip\.sha256/],
    ['a negative size', { ...manifest, zip: { ...manifest.zip, size: -1 } }, /zip\.size/],
    ['a version without a name', { ...manifest, versions: [{ version: '1' }] }, /versions\.0\.name/],
    ['a local time', { ...manifest, createdAt: '2026-12-01 06:00' }, /createdAt: expected an ISO-8601 UTC time/],
    ['no key id', { ...manifest, keyId: undefined }, /keyId: expected ed25519:/],
  ])('refuses %s as malformed, naming the field', (_what, doc, reason) => {
    const parsed = parseManifest(typeof doc === 'string' ? doc : JSON.stringify(doc));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.refusal.code).toBe('malformed-manifest');
    expect(parsed.refusal.message).toMatch(reason);
  });

  it('gives a cycle id a file name safe on any medium', () => {
    expect(cycleFileStem('cycle-plant1-2026-12-01T06:00:00Z')).toBe('cycle-plant1-2026-12-01T06-00-00Z');
  });
});

describe('checking a verified package against what the air-gapped side imported', () => {
  const input = { manifest, manifestSha256: DIGEST_B.replace(/b/g, 'd'), siteId: 'plant1' };

  it('accepts a newer package for this site that was not taken in before', () => {
    expect(checkIntake({ ...input, imported: [imported({})] })).toBeUndefined();
    expect(checkIntake({ ...input, imported: [] })).toBeUndefined();
  });

  it('refuses a package for another site, naming both', () => {
    expect(checkIntake({ ...input, siteId: 'plant2', imported: [] })).toEqual({
      code: 'other-site',
      message: `package ${manifest.cycleId} is for site "plant1", but this installation serves site "plant2"`,
    });
  });

  it('refuses the same package a second time: "already imported by cycle X"', () => {
    const first = imported({ cycleId: manifest.cycleId, manifestSha256: input.manifestSha256, zipSha256: DIGEST_A });
    const refused = checkIntake({ ...input, imported: [first] });
    expect(refused?.code).toBe('already-imported');
    expect(refused?.message).toBe(
      `package ${manifest.cycleId} was already imported by cycle ${manifest.cycleId} at 2026-11-24T08:00:00.000Z; nothing is imported twice`,
    );
  });

  it('refuses the same zip sent again under another cycle, naming the cycle that imported it', () => {
    const refused = checkIntake({
      ...input,
      imported: [imported({ cycleId: 'cycle-plant1-earlier', zipSha256: DIGEST_A })],
    });
    expect(refused?.code).toBe('already-imported');
    expect(refused?.message).toMatch(/the zip of package .* was already imported by cycle cycle-plant1-earlier/);
  });

  it('refuses a package older than what this side last imported (rollback), listing each component', () => {
    const newer = imported({
      versions: [
        { name: 'pattern', version: '20.0.900' },
        { name: 'rules', version: '26-052' },
      ],
    });
    const refused = checkIntake({ ...input, imported: [newer] });
    expect(refused).toEqual({
      code: 'older-versions',
      message: `package ${manifest.cycleId} is older than what this side last imported (pattern 20.0.877 < 20.0.900); a rollback is refused`,
    });
  });

  it('compares against the most recent import of each component, not the first', () => {
    const older = imported({
      cycleId: 'c1',
      versions: [{ name: 'rules', version: '26-060' }],
      importedAt: '2026-11-01T00:00:00Z',
    });
    const later = imported({
      cycleId: 'c2',
      versions: [{ name: 'rules', version: '26-050' }],
      importedAt: '2026-11-20T00:00:00Z',
    });
    expect(lastImportedVersions([later, older])).toEqual([{ name: 'rules', version: '26-050' }]);
    expect(checkIntake({ ...input, imported: [later, older] })).toBeUndefined();
  });

  it('tells which earlier package this side never took in, without refusing the newer one', () => {
    const next = { ...manifest, previousCycleId: 'cycle-plant1-lost' };
    expect(skippedPackage(next, [imported({})])).toBe('cycle-plant1-lost');
    expect(skippedPackage(next, [imported({ cycleId: 'cycle-plant1-lost' })])).toBeUndefined();
    expect(skippedPackage(next, [])).toBeUndefined();
    expect(checkIntake({ ...input, manifest: next, imported: [imported({})] })).toBeUndefined();
  });
});

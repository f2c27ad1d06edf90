/**
 * The medium of an isolated site with real files, real keys and the real `openssl` binary: the
 * signatures are what the README promises (openssl pkeyutl -verify -rawin), and every bad package
 * or receipt is refused with its reason before anything in it is used.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  generateSigningKeyPair,
  keyIdOf,
  loadOwnKey,
  loadTrustedKeys,
  KeyMaterialError,
  type TrustedKey,
} from '../../src/adapters/signing';
import {
  listPackages,
  listReceipts,
  packageFolderOf,
  readPackage,
  readReceipt,
  writePackage,
  writeReceipt,
  MediumConflictError,
  publishStagedPackage,
  removePackage,
  signManifest,
  stagePackageZip,
  stagingFolderOf,
  type StagedZip,
} from '../../src/adapters/transfer-medium';
import { checkIntake, manifestText, parseManifest } from '../../src/domain/transfer-package';
import { checkReceipt } from '../../src/domain/transfer-receipt';

const NOW = new Date('2026-12-01T06:00:00Z');
const CYCLE = 'cycle-plant1-2026-12-01T06:00:00Z';

interface Side {
  dir: string;
  privateKeyFile: string;
  publicKeyFile: string;
}

function makeSide(root: string, name: string): Side {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  const pair = generateSigningKeyPair();
  const side = {
    dir,
    privateKeyFile: path.join(dir, `${name}.key.pem`),
    publicKeyFile: path.join(dir, `${name}.pub.pem`),
  };
  fs.writeFileSync(side.privateKeyFile, pair.privateKeyPem, { mode: 0o600 });
  fs.writeFileSync(side.publicKeyFile, pair.publicKeyPem);
  return side;
}

function privateKey(side: Side) {
  return loadOwnKey({ at: 'test', keyFile: side.privateKeyFile });
}

function trust(...sides: Array<Side | { side: Side; validUntil: string }>): TrustedKey[] {
  return loadTrustedKeys(
    'trust',
    sides.map((s) =>
      'side' in s
        ? { publicKeyFile: s.side.publicKeyFile, validUntil: s.validUntil }
        : { publicKeyFile: s.publicKeyFile },
    ),
  );
}

function openssl(publicKeyFile: string, file: string): { ok: boolean; output: string } {
  const r = spawnSync(
    'openssl',
    ['pkeyutl', '-verify', '-pubin', '-inkey', publicKeyFile, '-rawin', '-in', file, '-sigfile', `${file}.sig`],
    {
      encoding: 'utf8',
    },
  );
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

describe('the transfer medium', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-medium-'));
  const dmz = makeSide(root, 'dmz');
  const airgapped = makeSide(root, 'airgapped');
  const stranger = makeSide(root, 'stranger');
  const source = path.join(root, 'dmz-relay');
  const zipName = 'ds_update_bundle_20261201T060000Z.zip';
  const zipPath = path.join(source, zipName);
  fs.mkdirSync(source);
  fs.writeFileSync(zipPath, randomBytes(300_000));
  let counter = 0;

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A fresh medium holding one package written by the DMZ side. */
  async function mediumWithPackage(key = privateKey(dmz), cycleId = CYCLE) {
    const medium = path.join(root, `medium-${++counter}`);
    fs.mkdirSync(medium);
    const written = await writePackage({
      medium,
      zipPath,
      site: 'plant1',
      cycleId,
      previousCycleId: null,
      versions: [{ name: 'pattern', version: '20.0.877' }],
      installationId: 'dmz-plant1',
      privateKey: key,
      now: NOW,
    });
    return { medium, written, folder: written.folder, zipCopy: path.join(written.folder, zipName) };
  }

  it('writes the zip unrenamed, manifest.json and manifest.json.sig, and nothing else', async () => {
    const { medium, folder, written } = await mediumWithPackage();
    expect(fs.readdirSync(medium)).toEqual(['airgap-package-cycle-plant1-2026-12-01T06-00-00Z']);
    expect(fs.readdirSync(folder).sort()).toEqual([
      'ds_update_bundle_20261201T060000Z.zip',
      'manifest.json',
      'manifest.json.sig',
    ]);
    expect(fs.readFileSync(path.join(folder, zipName))).toEqual(fs.readFileSync(zipPath));
    const text = fs.readFileSync(path.join(folder, 'manifest.json'), 'utf8');
    expect(text).toBe(manifestText(written.manifest));
    expect(written.manifest.zip).toEqual({
      name: zipName,
      size: 300_000,
      sha256: execFileSync('openssl', ['dgst', '-sha256', '-r', zipPath], { encoding: 'utf8' }).split(' ')[0],
    });
    expect(written.manifest.keyId).toBe(keyIdOf(privateKey(dmz)));
    expect(fs.statSync(path.join(folder, 'manifest.json.sig')).size).toBe(64);
  });

  it('signs manifest.json so that openssl verifies it offline, and openssl rejects an altered one', async () => {
    const { folder } = await mediumWithPackage();
    const manifest = path.join(folder, 'manifest.json');
    expect(openssl(dmz.publicKeyFile, manifest)).toEqual({
      ok: true,
      output: expect.stringContaining('Signature Verified Successfully'),
    });
    expect(openssl(stranger.publicKeyFile, manifest).ok).toBe(false);
    fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace('20.0.877', '20.0.999'));
    expect(openssl(dmz.publicKeyFile, manifest)).toEqual({
      ok: false,
      output: expect.stringContaining('Signature Verification Failure'),
    });
  });

  it('reads back a verified package with its manifest digest and the key that signed it', async () => {
    const { medium, folder, written } = await mediumWithPackage();
    expect(await listPackages(medium)).toEqual([folder]);
    const read = await readPackage({ folder, trusted: trust(dmz), now: NOW });
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value.manifest).toEqual(written.manifest);
    expect(read.value.manifestSha256).toBe(written.manifestSha256);
    expect(read.value.zipPath).toBe(path.join(folder, zipName));
    expect(read.value.signer.source).toBe(dmz.publicKeyFile);
  });

  it('writing the same cycle again returns the package already there; another zip under its name is a conflict', async () => {
    const { medium, written } = await mediumWithPackage();
    const again = await writePackage({
      ...written.manifest,
      medium,
      zipPath,
      privateKey: privateKey(dmz),
      now: new Date(),
    });
    expect(again.manifestSha256).toBe(written.manifestSha256);
    const otherZip = path.join(root, 'other', zipName);
    fs.mkdirSync(path.dirname(otherZip), { recursive: true });
    fs.writeFileSync(otherZip, 'another zip');
    await expect(
      writePackage({ ...written.manifest, medium, zipPath: otherZip, privateKey: privateKey(dmz), now: NOW }),
    ).rejects.toThrow(MediumConflictError);
  });

  it('never lists a half-written package (hidden temporary name until complete)', async () => {
    const medium = path.join(root, `medium-${++counter}`);
    fs.mkdirSync(path.join(medium, '.airgap-package-x.partial-1234'), { recursive: true });
    expect(await listPackages(medium)).toEqual([]);
  });

  describe('refuses, with the reason, and gives nothing of the package', () => {
    const refusalOf = async (folder: string, trusted = trust(dmz), now = NOW) => {
      const read = await readPackage({ folder, trusted, now });
      if (read.ok) throw new Error('expected a refusal');
      return read.refusal;
    };

    it('a manifest edited after signing', async () => {
      const { folder } = await mediumWithPackage();
      const file = path.join(folder, 'manifest.json');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"plant1"', '"plant9"'));
      const refusal = await refusalOf(folder);
      expect(refusal.code).toBe('bad-signature');
      expect(refusal.message).toMatch(
        /manifest\.json of package .*: the signature does not verify with key ed25519:[0-9a-f]{32}; it was changed after it was signed/,
      );
    });

    it('a zip swapped for another (the manifest left as signed)', async () => {
      const { folder, zipCopy } = await mediumWithPackage();
      fs.writeFileSync(zipCopy, randomBytes(300_000));
      const refusal = await refusalOf(folder);
      expect(refusal.code).toBe('sha256-mismatch');
      expect(refusal.message).toMatch(
        /has SHA-256 [0-9a-f]{64}, the signed manifest says [0-9a-f]{64}: it is not the zip that was signed/,
      );
    });

    it('a zip swapped for another with a valid-looking manifest (its size and digest written in)', async () => {
      const { folder, zipCopy } = await mediumWithPackage();
      const other = randomBytes(1000);
      fs.writeFileSync(zipCopy, other);
      const file = path.join(folder, 'manifest.json');
      const parsed = parseManifest(fs.readFileSync(file, 'utf8'));
      if (!parsed.ok) throw new Error('the written manifest must parse');
      const forged = {
        ...parsed.value,
        zip: {
          ...parsed.value.zip,
          size: other.length,
          sha256: execFileSync('openssl', ['dgst', '-sha256', '-r', zipCopy], { encoding: 'utf8' }).split(' ')[0]!,
        },
      };
      fs.writeFileSync(file, manifestText(forged));
      expect((await refusalOf(folder)).code).toBe('bad-signature');
    });

    it('a manifest signed by an unknown key', async () => {
      const { folder } = await mediumWithPackage(privateKey(stranger));
      const refusal = await refusalOf(folder);
      expect(refusal.code).toBe('unknown-key');
      expect(refusal.message).toContain(
        `is signed by key ${keyIdOf(privateKey(stranger))}, which is not trusted here (trusted: ${keyIdOf(privateKey(dmz))})`,
      );
    });

    it('a manifest re-signed by an unknown key that claims a trusted key id', async () => {
      const { folder } = await mediumWithPackage();
      const file = path.join(folder, 'manifest.json');
      const { sign } = await import('node:crypto');
      fs.writeFileSync(
        `${file}.sig`,
        sign(null, fs.readFileSync(file), createPrivateKey(fs.readFileSync(stranger.privateKeyFile))),
      );
      expect((await refusalOf(folder)).code).toBe('bad-signature');
    });

    it('a truncated zip (an interrupted copy)', async () => {
      const { folder, zipCopy } = await mediumWithPackage();
      fs.truncateSync(zipCopy, 100_000);
      const refusal = await refusalOf(folder);
      expect(refusal).toEqual({
        code: 'size-mismatch',
        message: `${zipName} in package ${path.basename(folder)} has 100000 bytes, the manifest says 300000: the zip is truncated (an interrupted copy?)`,
      });
    });

    it('a package without its signature or its zip', async () => {
      const a = await mediumWithPackage();
      fs.rmSync(path.join(a.folder, 'manifest.json.sig'));
      expect(await refusalOf(a.folder)).toEqual({
        code: 'missing-file',
        message: `package ${path.basename(a.folder)} has no manifest.json.sig`,
      });
      const b = await mediumWithPackage();
      fs.rmSync(b.zipCopy);
      expect(await refusalOf(b.folder)).toEqual({
        code: 'missing-file',
        message: `${zipName}, named by the manifest, is missing in package ${path.basename(b.folder)}`,
      });
    });

    it('a zip replaced by a link, even to a file with the signed content', async () => {
      const { folder, zipCopy } = await mediumWithPackage();
      const elsewhere = path.join(root, `elsewhere-${counter}.zip`);
      fs.renameSync(zipCopy, elsewhere);
      fs.symlinkSync(elsewhere, zipCopy);
      const refusal = await refusalOf(folder);
      expect(refusal.code).toBe('missing-file');
      expect(refusal.message).toContain('is not a plain file (a link or a folder)');
    });

    it('a package for another site, older versions, or one already imported (checked after the signature)', async () => {
      const { folder } = await mediumWithPackage();
      const read = await readPackage({ folder, trusted: trust(dmz), now: NOW });
      if (!read.ok) throw new Error(read.refusal.message);
      const { manifest, manifestSha256 } = read.value;
      expect(checkIntake({ manifest, manifestSha256, siteId: 'plant2', imported: [] })?.code).toBe('other-site');
      const later = {
        cycleId: 'cycle-later',
        manifestSha256: '1'.repeat(64),
        zipSha256: '2'.repeat(64),
        versions: [{ name: 'pattern', version: '20.0.900' }],
        importedAt: '2026-11-30T00:00:00Z',
      };
      expect(checkIntake({ manifest, manifestSha256, siteId: 'plant1', imported: [later] })?.code).toBe(
        'older-versions',
      );
      const same = { ...later, cycleId: CYCLE, manifestSha256, versions: manifest.versions };
      expect(checkIntake({ manifest, manifestSha256, siteId: 'plant1', imported: [same] })?.message).toContain(
        `already imported by cycle ${CYCLE}`,
      );
    });
  });

  describe('key rotation', () => {
    it('accepts a package signed by the previous key until its overlap ends, then refuses it', async () => {
      const previous = makeSide(root, 'dmz-previous');
      const current = makeSide(root, 'dmz-current');
      const { folder } = await mediumWithPackage(privateKey(previous));
      const trusted = trust(current, { side: previous, validUntil: '2026-12-15T00:00:00.000Z' });
      expect((await readPackage({ folder, trusted, now: NOW })).ok).toBe(true);
      const late = await readPackage({ folder, trusted, now: new Date('2026-12-15T00:00:01Z') });
      expect(late.ok).toBe(false);
      if (!late.ok) {
        expect(late.refusal.code).toBe('key-expired');
        expect(late.refusal.message).toContain('whose overlap ended at 2026-12-15T00:00:00.000Z');
      }
    });
  });

  describe('receipts', () => {
    async function withReceipt(key = privateKey(airgapped), cycleId = CYCLE) {
      const { medium, written } = await mediumWithPackage();
      const receipt = await writeReceipt({
        medium,
        site: 'plant1',
        cycleId,
        manifestSha256: written.manifestSha256,
        relays: [{ relay: 'ag-relay', outcome: 'imported', versions: [{ name: 'pattern', version: '20.0.877' }] }],
        installationId: 'ag-plant1',
        privateKey: key,
        now: new Date('2026-12-02T09:00:00Z'),
      });
      return { medium, written, receipt };
    }

    it('are signed so that openssl verifies them offline, and openssl rejects an altered one', async () => {
      const { medium, receipt } = await withReceipt();
      expect(await listReceipts(medium)).toEqual([receipt.folder]);
      const file = path.join(receipt.folder, 'receipt.json');
      expect(openssl(airgapped.publicKeyFile, file).ok).toBe(true);
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"imported"', '"failed"'));
      expect(openssl(airgapped.publicKeyFile, file).ok).toBe(false);
    });

    it('read back verified, close the cycle they answer', async () => {
      const { written, receipt } = await withReceipt();
      const read = await readReceipt({ folder: receipt.folder, trusted: trust(airgapped), now: NOW });
      if (!read.ok) throw new Error(read.refusal.message);
      expect(read.value.receipt).toEqual(receipt.receipt);
      expect(
        checkReceipt({
          receipt: read.value.receipt,
          siteId: 'plant1',
          cycleId: CYCLE,
          manifestSha256: written.manifestSha256,
        }),
      ).toBeUndefined();
    });

    it("refuses a receipt signed by the wrong key (the DMZ key, or a stranger's)", async () => {
      for (const key of [privateKey(dmz), privateKey(stranger)]) {
        const { receipt } = await withReceipt(key);
        const read = await readReceipt({ folder: receipt.folder, trusted: trust(airgapped), now: NOW });
        expect(!read.ok && read.refusal.code).toBe('unknown-key');
      }
    });

    it('refuses an altered receipt', async () => {
      const { receipt } = await withReceipt();
      const file = path.join(receipt.folder, 'receipt.json');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"imported"', '"failed"'));
      const read = await readReceipt({ folder: receipt.folder, trusted: trust(airgapped), now: NOW });
      expect(!read.ok && read.refusal.code).toBe('bad-signature');
    });

    it('refuses a receipt for another cycle', async () => {
      const { written, receipt } = await withReceipt(privateKey(airgapped), 'cycle-plant1-other');
      const read = await readReceipt({ folder: receipt.folder, trusted: trust(airgapped), now: NOW });
      if (!read.ok) throw new Error(read.refusal.message);
      expect(
        checkReceipt({
          receipt: read.value.receipt,
          siteId: 'plant1',
          cycleId: CYCLE,
          manifestSha256: written.manifestSha256,
        }),
      ).toEqual({
        code: 'receipt-other-cycle',
        message: `the receipt is for cycle cycle-plant1-other, not for cycle ${CYCLE}; it cannot close this cycle`,
      });
    });
  });

  describe('key material', () => {
    it('names the setting when the own key file is missing, unreadable, public or not Ed25519', () => {
      const at = 'sites.0.isolated';
      const missing = path.join(root, 'nope.key.pem');
      expect(() => loadOwnKey({ at, keyFile: missing })).toThrow(KeyMaterialError);
      expect(() => loadOwnKey({ at, keyFile: missing })).toThrow(
        `sites.0.isolated.keyFile: ${missing} does not exist; make one with "airgap keys init"`,
      );
      expect(() => loadOwnKey({ at, keyFile: dmz.publicKeyFile })).toThrow(
        /sites\.0\.isolated\.keyFile: .* holds no private key in PEM form/,
      );
      const rsa = path.join(root, 'rsa.pem');
      fs.writeFileSync(
        rsa,
        execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }),
      );
      expect(() => loadOwnKey({ at, keyFile: rsa })).toThrow(/holds a rsa key; expected Ed25519/);
      if (process.getuid?.() !== 0) {
        const locked = path.join(root, 'locked.key.pem');
        fs.copyFileSync(dmz.privateKeyFile, locked);
        fs.chmodSync(locked, 0o000);
        expect(() => loadOwnKey({ at, keyFile: locked })).toThrow(
          `sites.0.isolated.keyFile: ${locked} is not readable by this process`,
        );
      }
    });

    it('reads the own key from the environment it is given, naming the variable when it is unset', () => {
      const pem = fs.readFileSync(dmz.privateKeyFile, 'utf8');
      expect(keyIdOf(loadOwnKey({ at: 'x', keyEnv: 'DMZ_SIGNING_KEY', keyPem: pem }))).toBe(keyIdOf(privateKey(dmz)));
      expect(() => loadOwnKey({ at: 'x', keyEnv: 'DMZ_SIGNING_KEY' })).toThrow(
        'x.keyEnv: environment variable DMZ_SIGNING_KEY is not set',
      );
    });

    it('names the trusted key setting by its index, and refuses a private key given as a public one', () => {
      expect(() =>
        loadTrustedKeys('t', [
          { publicKeyFile: dmz.publicKeyFile },
          { publicKeyFile: path.join(root, 'gone.pub.pem') },
        ]),
      ).toThrow(/^t\.1\.publicKeyFile: .*gone\.pub\.pem does not exist/);
      expect(() => loadTrustedKeys('t', [{ publicKeyFile: dmz.privateKeyFile }])).toThrow(
        /t\.0\.publicKeyFile: .* holds a PRIVATE key/,
      );
    });
  });

  it('writes packages with a medium folder the reader finds by cycle id', () => {
    expect(packageFolderOf('/m', CYCLE)).toBe('/m/airgap-package-cycle-plant1-2026-12-01T06-00-00Z');
  });
});

describe('a package written in two halves: staged by the relay, signed by the control worker, published by the relay', () => {
  let root: string;
  let dmz: Side;
  let medium: string;
  let zipPath: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-staged-'));
    dmz = makeSide(root, 'dmz');
    medium = path.join(root, 'medium');
    fs.mkdirSync(medium);
    zipPath = path.join(root, 'ds_update_bundle_20261201.zip');
    fs.writeFileSync(zipPath, randomBytes(50_000));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const sign = (zip: StagedZip['zip']) =>
    signManifest({
      site: 'plant1',
      cycleId: CYCLE,
      previousCycleId: null,
      zip,
      versions: [{ name: 'pattern', version: '1.2.3' }],
      installationId: 'dmz-plant1',
      privateKey: privateKey(dmz),
      now: NOW,
    });

  it('hides the package until it is published, then it reads back verified; a retry changes nothing', async () => {
    const staged = await stagePackageZip({ medium, cycleId: CYCLE, zipPath });
    expect(staged.zip.name).toBe('ds_update_bundle_20261201.zip');
    // Only a hidden staging folder: listPackages (and a courier's eye) see no package yet.
    expect(await listPackages(medium)).toEqual([]);
    expect(fs.readdirSync(medium)).toEqual([path.basename(stagingFolderOf(medium, CYCLE))]);
    const signed = sign(staged.zip);
    const published = await publishStagedPackage({ medium, cycleId: CYCLE, ...signed });
    expect(published).toEqual({ folder: packageFolderOf(medium, CYCLE), manifestSha256: signed.manifestSha256 });
    expect(fs.readdirSync(medium)).toEqual([path.basename(published.folder)]);
    const read = await readPackage({ folder: published.folder, trusted: trust(dmz), now: NOW });
    expect(read).toMatchObject({ ok: true, value: { manifestSha256: signed.manifestSha256 } });
    // A retried activity of either half finds the published package.
    expect(await stagePackageZip({ medium, cycleId: CYCLE, zipPath })).toEqual(staged);
    expect(await publishStagedPackage({ medium, cycleId: CYCLE, ...signed })).toEqual(published);
  });

  it('refuses to publish over another package of the cycle, or a staged zip of another size', async () => {
    const staged = await stagePackageZip({ medium, cycleId: CYCLE, zipPath });
    fs.truncateSync(path.join(stagingFolderOf(medium, CYCLE), staged.zip.name), 10);
    await expect(publishStagedPackage({ medium, cycleId: CYCLE, ...sign(staged.zip) })).rejects.toThrow(
      /is 10 bytes, not 50000/,
    );
    const again = await stagePackageZip({ medium, cycleId: CYCLE, zipPath });
    await publishStagedPackage({ medium, cycleId: CYCLE, ...sign(again.zip) });
    const other = sign({ ...again.zip, sha256: 'f'.repeat(64) });
    await expect(publishStagedPackage({ medium, cycleId: CYCLE, ...other })).rejects.toThrow(MediumConflictError);
  });

  it('removes a package, published or only staged; absent is fine', async () => {
    const staged = await stagePackageZip({ medium, cycleId: CYCLE, zipPath });
    expect(await removePackage({ medium, cycleId: CYCLE })).toEqual({
      folder: packageFolderOf(medium, CYCLE),
      removed: true,
    });
    expect(fs.readdirSync(medium)).toEqual([]);
    await stagePackageZip({ medium, cycleId: CYCLE, zipPath });
    await publishStagedPackage({ medium, cycleId: CYCLE, ...sign(staged.zip) });
    // A cycle that never published removes only its staging folder, never a published package.
    expect((await removePackage({ medium, cycleId: CYCLE, stagingOnly: true })).removed).toBe(false);
    expect(fs.existsSync(packageFolderOf(medium, CYCLE))).toBe(true);
    expect((await removePackage({ medium, cycleId: CYCLE })).removed).toBe(true);
    expect(fs.readdirSync(medium)).toEqual([]);
    expect((await removePackage({ medium, cycleId: CYCLE })).removed).toBe(false);
  });
});

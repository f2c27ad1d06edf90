/**
 * The removable medium of an isolated site: the only thing the DMZ and the air-gapped
 * installations share. Packages go in, receipts come back, each as its own folder:
 *
 *   <medium>/airgap-package-<cycle>/<zip as dsa_control named it>
 *                                   manifest.json   manifest.json.sig
 *   <medium>/airgap-receipt-<cycle>/receipt.json    receipt.json.sig
 *
 * Each folder is written under a hidden temporary name (".airgap-…partial-…") and renamed when
 * complete, so a reader never takes in a half-written package (a rename within one file system is
 * atomic; readers skip names starting with "."). Reading verifies everything before anything is
 * used: the signature against the trusted keys (rotated ones until their overlap ends), the zip's
 * size, then its SHA-256, streamed with the same code that checks a bundle on a relay.
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ComponentVersion } from '../domain/cycle';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  manifestText,
  parseManifest,
  SIGNATURE_SUFFIX,
  type TransferManifest,
} from '../domain/transfer-package';
import { cycleFileStem, refusal, type Checked } from '../domain/transfer-refusal';
import {
  parseReceipt,
  RECEIPT_FILE,
  RECEIPT_FORMAT,
  receiptText,
  type RelayOutcome,
  type TransferReceipt,
} from '../domain/transfer-receipt';
import { sha256File } from './host-files';
import { keyIdOf, signBytes, verifyDetached, type TrustedKey } from './signing';

export const PACKAGE_PREFIX = 'airgap-package-';
export const RECEIPT_PREFIX = 'airgap-receipt-';

export function packageFolderOf(medium: string, cycleId: string): string {
  return path.join(medium, `${PACKAGE_PREFIX}${cycleFileStem(cycleId)}`);
}

export function receiptFolderOf(medium: string, cycleId: string): string {
  return path.join(medium, `${RECEIPT_PREFIX}${cycleFileStem(cycleId)}`);
}

/** Thrown when the medium already holds a different package or receipt under the same cycle's name. */
export class MediumConflictError extends Error {
  constructor(
    readonly folder: string,
    message: string,
  ) {
    super(`${folder}: ${message}`);
    this.name = 'MediumConflictError';
  }
}

function sha256Of(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

async function fsyncPath(p: string): Promise<void> {
  const handle = await fs.promises.open(p, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems (and Windows folders) cannot sync a directory; the rename is still atomic.
  } finally {
    await handle.close();
  }
}

async function writeSynced(file: string, data: Buffer | string): Promise<void> {
  const handle = await fs.promises.open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Fills a hidden temporary folder next to `final` and renames it into place. `fill` gets the
 * temporary folder. The temporary folder is removed when anything fails.
 */
async function publishFolder(final: string, fill: (temp: string) => Promise<void>): Promise<void> {
  const parent = path.dirname(final);
  const temp = path.join(parent, `.${path.basename(final)}.partial-${randomBytes(4).toString('hex')}`);
  await fs.promises.mkdir(temp);
  try {
    await fill(temp);
    await fsyncPath(temp);
    await fs.promises.rename(temp, final);
  } catch (err) {
    await fs.promises.rm(temp, { recursive: true, force: true });
    throw err;
  }
  await fsyncPath(parent);
}

async function readIfPresent(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.promises.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export interface WritePackageInput {
  /** The outbound folder (the mounted medium). */
  medium: string;
  /** The zip on the DMZ side, as dsa_control made it; copied under its own name. */
  zipPath: string;
  site: string;
  cycleId: string;
  previousCycleId: string | null;
  versions: ComponentVersion[];
  installationId: string;
  privateKey: KeyObject;
  now: Date;
}

export interface WrittenPackage {
  folder: string;
  manifest: TransferManifest;
  /** SHA-256 of manifest.json's bytes: what the receipt must name. */
  manifestSha256: string;
}

/**
 * Writes a cycle's package onto the medium. Idempotent for a retried activity: when the medium
 * already holds this cycle's package with the same zip, that package is returned; a different
 * one under the same name is a MediumConflictError.
 */
export async function writePackage(input: WritePackageInput): Promise<WrittenPackage> {
  const folder = packageFolderOf(input.medium, input.cycleId);
  const zipName = path.basename(input.zipPath);
  const existing = await readIfPresent(path.join(folder, MANIFEST_FILE));
  if (existing) {
    const parsed = parseManifest(existing.toString('utf8'));
    const source = await sha256File(input.zipPath);
    if (parsed.ok && parsed.value.cycleId === input.cycleId && parsed.value.zip.sha256 === source.sha256) {
      return { folder, manifest: parsed.value, manifestSha256: sha256Of(existing) };
    }
    throw new MediumConflictError(folder, `holds another package for cycle ${input.cycleId}; remove it first`);
  }
  let written: WrittenPackage | undefined;
  await publishFolder(folder, async (temp) => {
    const copy = path.join(temp, zipName);
    await fs.promises.copyFile(input.zipPath, copy, fs.constants.COPYFILE_EXCL);
    await fsyncPath(copy);
    // The digest is of the copy on the medium: what the air-gapped side will read.
    const { sha256, size } = await sha256File(copy);
    const signed = signManifest({ ...input, zip: { name: zipName, size, sha256 } });
    await writeSynced(path.join(temp, MANIFEST_FILE), signed.manifestText);
    await writeSynced(path.join(temp, MANIFEST_FILE + SIGNATURE_SUFFIX), Buffer.from(signed.signature, 'base64'));
    written = { folder, manifest: signed.manifest, manifestSha256: signed.manifestSha256 };
  });
  return written!;
}

/**
 * A package written in two halves, for a DMZ relay that is not the control machine: the relay's
 * host worker copies the zip into the package's hidden staging folder and hashes the copy
 * (`stagePackageZip`), the control worker, which alone holds the key, signs the manifest
 * (`signManifest`), and the host worker writes manifest and signature next to the zip and renames
 * the folder into place (`publishStagedPackage`). The staging folder's name is fixed per cycle, so
 * a retried activity finds what the earlier attempt did.
 */
export function stagingFolderOf(medium: string, cycleId: string): string {
  const final = packageFolderOf(medium, cycleId);
  return path.join(path.dirname(final), `.${path.basename(final)}.partial`);
}

export interface StagedZip {
  /** The package folder the zip will be published in (on the medium, as this host sees it). */
  folder: string;
  zip: { name: string; size: number; sha256: string };
}

/** Copies the zip, unrenamed, into the cycle's staging folder and hashes the copy. */
export async function stagePackageZip(input: { medium: string; cycleId: string; zipPath: string }): Promise<StagedZip> {
  const folder = packageFolderOf(input.medium, input.cycleId);
  const name = path.basename(input.zipPath);
  const published = await readIfPresent(path.join(folder, MANIFEST_FILE));
  if (published) {
    // A retry after the package was published: what it holds is the answer.
    const parsed = parseManifest(published.toString('utf8'));
    if (parsed.ok && parsed.value.cycleId === input.cycleId && parsed.value.zip.name === name) {
      return { folder, zip: parsed.value.zip };
    }
    throw new MediumConflictError(folder, `holds another package for cycle ${input.cycleId}; remove it first`);
  }
  const staging = stagingFolderOf(input.medium, input.cycleId);
  await fs.promises.rm(staging, { recursive: true, force: true });
  await fs.promises.mkdir(staging, { recursive: true });
  const copy = path.join(staging, name);
  await fs.promises.copyFile(input.zipPath, copy, fs.constants.COPYFILE_EXCL);
  await fsyncPath(copy);
  // The digest is of the copy on the medium: what the air-gapped side will read.
  const { sha256, size } = await sha256File(copy);
  return { folder, zip: { name, size, sha256 } };
}

export interface SignedManifest {
  manifest: TransferManifest;
  manifestText: string;
  /** The detached Ed25519 signature, base64 (it travels through Temporal as text). */
  signature: string;
  manifestSha256: string;
}

/** The manifest of a staged zip, signed with this side's key. Touches no file. */
export function signManifest(input: {
  site: string;
  cycleId: string;
  previousCycleId: string | null;
  zip: { name: string; size: number; sha256: string };
  versions: ComponentVersion[];
  installationId: string;
  privateKey: KeyObject;
  now: Date;
}): SignedManifest {
  const manifest: TransferManifest = {
    format: MANIFEST_FORMAT,
    site: input.site,
    cycleId: input.cycleId,
    previousCycleId: input.previousCycleId,
    zip: { ...input.zip },
    versions: input.versions,
    createdAt: input.now.toISOString(),
    installationId: input.installationId,
    keyId: keyIdOf(input.privateKey),
  };
  const text = manifestText(manifest);
  return {
    manifest,
    manifestText: text,
    signature: signBytes(text, input.privateKey).toString('base64'),
    manifestSha256: sha256Of(text),
  };
}

/**
 * Writes manifest and signature next to the staged zip and renames the staging folder into place:
 * a courier never sees a half package. The staged zip is checked against the manifest's size
 * first. Idempotent: a package already published with the same manifest is the answer.
 */
export async function publishStagedPackage(input: {
  medium: string;
  cycleId: string;
  manifestText: string;
  signature: string;
}): Promise<{ folder: string; manifestSha256: string }> {
  const folder = packageFolderOf(input.medium, input.cycleId);
  const manifestSha256 = sha256Of(input.manifestText);
  const published = await readIfPresent(path.join(folder, MANIFEST_FILE));
  if (published) {
    if (sha256Of(published) === manifestSha256) return { folder, manifestSha256 };
    throw new MediumConflictError(folder, `holds another package for cycle ${input.cycleId}; remove it first`);
  }
  const parsed = parseManifest(input.manifestText);
  if (!parsed.ok) throw new Error(`the manifest to publish does not parse: ${parsed.refusal.message}`);
  const staging = stagingFolderOf(input.medium, input.cycleId);
  const zip = parsed.value.zip;
  const staged = await fs.promises.stat(path.join(staging, zip.name)).catch(() => undefined);
  if (staged?.size !== zip.size) {
    throw new MediumConflictError(
      staging,
      `the staged ${zip.name} is ${staged ? `${staged.size} bytes, not ${zip.size}` : 'missing'}; the package is staged again`,
    );
  }
  await writeSynced(path.join(staging, MANIFEST_FILE), input.manifestText);
  await writeSynced(path.join(staging, MANIFEST_FILE + SIGNATURE_SUFFIX), Buffer.from(input.signature, 'base64'));
  await fsyncPath(staging);
  await fs.promises.rename(staging, folder);
  await fsyncPath(input.medium);
  return { folder, manifestSha256 };
}

/**
 * Removes a cycle's package (published or still staged) from the medium; absent is fine.
 * `stagingOnly`: only what this cycle left half-written (a published folder under the cycle's
 * name that this cycle did not publish, a MediumConflictError's, is not this cycle's to remove).
 */
export async function removePackage(input: { medium: string; cycleId: string; stagingOnly?: boolean }): Promise<{
  folder: string;
  removed: boolean;
}> {
  const folder = packageFolderOf(input.medium, input.cycleId);
  const staging = stagingFolderOf(input.medium, input.cycleId);
  const present = (input.stagingOnly ? [staging] : [folder, staging]).filter((f) => fs.existsSync(f));
  for (const f of present) await fs.promises.rm(f, { recursive: true, force: true });
  return { folder, removed: present.length > 0 };
}

export interface VerifiedPackage {
  folder: string;
  manifest: TransferManifest;
  manifestSha256: string;
  zipPath: string;
  signer: TrustedKey;
}

/**
 * Reads and verifies a package folder: signature, then the zip's size, then its SHA-256. A refusal
 * says why; nothing in a refused package may be used. Checks against what this side imported
 * before (site, twice, rollback) are domain/transfer-package.ts's checkIntake.
 *
 * The medium stays writable by whoever holds it: the caller copies the zip off it and checks the
 * copy against `manifest.zip` (size, SHA-256) before it imports, rather than trusting that the file
 * verified here is still the file it copies.
 */
export async function readPackage(input: {
  folder: string;
  trusted: readonly TrustedKey[];
  now: Date;
}): Promise<Checked<VerifiedPackage>> {
  const { folder } = input;
  const name = path.basename(folder);
  const manifestBytes = await readIfPresent(path.join(folder, MANIFEST_FILE));
  const signature = await readIfPresent(path.join(folder, MANIFEST_FILE + SIGNATURE_SUFFIX));
  for (const [bytes, file] of [
    [manifestBytes, MANIFEST_FILE],
    [signature, MANIFEST_FILE + SIGNATURE_SUFFIX],
  ] as const) {
    if (!bytes) return { ok: false, refusal: refusal('missing-file', `package ${name} has no ${file}`) };
  }
  const parsed = parseManifest(manifestBytes!.toString('utf8'));
  if (!parsed.ok) return parsed;
  const manifest = parsed.value;
  const verified = verifyDetached({
    data: manifestBytes!,
    signature: signature!,
    keyId: manifest.keyId,
    trusted: input.trusted,
    now: input.now,
    what: `manifest.json of package ${name}`,
  });
  if (!verified.ok) return verified;
  const zipPath = path.join(folder, manifest.zip.name);
  // lstat: a link named like the zip would make the check read one file and the copy another.
  const stat = await fs.promises.lstat(zipPath).catch(() => undefined);
  if (!stat?.isFile()) {
    const what = stat ? 'is not a plain file (a link or a folder)' : 'is missing';
    return {
      ok: false,
      refusal: refusal('missing-file', `${manifest.zip.name}, named by the manifest, ${what} in package ${name}`),
    };
  }
  if (stat.size !== manifest.zip.size) {
    return {
      ok: false,
      refusal: refusal(
        'size-mismatch',
        `${manifest.zip.name} in package ${name} has ${stat.size} bytes, the manifest says ${manifest.zip.size}` +
          (stat.size < manifest.zip.size ? ': the zip is truncated (an interrupted copy?)' : ''),
      ),
    };
  }
  const { sha256 } = await sha256File(zipPath);
  if (sha256 !== manifest.zip.sha256) {
    return {
      ok: false,
      refusal: refusal(
        'sha256-mismatch',
        `${manifest.zip.name} in package ${name} has SHA-256 ${sha256}, the signed manifest says ${manifest.zip.sha256}: ` +
          'it is not the zip that was signed',
      ),
    };
  }
  return {
    ok: true,
    value: { folder, manifest, manifestSha256: sha256Of(manifestBytes!), zipPath, signer: verified.value },
  };
}

async function foldersWith(medium: string, prefix: string): Promise<string[]> {
  const entries = await fs.promises.readdir(medium, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && e.name.startsWith(prefix))
    .map((e) => path.join(medium, e.name))
    .sort();
}

/** The complete package folders on the medium (half-written ones have hidden names and are skipped). */
export function listPackages(medium: string): Promise<string[]> {
  return foldersWith(medium, PACKAGE_PREFIX);
}

/** The complete receipt folders on the medium. */
export function listReceipts(medium: string): Promise<string[]> {
  return foldersWith(medium, RECEIPT_PREFIX);
}

export interface WriteReceiptInput {
  medium: string;
  site: string;
  cycleId: string;
  manifestSha256: string;
  relays: RelayOutcome[];
  installationId: string;
  privateKey: KeyObject;
  now: Date;
}

export interface WrittenReceipt {
  folder: string;
  receipt: TransferReceipt;
  receiptSha256: string;
}

/** Writes a signed receipt onto the medium; idempotent for the same cycle and manifest. */
export async function writeReceipt(input: WriteReceiptInput): Promise<WrittenReceipt> {
  const folder = receiptFolderOf(input.medium, input.cycleId);
  const existing = await readIfPresent(path.join(folder, RECEIPT_FILE));
  if (existing) {
    const parsed = parseReceipt(existing.toString('utf8'));
    if (parsed.ok && parsed.value.cycleId === input.cycleId && parsed.value.manifestSha256 === input.manifestSha256) {
      return { folder, receipt: parsed.value, receiptSha256: sha256Of(existing) };
    }
    throw new MediumConflictError(folder, `holds another receipt for cycle ${input.cycleId}; remove it first`);
  }
  const receipt: TransferReceipt = {
    format: RECEIPT_FORMAT,
    site: input.site,
    cycleId: input.cycleId,
    manifestSha256: input.manifestSha256,
    relays: input.relays,
    completedAt: input.now.toISOString(),
    installationId: input.installationId,
    keyId: keyIdOf(input.privateKey),
  };
  const text = receiptText(receipt);
  await publishFolder(folder, async (temp) => {
    await writeSynced(path.join(temp, RECEIPT_FILE), text);
    await writeSynced(path.join(temp, RECEIPT_FILE + SIGNATURE_SUFFIX), signBytes(text, input.privateKey));
  });
  return { folder, receipt, receiptSha256: sha256Of(text) };
}

export interface VerifiedReceipt {
  folder: string;
  receipt: TransferReceipt;
  receiptSha256: string;
  signer: TrustedKey;
}

/**
 * Reads and verifies a receipt folder against the air-gapped side's trusted keys. Whether it
 * answers the cycle being closed is domain/transfer-receipt.ts's checkReceipt.
 */
export async function readReceipt(input: {
  folder: string;
  trusted: readonly TrustedKey[];
  now: Date;
}): Promise<Checked<VerifiedReceipt>> {
  const name = path.basename(input.folder);
  const bytes = await readIfPresent(path.join(input.folder, RECEIPT_FILE));
  const signature = await readIfPresent(path.join(input.folder, RECEIPT_FILE + SIGNATURE_SUFFIX));
  if (!bytes) return { ok: false, refusal: refusal('missing-file', `receipt ${name} has no ${RECEIPT_FILE}`) };
  if (!signature) {
    return { ok: false, refusal: refusal('missing-file', `receipt ${name} has no ${RECEIPT_FILE}${SIGNATURE_SUFFIX}`) };
  }
  const parsed = parseReceipt(bytes.toString('utf8'));
  if (!parsed.ok) return parsed;
  const verified = verifyDetached({
    data: bytes,
    signature,
    keyId: parsed.value.keyId,
    trusted: input.trusted,
    now: input.now,
    what: `receipt.json of ${name}`,
  });
  if (!verified.ok) return verified;
  return {
    ok: true,
    value: { folder: input.folder, receipt: parsed.value, receiptSha256: sha256Of(bytes), signer: verified.value },
  };
}

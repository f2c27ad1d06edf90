/**
 * Activities of an isolated site's control worker: writing the transfer package (DMZ side),
 * verifying a package and keeping the ledger of what was imported (air-gapped side), writing the
 * signed receipt and its confirmation code (air-gapped side), and checking a receipt or a typed
 * code (DMZ side). Keys are read once when the worker is built, so a missing or unreadable key
 * stops the start with an error naming its setting (KeyMaterialError), not a cycle days later.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { sha256File } from '../adapters/host-files';
import { loadConfirmationKey, loadOwnKey, loadTrustedKeys, type TrustedKey } from '../adapters/signing';
import {
  listPackages,
  readPackage,
  readReceipt,
  signManifest,
  writePackage,
  writeReceipt,
  type VerifiedPackage,
} from '../adapters/transfer-medium';
import type { AppConfig, SiteConfig } from '../domain/config';
import { confirmationCode, matchConfirmationCode, statementOfReceipt } from '../domain/confirmation-code';
import type { ComponentVersion } from '../domain/cycle';
import { checkIntake, skippedPackage, type ImportedPackage, type TransferManifest } from '../domain/transfer-package';
import { checkReceipt, type RelayOutcome, type TransferReceipt } from '../domain/transfer-receipt';
import { cycleFileStem, refusal, type Checked, type TransferRefusalCode } from '../domain/transfer-refusal';

/** The keys of one isolated site on this installation. */
interface SiteKeys {
  site: SiteConfig;
  own: KeyObject;
  trusted: TrustedKey[];
  confirmationKey?: Buffer;
}

/** Reads every isolated site's keys; throws KeyMaterialError naming the setting. */
export function loadIsolatedKeys(config: AppConfig, secretsOf: IsolatedDeps['secretsOf']) {
  const keys = new Map<string, SiteKeys>();
  config.sites.forEach((site, i) => {
    const iso = site.isolated;
    if (site.mode !== 'isolated' || !iso) return;
    const at = `sites.${i}.isolated`;
    const values = secretsOf(iso);
    keys.set(site.id, {
      site,
      own: loadOwnKey({ at, keyFile: iso.keyFile, keyEnv: iso.keyEnv, keyPem: values.keyPem }),
      trusted: loadTrustedKeys(`${at}.trust`, iso.trust),
      confirmationKey: loadConfirmationKey({
        at,
        confirmationKeyEnv: iso.confirmationKeyEnv,
        value: values.confirmationKey,
      }),
    });
  });
  return keys;
}

/** One package the DMZ side wrote: its ledger entry (previousCycleId, what was sent last). */
export interface SentPackage {
  cycleId: string;
  manifestSha256: string;
  versions: ComponentVersion[];
  sentAt: string;
}

/** A JSON list in the data folder, written whole and renamed into place. */
function ledger<T>(dataDir: string, site: string, name: string) {
  const file = path.join(dataDir, 'isolated', `${site}-${name}.json`);
  return {
    read(): T[] {
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8')) as T[];
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    },
    write(all: T[]): void {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`);
      fs.renameSync(tmp, file);
    },
  };
}

/** What the intake workflow learns of a verified package. */
export interface PackageFacts {
  manifest: TransferManifest;
  manifestSha256: string;
  /** The zip copied off the medium into this side's data folder and checked again there. */
  stagedZip: string;
  signer: string;
  /** The cycle the DMZ side sent before, when this side never took it in. */
  skipped?: string;
  /**
   * How the zip reaches the relays (the site's isolated.placement): `copy` by the relay's host
   * worker from `stagedZip`, `person` by hand from the medium. Absent in runs recorded before.
   */
  placement?: 'copy' | 'person';
}

/** What the DMZ cycle learns of an accepted receipt or code. */
export interface ReceiptFacts {
  via: 'receipt' | 'code';
  relays: RelayOutcome[];
  receiptSha256?: string;
  completedAt?: string;
  installationId?: string;
  signer?: string;
}

const stopped = (r: { code: TransferRefusalCode; message: string }): Checked<never> => ({
  ok: false,
  refusal: refusal(r.code, r.message),
});

export interface IsolatedDeps {
  config: AppConfig;
  /** What a site's keyEnv and confirmationKeyEnv variables held at start (runtime/secrets.ts isolatedKeySecrets). */
  secretsOf: (isolated: NonNullable<SiteConfig['isolated']>) => { keyPem?: string; confirmationKey?: string };
  now?: () => Date;
}

export function createIsolatedActivities(deps: IsolatedDeps) {
  const keys = loadIsolatedKeys(deps.config, deps.secretsOf);
  const now = deps.now ?? (() => new Date());
  const keysOf = (site: string, side: 'dmz' | 'airgapped'): SiteKeys => {
    const k = keys.get(site);
    if (!k || k.site.isolated!.side !== side) {
      throw ApplicationFailure.nonRetryable(
        `site "${site}" is not the ${side} side of an isolated site here`,
        'NotIsolated',
      );
    }
    return k;
  };
  const sent = (site: string) => ledger<SentPackage>(deps.config.dataDir, site, 'sent');
  const imported = (site: string) => ledger<ImportedPackage>(deps.config.dataDir, site, 'imported');
  /** The cycle whose package was sent before this one's: the manifest chains to it. */
  const previousSent = (site: string, cycleId: string): string | null =>
    sent(site)
      .read()
      .filter((p) => p.cycleId !== cycleId)
      .at(-1)?.cycleId ?? null;
  /** Notes a package as sent (in place of an earlier note for the same cycle, after a retry). */
  const noteSent = (site: string, cycleId: string, manifestSha256: string, versions: ComponentVersion[]): void => {
    const log = sent(site);
    const before = log.read().filter((p) => p.cycleId !== cycleId);
    log.write([...before, { cycleId, manifestSha256, versions, sentAt: now().toISOString() }]);
  };

  return {
    /** DMZ side: what the last package carried, for "nothing new" (the other side is out of reach). */
    async lastSentPackage(input: { site: string }): Promise<SentPackage | null> {
      keysOf(input.site, 'dmz');
      return sent(input.site).read().at(-1) ?? null;
    },

    /** DMZ side: writes the signed package onto the outbound medium and notes it as sent. */
    async writeTransferPackage(input: {
      site: string;
      cycleId: string;
      zipPath: string;
      versions: ComponentVersion[];
    }): Promise<{ folder: string; manifest: TransferManifest; manifestSha256: string }> {
      const k = keysOf(input.site, 'dmz');
      const medium = k.site.isolated!.outboundFolder!;
      await fs.promises.mkdir(medium, { recursive: true });
      const written = await writePackage({
        medium,
        zipPath: input.zipPath,
        site: input.site,
        cycleId: input.cycleId,
        previousCycleId: previousSent(input.site, input.cycleId),
        versions: input.versions,
        installationId: k.site.isolated!.installationId,
        privateKey: k.own,
        now: now(),
      });
      noteSent(input.site, input.cycleId, written.manifestSha256, input.versions);
      return written;
    },

    /**
     * DMZ side: the medium's folder as the DMZ relay machine mounts it (isolated.outboundFolder),
     * for the relay's host worker, which writes the package there.
     */
    async outboundFolderOf(input: { site: string }): Promise<string> {
      return keysOf(input.site, 'dmz').site.isolated!.outboundFolder!;
    },

    /**
     * DMZ side: the manifest of a zip the DMZ relay staged on the medium, signed with this side's
     * key. Only name, size and SHA-256 come here: the zip itself stays on the relay machine.
     */
    async signTransferManifest(input: {
      site: string;
      cycleId: string;
      zip: { name: string; size: number; sha256: string };
      versions: ComponentVersion[];
    }): Promise<{ manifest: TransferManifest; manifestText: string; signature: string; manifestSha256: string }> {
      const k = keysOf(input.site, 'dmz');
      return signManifest({
        site: input.site,
        cycleId: input.cycleId,
        previousCycleId: previousSent(input.site, input.cycleId),
        zip: input.zip,
        versions: input.versions,
        installationId: k.site.isolated!.installationId,
        privateKey: k.own,
        now: now(),
      });
    },

    /** DMZ side: notes a published package as sent ("nothing new" and previousCycleId read this). */
    async recordSentPackage(input: {
      site: string;
      cycleId: string;
      manifestSha256: string;
      versions: ComponentVersion[];
    }): Promise<void> {
      keysOf(input.site, 'dmz');
      noteSent(input.site, input.cycleId, input.manifestSha256, input.versions);
    },

    /**
     * DMZ side: a package removed from the medium (its cycle cancelled or expired) was never
     * carried: the next package is judged against, and chained to, the one sent before it.
     */
    async forgetSentPackage(input: { site: string; cycleId: string }): Promise<{ forgotten: boolean }> {
      keysOf(input.site, 'dmz');
      const log = sent(input.site);
      const all = log.read();
      const kept = all.filter((p) => p.cycleId !== input.cycleId);
      if (kept.length !== all.length) log.write(kept);
      return { forgotten: kept.length !== all.length };
    },

    /**
     * DMZ side: a receipt folder, verified (signature by a trusted key of the air-gapped side)
     * and checked against the cycle it is offered to. A refusal says why; nothing is closed.
     */
    async verifyTransferReceipt(input: {
      site: string;
      cycleId: string;
      manifestSha256: string;
      folder: string;
    }): Promise<Checked<ReceiptFacts>> {
      const k = keysOf(input.site, 'dmz');
      const read = await readReceipt({ folder: input.folder, trusted: k.trusted, now: now() }).catch(
        (err: unknown): Checked<never> =>
          stopped({ code: 'missing-file', message: `${input.folder}: ${(err as Error).message}` }),
      );
      if (!read.ok) return read;
      const r: TransferReceipt = read.value.receipt;
      const wrong = checkReceipt({
        receipt: r,
        siteId: input.site,
        cycleId: input.cycleId,
        manifestSha256: input.manifestSha256,
      });
      if (wrong) return { ok: false, refusal: wrong };
      return {
        ok: true,
        value: {
          via: 'receipt',
          relays: r.relays,
          receiptSha256: read.value.receiptSha256,
          completedAt: r.completedAt,
          installationId: r.installationId,
          signer: read.value.signer.keyId,
        },
      };
    },

    /** DMZ side: a typed confirmation code, matched against every outcome of the cycle's package. */
    async checkConfirmationCode(input: {
      site: string;
      cycleId: string;
      manifestSha256: string;
      relays: string[];
      code: string;
    }): Promise<Checked<ReceiptFacts>> {
      const k = keysOf(input.site, 'dmz');
      const matched = matchConfirmationCode({
        site: input.site,
        cycleId: input.cycleId,
        manifestSha256: input.manifestSha256,
        relays: input.relays,
        typed: input.code,
        key: k.confirmationKey,
      });
      if (!matched.ok) return matched;
      const relays: RelayOutcome[] = input.relays.map((relay) => ({
        relay,
        outcome: matched.value.imported.includes(relay) ? 'imported' : 'failed',
        versions: [],
        ...(matched.value.imported.includes(relay) ? {} : { detail: 'reported not imported by confirmation code' }),
      }));
      return { ok: true, value: { via: 'code', relays } };
    },

    /** Air-gapped side: the package folders on the intake medium. */
    async listTransferPackages(input: { site: string }): Promise<string[]> {
      const k = keysOf(input.site, 'airgapped');
      return listPackages(k.site.isolated!.intakeFolder!);
    },

    /**
     * Air-gapped side: verifies a package (signature, size, SHA-256, site, twice, rollback) and
     * copies its zip off the medium into the data folder, checking the copy again: the medium
     * stays writable by whoever holds it. A refusal says why; nothing is imported.
     */
    async verifyTransferPackage(input: { site: string; folder: string }): Promise<Checked<PackageFacts>> {
      const k = keysOf(input.site, 'airgapped');
      const read = await readPackage({ folder: input.folder, trusted: k.trusted, now: now() }).catch(
        (err: unknown): Checked<never> =>
          stopped({ code: 'missing-file', message: `${input.folder}: ${(err as Error).message}` }),
      );
      if (!read.ok) return read;
      const p: VerifiedPackage = read.value;
      const history = imported(input.site).read();
      const wrong = checkIntake({
        manifest: p.manifest,
        manifestSha256: p.manifestSha256,
        siteId: input.site,
        imported: history,
      });
      if (wrong) return { ok: false, refusal: wrong };
      const stageDir = path.join(deps.config.dataDir, 'isolated', 'staged', cycleFileStem(p.manifest.cycleId));
      await fs.promises.rm(stageDir, { recursive: true, force: true });
      await fs.promises.mkdir(stageDir, { recursive: true });
      const stagedZip = path.join(stageDir, p.manifest.zip.name);
      await fs.promises.copyFile(p.zipPath, stagedZip);
      const copy = await sha256File(stagedZip);
      if (copy.sha256 !== p.manifest.zip.sha256 || copy.size !== p.manifest.zip.size) {
        return stopped({
          code: 'sha256-mismatch',
          message: `${p.manifest.zip.name} changed on the medium while it was copied off (SHA-256 ${copy.sha256}); take the package in again`,
        });
      }
      const skipped = skippedPackage(p.manifest, history);
      return {
        ok: true,
        value: {
          manifest: p.manifest,
          manifestSha256: p.manifestSha256,
          stagedZip,
          signer: p.signer.keyId,
          placement: k.site.isolated!.placement ?? 'copy',
          ...(skipped ? { skipped } : {}),
        },
      };
    },

    /** Air-gapped side: notes a package as imported (rollback and "already imported" read this). */
    async recordImportedPackage(input: { site: string; entry: ImportedPackage }): Promise<void> {
      keysOf(input.site, 'airgapped');
      const log = imported(input.site);
      const all = log.read().filter((p) => p.cycleId !== input.entry.cycleId);
      log.write([...all, input.entry]);
    },

    /** Air-gapped side: removes the staged copy of a package's zip. */
    async removeStagedZip(input: { site: string; stagedZip: string }): Promise<void> {
      keysOf(input.site, 'airgapped');
      const root = path.join(deps.config.dataDir, 'isolated', 'staged');
      if (!path.resolve(input.stagedZip).startsWith(root + path.sep)) return;
      await fs.promises.rm(path.dirname(input.stagedZip), { recursive: true, force: true });
    },

    /** Air-gapped side: the signed receipt onto the medium, and the code to type on the DMZ side. */
    async writeTransferReceipt(input: {
      site: string;
      /** The package answered: the receipt goes next to it, on the same medium. */
      packageFolder?: string;
      cycleId: string;
      manifestSha256: string;
      relays: RelayOutcome[];
    }): Promise<{ folder: string; receiptSha256: string; code: string }> {
      const k = keysOf(input.site, 'airgapped');
      const written = await writeReceipt({
        medium: input.packageFolder ? path.dirname(input.packageFolder) : k.site.isolated!.intakeFolder!,
        site: input.site,
        cycleId: input.cycleId,
        manifestSha256: input.manifestSha256,
        relays: input.relays,
        installationId: k.site.isolated!.installationId,
        privateKey: k.own,
        now: now(),
      });
      const code = confirmationCode(statementOfReceipt(written.receipt), k.confirmationKey);
      return { folder: written.folder, receiptSha256: written.receiptSha256, code };
    },
  };
}

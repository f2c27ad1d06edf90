/**
 * Activities that run on a relay host's own worker: build the bundle, check what arrived, remove
 * or archive zips. Files can be gigabytes: long operations heartbeat so a dead worker is noticed
 * and the step moves to another attempt.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ArrivalReport, BuiltBundle, ExpectedBundleFile, HostOps } from '../adapters/host-ops';
import { publishStagedPackage, removePackage, stagePackageZip, type StagedZip } from '../adapters/transfer-medium';
import type { RetainBundleInput } from './types';

/** Keeps the activity's heartbeat going while `work` runs. */
async function heartbeating<T>(work: Promise<T>, everyMs = 10_000): Promise<T> {
  const timer = setInterval(() => Context.current().heartbeat(), everyMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/** Errors that a retry cannot fix: say so to Temporal at once. */
function permanent(err: unknown): never {
  const e = err as Error;
  if (
    [
      'DsaControlOutputError',
      'PathOutsideAllowedError',
      'InvalidCommandArgumentError',
      'NotAFileError',
      'MediumConflictError',
    ].includes(e.name)
  ) {
    throw ApplicationFailure.nonRetryable(e.message, e.name);
  }
  throw err;
}

export function createHostActivities(ops: HostOps) {
  const join = (name: string) => `${ops.host.installDir}${ops.host.os === 'windows' ? '\\' : '/'}${name}`;
  return {
    async buildBundle(_input: Record<string, never>): Promise<BuiltBundle> {
      return heartbeating(ops.buildBundle()).catch(permanent);
    },

    async inspectArrival(input: ExpectedBundleFile): Promise<ArrivalReport> {
      return heartbeating(ops.inspectArrival(input)).catch(permanent);
    },

    /**
     * Isolated sites: puts a verified zip into the install dir under its own name (the relay
     * imports only the name dsa_control gave it), written under a hidden name and renamed, so the
     * relay never sees half a zip. `sourcePath` must be readable from this host (the air-gapped
     * side's staged copy); inspectArrival checks the result.
     */
    async placeBundle(input: { sourcePath: string; fileName: string }): Promise<{ path: string }> {
      if (/[\\/]/.test(input.fileName) || input.fileName.startsWith('.')) {
        throw ApplicationFailure.nonRetryable(
          `"${input.fileName}" is not a plain file name`,
          'InvalidCommandArgumentError',
        );
      }
      const target = path.join(ops.host.installDir, input.fileName);
      const temp = path.join(ops.host.installDir, `.${input.fileName}.placing`);
      await fs.promises.access(input.sourcePath, fs.constants.R_OK).catch((err: NodeJS.ErrnoException) => {
        // The staged copy is on the control machine: a relay on a machine of its own cannot read it,
        // and no retry changes that. A person places the zip instead (placement: person).
        throw ApplicationFailure.nonRetryable(
          `${ops.host.name} cannot read the staged zip ${input.sourcePath} (${err.code ?? err.message}): ` +
            'this relay does not share a disk with the control worker; set sites[].isolated.placement: person ' +
            "in the air-gapped side's configuration so a person copies the zip from the medium onto the relay",
          'StagedZipUnreachable',
        );
      });
      await heartbeating(fs.promises.copyFile(input.sourcePath, temp));
      await fs.promises.rename(temp, target);
      return { path: target };
    },

    /** Removes this cycle's zip from the install dir (C4, or compensation); absent is fine. */
    async removeBundle(input: { fileName: string }): Promise<{ removed: boolean; path: string }> {
      if (/[\\/]/.test(input.fileName)) {
        throw ApplicationFailure.nonRetryable(
          `"${input.fileName}" is not a plain file name`,
          'InvalidCommandArgumentError',
        );
      }
      const result = await ops.deleteFile({ path: join(input.fileName) }).catch(permanent);
      return { removed: result.deleted, path: result.path };
    },

    /**
     * A copy an operator put down under the wrong name or in the wrong place, once a good copy has
     * been imported or the cycle has ended. Only files inside the install dir are deleted; one
     * outside it fails permanently (PathOutsideAllowedError) and is reported, not touched.
     */
    async removeStrayCopy(input: { path: string }): Promise<{ removed: boolean; path: string }> {
      const result = await ops.deleteFile({ path: input.path }).catch(permanent);
      return { removed: result.deleted, path: result.path };
    },

    /**
     * Isolated sites, DMZ relay: copies this cycle's zip, unrenamed, from the install dir into the
     * package's staging folder on the medium (`outboundFolder`, as this machine mounts it) and
     * hashes the copy. The control worker signs the manifest from what this returns.
     */
    async stagePackageZip(input: { outboundFolder: string; cycleId: string; zipPath: string }): Promise<StagedZip> {
      await fs.promises.mkdir(input.outboundFolder, { recursive: true });
      return heartbeating(
        stagePackageZip({ medium: input.outboundFolder, cycleId: input.cycleId, zipPath: input.zipPath }),
      ).catch(permanent);
    },

    /** Isolated sites, DMZ relay: manifest and signature next to the staged zip, then the folder renamed into place. */
    async publishPackage(input: {
      outboundFolder: string;
      cycleId: string;
      manifestText: string;
      signature: string;
    }): Promise<{ folder: string; manifestSha256: string }> {
      return publishStagedPackage({ medium: input.outboundFolder, ...input }).catch(permanent);
    },

    /** Isolated sites, DMZ relay: a package that must not be carried any more leaves the medium. */
    async removePackage(input: {
      outboundFolder: string;
      cycleId: string;
      stagingOnly?: boolean;
    }): Promise<{ folder: string; removed: boolean }> {
      return removePackage({ medium: input.outboundFolder, cycleId: input.cycleId, stagingOnly: input.stagingOnly });
    },

    /** The DMZ-side zip after a cycle: deleted, archived, or kept, by the site's retention. */
    async retainBundle(input: RetainBundleInput): Promise<{ action: string; path?: string }> {
      if (input.mode === 'keep') return { action: 'kept', path: input.path };
      if (input.mode === 'delete') {
        const r = await ops.deleteFile({ path: input.path }).catch(permanent);
        return { action: r.deleted ? 'deleted' : 'already gone', path: r.path };
      }
      const stat = await ops.stat({ path: input.path }).catch(permanent);
      if (!stat.exists) return { action: 'already gone', path: input.path };
      const r = await ops.archiveFile({ path: input.path, archiveDir: input.archiveDir }).catch(permanent);
      return { action: 'archived', path: r.to };
    },
  };
}

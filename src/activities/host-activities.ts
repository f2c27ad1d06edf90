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
    ['DsaControlOutputError', 'PathOutsideAllowedError', 'InvalidCommandArgumentError', 'NotAFileError'].includes(
      e.name,
    )
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

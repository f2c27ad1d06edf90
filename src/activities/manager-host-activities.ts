/**
 * Activities of the worker on a manager-side host (the air-gapped manager's host, or the host
 * where carried .dsru files are put): check the carried rule update files, and run dsm_c
 * changesetting (H7, H8). Paths and the dsm_c location come from the worker's configuration,
 * never from a workflow, so a workflow cannot make the host run or read anything else.
 */
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { HostCommandError, type HostOps } from '../adapters/host-ops';
import { DSM_C_SETTINGS, type DsmCSettingName } from '../domain/hardening';
import {
  classifyRuleFile,
  type ExportedRuleFile,
  type RuleFileObservation,
  type RuleFileReport,
} from '../domain/rules';

export interface ManagerHostOptions {
  /** Where carried .dsru files are put (rules.importFolder). */
  importFolder?: string;
  /** dsm_c on this host (airgapped.manager.dsmCPath). */
  dsmCPath?: string;
}

const SETTINGS: readonly string[] = Object.values(DSM_C_SETTINGS);

export function createManagerHostActivities(ops: HostOps, options: ManagerHostOptions) {
  const p = ops.host.os === 'windows' ? path.win32 : path.posix;
  return {
    /** R2 check: each exported file, by its exact name, in the import folder: size and SHA-256. */
    async inspectRuleFiles(input: { files: ExportedRuleFile[] }): Promise<RuleFileReport[]> {
      const folder = options.importFolder;
      if (!folder) {
        throw ApplicationFailure.nonRetryable(
          `${ops.host.name} has no rule import folder (sites[].rules.importFolder)`,
          'RulesNotConfigured',
        );
      }
      const folderStat = await ops.stat({ path: folder });
      const folderProblem = !folderStat.exists ? 'missing' : folderStat.isFile ? 'not-a-folder' : undefined;
      const reports: RuleFileReport[] = [];
      for (const f of input.files) {
        if (/[\\/]/.test(f.fileName) || f.fileName === '..' || f.fileName === '.') {
          throw ApplicationFailure.nonRetryable(
            `"${f.fileName}" is not a plain file name`,
            'InvalidCommandArgumentError',
          );
        }
        const file = p.join(folder, f.fileName);
        const stat = await ops.stat({ path: file });
        let obs: RuleFileObservation = {
          fileName: f.fileName,
          path: file,
          exists: stat.exists,
          isFile: false,
          ...(folderProblem ? { folderProblem } : {}),
        };
        if (stat.exists && stat.isFile) {
          const { size, sha256 } = await ops.sha256File({ path: file });
          obs = { ...obs, isFile: true, size, sha256 };
        }
        reports.push(classifyRuleFile(f, obs, { host: ops.host.name, folder }));
      }
      return reports;
    },

    /**
     * Removes a carried .dsru file from the import folder once its transfer has ended, so no later
     * import in the console takes a stale or unapproved file. Absent is fine.
     */
    async removeRuleFile(input: { fileName: string }): Promise<{ removed: boolean; path: string }> {
      const folder = options.importFolder;
      if (!folder) {
        throw ApplicationFailure.nonRetryable(
          `${ops.host.name} has no rule import folder (sites[].rules.importFolder)`,
          'RulesNotConfigured',
        );
      }
      if (/[\\/]/.test(input.fileName) || input.fileName === '..' || input.fileName === '.') {
        throw ApplicationFailure.nonRetryable(
          `"${input.fileName}" is not a plain file name`,
          'InvalidCommandArgumentError',
        );
      }
      const r = await ops.deleteFile({ path: p.join(folder, input.fileName) });
      return { removed: r.deleted, path: r.path };
    },

    /** H7/H8: `dsm_c -action changesetting -name <name> -value <value>` on the manager host. */
    async changeManagerSetting(input: {
      name: DsmCSettingName;
      value: 'true' | 'false';
    }): Promise<{ command: string; stdout: string; stderr: string }> {
      if (!SETTINGS.includes(input.name) || !['true', 'false'].includes(input.value)) {
        throw ApplicationFailure.nonRetryable(
          `refused: dsm_c changesetting ${input.name}=${input.value} is not a hardening setting`,
          'InvalidCommandArgumentError',
        );
      }
      if (!options.dsmCPath) {
        throw ApplicationFailure.nonRetryable(
          `${ops.host.name} has no dsm_c configured (airgapped.manager.dsmCPath)`,
          'DsmCNotConfigured',
        );
      }
      const args = ['-action', 'changesetting', '-name', input.name, '-value', input.value];
      const command = `${options.dsmCPath} ${args.join(' ')}`;
      try {
        const out = await ops.runDsmC({ dsmCPath: options.dsmCPath, args });
        return { command, ...out };
      } catch (err) {
        // A non-zero exit is dsm_c refusing the setting: it will refuse it again.
        if (err instanceof HostCommandError && !err.output.timedOut && err.output.exitCode !== undefined) {
          throw ApplicationFailure.nonRetryable(err.message, 'HostCommandError', err.output);
        }
        throw err;
      }
    },
  };
}

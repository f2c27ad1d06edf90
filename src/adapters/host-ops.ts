/**
 * The host boundary: what a worker running on a relay (or manager) host does there. Commands run
 * with execFile and an argument array, never a shell string; destructive file operations are
 * confined to the install dir and the archive dir.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  classifyArrival,
  type ArrivalObservations,
  type ArrivalReport,
  type ExpectedBundleFile,
} from '../domain/bundle-arrival';
import type { HostOs } from '../domain/config';
import { DsaControlOutputError, parseDsaControlBuildOutput } from '../domain/dsa-control-output';
import { HostCommandError, InvalidCommandArgumentError } from './host-errors';
import { assertFileOrLink, confine, freeName, lstatOrUndefined, missingFolderOf, move, sha256File } from './host-files';

export * from './host-errors';
export type { ArrivalReport, ArrivalStatus, ExpectedBundleFile } from '../domain/bundle-arrival';

export interface HostSpec {
  name: string;
  os: HostOs;
  installDir: string;
}

export interface HostOpsOptions {
  /** Where archiveFile moves files; default <parent of installDir>/airgap-archive. */
  archiveDir?: string;
  /** dsa_control -b may take long on a big pattern set. Default 1 hour. */
  bundleTimeoutMs?: number;
  /** dsm_c. Default 10 minutes. */
  commandTimeoutMs?: number;
}

export interface BuiltBundle {
  path: string;
  fileName: string;
  size: number;
  sha256: string;
  /** What dsa_control printed, verbatim (stdout, then stderr). */
  rawOutput: string;
}

export type FileStat = { exists: false } | { exists: true; isFile: boolean; size: number; modifiedAt: number };

export interface HostOps {
  readonly host: HostSpec;
  /** C1: runs `dsa_control -b` in the install dir and finds the zip it made. */
  buildBundle(input?: Record<string, never>): Promise<BuiltBundle>;
  sha256File(input: { path: string }): Promise<{ path: string; size: number; sha256: string }>;
  stat(input: { path: string }): Promise<FileStat>;
  /** C2 check on an air-gapped relay: is the exact file in the install dir, and if not, what went wrong. */
  inspectArrival(input: ExpectedBundleFile): Promise<ArrivalReport>;
  /** C4: deletes a file inside the install dir or the archive dir; a missing file is not an error. */
  deleteFile(input: { path: string }): Promise<{ path: string; deleted: boolean }>;
  /** Moves a file from the install dir into the archive dir, never overwriting. */
  archiveFile(input: { path: string; archiveDir?: string }): Promise<{ from: string; to: string }>;
  /** H7/H8: `dsm_c -action changesetting …` on the manager host. */
  runDsmC(input: { dsmCPath: string; args: string[] }): Promise<{ stdout: string; stderr: string }>;
}

export function createHostOps(host: HostSpec, options: HostOpsOptions = {}): HostOps {
  const installDir = path.resolve(host.installDir);
  const archiveDir = path.resolve(options.archiveDir ?? path.join(path.dirname(installDir), 'airgap-archive'));
  const bundleTimeoutMs = options.bundleTimeoutMs ?? 3_600_000;
  const commandTimeoutMs = options.commandTimeoutMs ?? 600_000;

  return {
    host: { ...host, installDir },

    async buildBundle() {
      const [file, args] =
        host.os === 'windows'
          ? // .cmd files need cmd.exe; running it from the install dir keeps spaces out of the command line.
            [process.env.ComSpec ?? 'cmd.exe', ['/d', '/c', 'dsa_control.cmd', '-b']]
          : [path.join(installDir, 'dsa_control'), ['-b']];
      const { stdout, stderr } = await run('dsa_control -b', file, args, {
        cwd: installDir,
        timeoutMs: bundleTimeoutMs,
      });
      const rawOutput = stderr.trim() ? `${stdout}\n${stderr}` : stdout;
      let located;
      try {
        located = parseDsaControlBuildOutput(stdout, { os: host.os, defaultDirectory: installDir });
      } catch (err) {
        if (err instanceof DsaControlOutputError) throw new DsaControlOutputError(err.reason, rawOutput);
        throw err;
      }
      const stats = await lstatOrUndefined(located.path);
      if (!stats?.isFile()) {
        throw new DsaControlOutputError(`it names ${located.path}, which is not a file on ${host.name}`, rawOutput);
      }
      const { sha256, size } = await sha256File(located.path);
      return { path: located.path, fileName: located.fileName, size, sha256, rawOutput };
    },

    async sha256File({ path: p }) {
      const abs = path.resolve(installDir, p);
      return { path: abs, ...(await sha256File(abs, host.name)) };
    },

    async stat({ path: p }) {
      const stats = await lstatOrUndefined(path.resolve(installDir, p));
      if (!stats) return { exists: false };
      return { exists: true, isFile: stats.isFile(), size: stats.size, modifiedAt: stats.mtimeMs };
    },

    async inspectArrival(expected) {
      const obs = await observeArrival(host.name, installDir, expected);
      return classifyArrival(expected, obs, (d, n) => path.join(d, n));
    },

    async deleteFile({ path: p }) {
      const target = await confine(p, [installDir, archiveDir]);
      const stats = await lstatOrUndefined(target);
      if (!stats) return { path: target, deleted: false };
      assertFileOrLink(target, stats);
      await fs.promises.unlink(target);
      return { path: target, deleted: true };
    },

    async archiveFile({ path: p, archiveDir: perCall }) {
      const from = await confine(p, [installDir]);
      const stats = await lstatOrUndefined(from);
      if (!stats) {
        const folderMissing = await missingFolderOf(from, host.name);
        if (folderMissing) throw folderMissing;
        throw new Error(`cannot archive ${from} on ${host.name}: no such file`);
      }
      assertFileOrLink(from, stats);
      const dir = path.resolve(perCall ?? archiveDir);
      await fs.promises.mkdir(dir, { recursive: true });
      const to = await freeName(dir, path.basename(from));
      await move(from, to);
      return { from, to };
    },

    async runDsmC({ dsmCPath, args }) {
      for (const a of args) if (!/^[\x20-\x7e]*$/.test(a)) throw new InvalidCommandArgumentError('dsm_c', a);
      if (!path.isAbsolute(dsmCPath)) throw new Error(`dsmCPath must be absolute, got ${dsmCPath}`);
      return run(`dsm_c ${args.join(' ')}`, dsmCPath, args, { timeoutMs: commandTimeoutMs });
    },
  };
}

function isFolder(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function run(
  label: string,
  file: string,
  args: string[],
  opts: { cwd?: string; timeoutMs: number },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs, maxBuffer: 16 * 1024 * 1024, windowsHide: true, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string };
        const timedOut = Boolean(e.killed) && e.signal === 'SIGTERM';
        const exitCode = typeof e.code === 'number' ? e.code : undefined;
        // spawn says ENOENT for a missing working folder too: name the folder, not the command.
        const cwdMissing = e.code === 'ENOENT' && opts.cwd !== undefined && !isFolder(opts.cwd);
        const reason = cwdMissing
          ? `the folder ${opts.cwd} does not exist (it is where ${label.split(' ')[0]} runs)`
          : e.code === 'ENOENT'
            ? `${file} not found`
            : e.code === 'EACCES'
              ? `${file} is not executable`
              : timedOut
                ? `no result within ${opts.timeoutMs} ms (stopped)`
                : `exited with code ${exitCode ?? e.signal ?? 'unknown'}`;
        reject(new HostCommandError(label, reason, { exitCode, timedOut, stdout, stderr }, { cause: err }));
      },
    );
  });
}

/** Gathers what classifyArrival needs, hashing only files whose size could make them the bundle. */
async function observeArrival(
  hostName: string,
  installDir: string,
  expected: ExpectedBundleFile,
): Promise<ArrivalObservations> {
  const obs: ArrivalObservations = { hostName, installDir, misplaced: [], sameSize: [], otherZips: [] };
  const dir = await fs.promises.stat(installDir).catch(() => undefined);
  if (!dir?.isDirectory()) obs.installDirProblem = dir ? 'not-a-folder' : 'missing';
  const exactPath = path.join(installDir, expected.fileName);
  const exact = await lstatOrUndefined(exactPath);
  if (exact?.isFile()) {
    obs.exact = { path: exactPath, size: exact.size };
    if (exact.size === expected.size) obs.exact.sha256 = (await sha256File(exactPath)).sha256;
    return obs;
  }
  for (const candidate of await elsewhere(installDir, expected.fileName)) {
    const s = await lstatOrUndefined(candidate);
    if (s?.isFile()) obs.misplaced.push({ path: candidate, size: s.size });
  }
  if (obs.misplaced.length > 0) return obs;
  let entries: fs.Dirent[] = [];
  try {
    entries = await fs.promises.readdir(installDir, { withFileTypes: true });
  } catch {
    // A missing install dir is in obs.installDirProblem; the message names the folder.
  }
  for (const e of entries) {
    if (!e.isFile() || !/\.zip$/i.test(e.name) || e.name === expected.fileName) continue;
    const p = path.join(installDir, e.name);
    const { size } = await fs.promises.stat(p);
    if (size === expected.size) obs.sameSize.push({ path: p, sha256: (await sha256File(p)).sha256 });
    else obs.otherZips.push({ path: p, size });
  }
  return obs;
}

/** Where a person drops a file instead: the install dir's parent, or a subfolder two levels deep. */
async function elsewhere(installDir: string, fileName: string): Promise<string[]> {
  const found = [path.join(path.dirname(installDir), fileName)];
  const walk = async (dir: string, depth: number) => {
    if (depth > 2) return;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.slice(0, 2000)) {
      if (!e.isDirectory()) continue; // not following symbolic links
      const sub = path.join(dir, e.name);
      found.push(path.join(sub, fileName));
      await walk(sub, depth + 1);
    }
  };
  await walk(installDir, 1);
  return found;
}

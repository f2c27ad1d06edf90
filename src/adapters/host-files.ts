/**
 * File primitives of the host adapter: streaming SHA-256 (bundles can be gigabytes), confinement
 * of destructive operations to known folders, and a move that survives crossing file systems.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FolderMissingError, NotAFileError, PathOutsideAllowedError } from './host-errors';

/** Large reads keep hashing a multi-gigabyte zip I/O-bound rather than syscall-bound. */
const HASH_CHUNK = 4 * 1024 * 1024;

export async function sha256File(file: string, host?: string): Promise<{ sha256: string; size: number }> {
  try {
    return await hashStream(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw (await missingFolderOf(file, host, err)) ?? err;
    throw err;
  }
}

/**
 * When the folder `file` should be in is missing (or is not a folder), the error that says so;
 * undefined when the folder is there (then the file itself is what is missing).
 */
export async function missingFolderOf(
  file: string,
  host: string | undefined,
  cause?: unknown,
): Promise<FolderMissingError | undefined> {
  const folder = path.dirname(path.resolve(file));
  const stats = await fs.promises.stat(folder).catch(() => undefined);
  if (stats?.isDirectory()) return undefined;
  return new FolderMissingError(folder, path.basename(file), host, stats !== undefined, { cause });
}

/**
 * Reads the file into two reused buffers, the next chunk while the current one is hashed (hash.update
 * is synchronous, so a buffer is free again as soon as it returns): no buffer per chunk, no stream
 * machinery. A readable stream here ran at half of `openssl dgst` (bench/README.md, "Hashing").
 */
async function hashStream(file: string): Promise<{ sha256: string; size: number }> {
  const hash = crypto.createHash('sha256');
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffers = [Buffer.allocUnsafe(HASH_CHUNK), Buffer.allocUnsafe(HASH_CHUNK)] as const;
    let size = 0;
    let turn = 0;
    let pending = handle.read(buffers[0], 0, HASH_CHUNK, 0);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const current = buffers[turn]!;
      size += bytesRead;
      turn = 1 - turn;
      pending = handle.read(buffers[turn]!, 0, HASH_CHUNK, size);
      hash.update(current.subarray(0, bytesRead));
    }
    return { sha256: hash.digest('hex'), size };
  } finally {
    await handle.close();
  }
}

async function realOrResolved(p: string): Promise<string> {
  try {
    return await fs.promises.realpath(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * Resolves `target` (relative to `roots[0]`) and returns it when it lies strictly inside one of
 * `roots`, following symbolic links in its folders (not in the file itself: acting on a link acts
 * on the link). Throws PathOutsideAllowedError otherwise.
 */
export async function confine(target: string, roots: readonly string[]): Promise<string> {
  const absolute = path.resolve(roots[0]!, target);
  const inFolder = path.join(await realOrResolved(path.dirname(absolute)), path.basename(absolute));
  for (const root of roots) {
    const rel = path.relative(await realOrResolved(root), inFolder);
    if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return inFolder;
  }
  throw new PathOutsideAllowedError(target, roots);
}

/** lstat that answers undefined for a missing path. */
export async function lstatOrUndefined(p: string): Promise<fs.Stats | undefined> {
  try {
    return await fs.promises.lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function assertFileOrLink(p: string, stats: fs.Stats): void {
  if (!stats.isFile() && !stats.isSymbolicLink()) throw new NotAFileError(p);
}

/** `dir/name`, or `dir/name-2.ext`, `-3`… when taken: archiving never overwrites. */
export async function freeName(dir: string, name: string): Promise<string> {
  const ext = path.extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let n = 1; ; n++) {
    const candidate = path.join(dir, n === 1 ? name : `${stem}-${n}${ext}`);
    if (!(await lstatOrUndefined(candidate))) return candidate;
  }
}

/** rename, or copy + size check + unlink when the archive is on another file system. */
export async function move(from: string, to: string): Promise<void> {
  try {
    await fs.promises.rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await fs.promises.copyFile(from, to, fs.constants.COPYFILE_EXCL);
    const [a, b] = await Promise.all([fs.promises.stat(from), fs.promises.stat(to)]);
    if (a.size !== b.size) {
      throw new Error(`copy of ${from} to ${to} is incomplete; the original was kept`, { cause: err });
    }
    await fs.promises.unlink(from);
  }
}

/**
 * The person who carries the removable medium of an isolated site, for the demo and the tests. The
 * simulated medium is two folders: the DMZ installation's outbound folder (the stick in the DMZ
 * machine) and the air-gapped installation's intake folder (the same stick in the air-gapped
 * machine). Carrying moves a cycle's transfer package from the first to the second; carrying back
 * moves its receipt the other way.
 *
 * A move is what a stick does: what leaves one machine is no longer there. The copy lands under a
 * hidden temporary name and is renamed when complete, as the installations write their own
 * folders (adapters/transfer-medium.ts), so an intake that polls the folder never takes in half a
 * package.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { packageFolderOf, receiptFolderOf } from '../adapters/transfer-medium';

/** Thrown when there is nothing to carry, or the other end already holds it; the message says which. */
export class MediumCourierError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MediumCourierError';
  }
}

export interface CarriedFolder {
  from: string;
  to: string;
  files: { name: string; size: number }[];
}

export type MediumItem = 'package' | 'receipt';

async function listFiles(folder: string): Promise<{ name: string; size: number }[]> {
  const entries = await fs.promises.readdir(folder, { withFileTypes: true });
  const files = [];
  for (const e of entries.filter((d) => d.isFile()).sort((a, b) => a.name.localeCompare(b.name))) {
    files.push({ name: e.name, size: (await fs.promises.stat(path.join(folder, e.name))).size });
  }
  return files;
}

/** What the medium folder holds, for an error that says what is there instead. */
function whatIsIn(folder: string): string {
  let names: string[];
  try {
    names = fs.readdirSync(folder).filter((n) => !n.startsWith('.'));
  } catch {
    return `${folder} does not exist`;
  }
  return names.length ? `it holds ${names.join(', ')}` : `${folder} is empty`;
}

async function moveFolder(source: string, targetDir: string): Promise<CarriedFolder> {
  const target = path.join(targetDir, path.basename(source));
  await fs.promises.mkdir(targetDir, { recursive: true });
  if (fs.existsSync(target)) {
    throw new MediumCourierError(`${target} is there already: it was carried before (remove it to carry it again)`);
  }
  const files = await listFiles(source);
  const temp = path.join(targetDir, `.${path.basename(source)}.partial-${randomBytes(4).toString('hex')}`);
  await fs.promises.mkdir(temp);
  try {
    for (const f of files) {
      await fs.promises.copyFile(path.join(source, f.name), path.join(temp, f.name), fs.constants.COPYFILE_EXCL);
    }
    await fs.promises.rename(temp, target);
  } catch (err) {
    await fs.promises.rm(temp, { recursive: true, force: true });
    throw err;
  }
  await fs.promises.rm(source, { recursive: true, force: true });
  return { from: source, to: target, files };
}

/**
 * Moves cycle `cycleId`'s package (`item: 'package'`, DMZ outbound → air-gapped intake) or its
 * receipt (`'receipt'`, air-gapped intake → DMZ outbound). Throws MediumCourierError when it is not
 * in `from` or is already in `to`.
 */
export async function carryMedium(input: {
  item: MediumItem;
  cycleId: string;
  from: string;
  to: string;
}): Promise<CarriedFolder> {
  const folderOf = input.item === 'package' ? packageFolderOf : receiptFolderOf;
  const source = folderOf(input.from, input.cycleId);
  const stat = fs.statSync(source, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) {
    const there = folderOf(input.to, input.cycleId);
    if (fs.existsSync(there))
      throw new MediumCourierError(`the ${input.item} of cycle ${input.cycleId} was carried already: ${there}`);
    const writer =
      input.item === 'package'
        ? 'the DMZ installation writes it before the cycle waits for the receipt'
        : 'the air-gapped installation writes it once it has imported the package';
    throw new MediumCourierError(
      `no transfer ${input.item} of cycle ${input.cycleId} in ${input.from} (expected ${path.basename(source)}; ` +
        `${writer}); ${whatIsIn(input.from)}`,
    );
  }
  return moveFolder(source, input.to);
}

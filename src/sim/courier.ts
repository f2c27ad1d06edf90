/**
 * The person who carries the zip across the air gap (C2), for the demo and the tests. Without a
 * mistake it copies the bundle, unchanged and under its own name, into each air-gapped relay's
 * install dir; each mistake is one people really make.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RelayConfig } from '../domain/config';

export type CourierMistake = 'rename' | 'truncate' | 'corrupt' | 'wrong-folder';

export interface CarryInput {
  bundlePath: string;
  relays: Pick<RelayConfig, 'name' | 'installDir'>[];
  mistake?: CourierMistake;
}

export interface CarryResult {
  copies: { relay: string; path: string; size: number }[];
}

/** Thrown when the courier cannot copy: no source file, or a relay's install dir is missing. */
export class CourierError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CourierError';
  }
}

export async function carryBundle(input: CarryInput): Promise<CarryResult> {
  let size: number;
  try {
    size = (await fs.promises.stat(input.bundlePath)).size;
  } catch (err) {
    throw new CourierError(`cannot read the bundle ${input.bundlePath}: ${(err as Error).message}`, { cause: err });
  }
  const fileName = path.basename(input.bundlePath);
  const copies: CarryResult['copies'] = [];
  for (const relay of input.relays) {
    const installDir = relay.installDir;
    const dir = installDir ? await fs.promises.stat(installDir).catch(() => undefined) : undefined;
    if (!installDir || !dir?.isDirectory()) {
      throw new CourierError(
        `relay ${relay.name}: the install dir ${String(installDir)} ${dir ? 'is not a folder' : 'does not exist'}; nothing was copied there`,
      );
    }
    const target = targetPath(installDir, fileName, input.mistake);
    if (input.mistake === 'truncate') {
      // An interrupted copy: the file is there under the right name, but short.
      await copyPrefix(input.bundlePath, target, Math.floor(size * 0.6));
    } else {
      await fs.promises.copyFile(input.bundlePath, target);
      if (input.mistake === 'corrupt') await flipBytes(target, size);
    }
    copies.push({ relay: relay.name, path: target, size: (await fs.promises.stat(target)).size });
  }
  return { copies };
}

function targetPath(installDir: string, fileName: string, mistake: CourierMistake | undefined): string {
  if (mistake === 'wrong-folder') return path.join(path.dirname(installDir), fileName);
  if (mistake === 'rename') {
    // What a file manager does when a copy of the name already exists, or a person "tidies up".
    return path.join(installDir, `${path.basename(fileName, '.zip')} (1).zip`);
  }
  return path.join(installDir, fileName);
}

async function copyPrefix(from: string, to: string, bytes: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const source = fs.createReadStream(from, { start: 0, end: Math.max(0, bytes - 1) });
    const sink = fs.createWriteStream(to);
    source.on('error', reject);
    sink.on('error', reject);
    sink.on('finish', () => resolve());
    if (bytes === 0) {
      source.destroy();
      sink.end();
    } else source.pipe(sink);
  });
}

/** Same size, damaged content: a bad USB stick or a faulty transfer. */
async function flipBytes(file: string, size: number): Promise<void> {
  const handle = await fs.promises.open(file, 'r+');
  try {
    const at = Math.floor(size / 3);
    const buf = Buffer.alloc(Math.min(64, size - at));
    await handle.read(buf, 0, buf.length, at);
    for (let i = 0; i < buf.length; i++) buf[i] = buf[i]! ^ 0x5a;
    await handle.write(buf, 0, buf.length, at);
  } finally {
    await handle.close();
  }
}

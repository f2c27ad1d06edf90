/**
 * What an installation's intake has already handled, kept in its data folder
 * (`<dataDir>/intake/handled.json`) so that a restarted poller does not offer again every
 * package or receipt still lying on the medium.
 *
 * Why a file of our own, and not "ask Temporal or the audit whether that cycle was taken in":
 * the poller should behave after a restart exactly as it did before it, and before it the rule
 * was "a folder is offered once per content", whatever the answer was: an intake that was
 * refused, rejected by a person or ran out of time is not started again just because the
 * process restarted, and a receipt whose cycle ended is not offered to it again. Temporal keeps
 * a run only for the namespace's retention and the audit records only what the workflows did,
 * not what the poller offered (a receipt offered to an ended cycle leaves no record at all), so
 * neither can answer "was this content offered?". A person who wants an answer anyway runs
 * `airgap intake <folder>`, which offers everything it is given.
 *
 * A folder is known by its path and a fingerprint of its content: the SHA-256 of each small
 * file (manifest, receipt, signatures: what says which package it is) and the size and
 * modification time of each large one (the zip: hashing a GiB every few seconds would cost more
 * than the intake itself; a zip written again gets a new modification time). A different package
 * or receipt at the same path has another fingerprint and is offered again.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Files up to this size are known by their content; larger ones by size and modification time. */
const HASHED_UP_TO = 1024 * 1024;
/** The oldest entries are dropped beyond this many: the file stays small on a medium used for years. */
const MAX_ENTRIES = 2000;

export interface HandledEntry {
  fingerprint: string;
  /** The outcome of the offer (an IntakeOutcome status) and what it went to. */
  status: string;
  workflowId?: string;
  message: string;
  at: string;
}

type Entries = Record<string, HandledEntry>;

/** Both sets, the later entry of a folder winning. */
function merged(a: Entries, b: Entries): Entries {
  const out = { ...a };
  for (const [folder, entry] of Object.entries(b)) {
    const other = out[folder];
    if (!other || other.at <= entry.at) out[folder] = entry;
  }
  return out;
}

/**
 * The fingerprint of a package or receipt folder; undefined when the folder is gone (taken
 * off the medium between listing and reading).
 */
export async function fingerprintOf(folder: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = (await fs.promises.readdir(folder)).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const hash = createHash('sha256');
  for (const name of names) {
    const file = path.join(folder, name);
    const stat = await fs.promises.stat(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!stat?.isFile()) continue;
    const what =
      stat.size <= HASHED_UP_TO
        ? `sha256:${createHash('sha256')
            .update(await fs.promises.readFile(file))
            .digest('hex')}`
        : `size:${stat.size};mtime:${stat.mtimeMs}`;
    hash.update(`${name}\0${what}\n`);
  }
  return hash.digest('hex');
}

/**
 * The memory never stops an intake: a file that cannot be read or written is told to `onError`
 * (naming the file), and this process goes on with what it holds itself, as the poller did
 * before the memory was kept on disk.
 */
export class IntakeMemory {
  private entries: Entries = {};

  constructor(
    readonly file: string,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  /** The memory of an installation: in its data folder. */
  static in(dataDir: string, onError?: (err: Error) => void): IntakeMemory {
    return new IntakeMemory(path.join(dataDir, 'intake', 'handled.json'), onError);
  }

  /** Reads the file again: another process of this installation (`airgap intake` by hand) may have written it. */
  async refresh(): Promise<void> {
    try {
      this.entries = merged(this.entries, await this.read());
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /** The entry of `folder` when its content is what was handled; undefined when new or changed. */
  handled(folder: string, fingerprint: string): HandledEntry | undefined {
    const entry = this.entries[path.resolve(folder)];
    return entry?.fingerprint === fingerprint ? entry : undefined;
  }

  /** Records an offer's outcome at once, so a crash right after it does not lose it. */
  async remember(folder: string, entry: HandledEntry): Promise<void> {
    this.entries[path.resolve(folder)] = entry;
    try {
      // Read again first: two processes of the same installation (a poller, a person's intake) may write.
      const entries = merged(await this.read().catch(() => ({})), this.entries);
      const kept = Object.entries(entries)
        .sort(([, a], [, b]) => b.at.localeCompare(a.at))
        .slice(0, MAX_ENTRIES);
      this.entries = Object.fromEntries(kept);
      await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
      await fs.promises.writeFile(tmp, `${JSON.stringify(this.entries, null, 2)}\n`);
      await fs.promises.rename(tmp, this.file);
    } catch (err) {
      this.onError(
        new Error(`${this.file}: cannot write the intake's memory: ${(err as Error).message}`, { cause: err }),
      );
    }
  }

  private async read(): Promise<Entries> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new Error(`${this.file}: cannot read the intake's memory: ${(err as Error).message}`, { cause: err });
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      return parsed as Entries;
    } catch (err) {
      throw new Error(`${this.file}: cannot read the intake's memory: ${(err as Error).message}`, { cause: err });
    }
  }
}

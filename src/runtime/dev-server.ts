/**
 * Runs the Temporal CLI's dev server as a child process: the embedded default's server and the
 * test suite's server are the same real thing, only the database file and ports differ.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

// The launcher script is plain JS so it can run before the TypeScript build.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureTemporalCli } = require('../../scripts/ensure-temporal.js') as {
  ensureTemporalCli: () => Promise<string>;
};

// Kept importable from here for the tests and benches that start a dev server on a free port.
export { assertPortFree, freePort, PortInUseError } from '../adapters/ports';

export interface DevServerOptions {
  /** SQLite file for persistent state; omitted = in memory. */
  dbFile?: string;
  ip?: string;
  port: number;
  /** Omitted = headless (no Web UI). */
  uiPort?: number;
  namespaces?: string[];
  /** Where the server's own log goes. */
  logFile: string;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Thrown when the dev server's database file is not an SQLite database; nothing is deleted. */
export class CorruptDataError extends Error {
  constructor(readonly file: string) {
    super(
      `${file} is not a readable SQLite database (corrupt or not ours). Nothing was deleted. ` +
        'Move the file aside (keep it for investigation) to start with empty Temporal state.',
    );
    this.name = 'CorruptDataError';
  }
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export function assertSqliteFile(file: string): void {
  if (!fs.existsSync(file)) return;
  const size = fs.statSync(file).size;
  if (size === 0) return;
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    fs.readSync(fd, head, 0, head.length, 0);
    if (!head.equals(SQLITE_MAGIC)) throw new CorruptDataError(file);
  } finally {
    fs.closeSync(fd);
  }
}

async function waitForPort(port: number, host: string, child: ChildProcess, logFile: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
      throw new Error(
        `the Temporal dev server exited with code ${child.exitCode} while starting; its log (${logFile}):\n${tail}`,
      );
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline)
      throw new Error(`the Temporal dev server did not open ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const cli = await ensureTemporalCli();
  const ip = options.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(options.port), '--log-level', 'warn'];
  if (options.dbFile) {
    assertSqliteFile(options.dbFile);
    fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
    // WAL: a crash or kill -9 of the dev server keeps every committed transaction.
    args.push('--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=wal');
  }
  if (options.uiPort) args.push('--ui-ip', ip, '--ui-port', String(options.uiPort));
  else args.push('--headless');
  for (const ns of options.namespaces ?? []) args.push('--namespace', ns);

  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = fs.openSync(options.logFile, 'a');
  // Through a supervisor that ends the server when this process dies, even by SIGKILL.
  const supervisor = path.resolve(__dirname, '..', '..', 'scripts', 'supervise.js');
  const child = spawn(process.execPath, [supervisor, String(process.pid), cli, ...args], {
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  await waitForPort(options.port, ip, child, options.logFile, 60_000);

  return {
    address: `${ip}:${options.port}`,
    uiUrl: options.uiPort ? `http://${ip}:${options.uiPort}` : undefined,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

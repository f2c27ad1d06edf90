/**
 * An installation of airgap-orchestrator as an operator runs it: `airgap start` in its own
 * process on its own configuration file, and one-off `airgap …` commands against it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export const BIN = path.resolve(__dirname, '..', '..', 'bin', 'airgap.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Installation {
  configFile: string;
  child: ChildProcess;
  output(): string;
  ready: Promise<void>;
  exited: Promise<number | null>;
  /** Runs `airgap --config <this> …args` and waits for it. */
  cli(...args: string[]): CliRun;
  /** SIGINT, then the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `airgap --config <configFile> …args` with exactly `env`, and waits for it. */
export function runCli(configFile: string, env: NodeJS.ProcessEnv, ...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [BIN, '--config', configFile, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `env`: the whole environment of the process (nothing of the test's is added). */
export function startInstallation(configFile: string, env: NodeJS.ProcessEnv): Installation {
  let output = '';
  const child = spawn(process.execPath, [BIN, '--config', configFile, 'start'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes('Press Ctrl-C to stop.')) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`airgap start (${configFile}) exited (${code}) before it was ready:\n${output}`));
    });
  });
  ready.catch(() => undefined);
  return {
    configFile,
    child,
    output: () => output,
    ready,
    exited,
    cli: (...args) => runCli(configFile, env, ...args),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      // Stopped while still starting, a process may not be listening for SIGINT yet the usual way.
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}

/** Polls `check` every 250 ms until it returns something other than undefined. */
export async function until<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  ms = 30_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * `n` different ports free on 127.0.0.1 now: all are held open until every one is chosen, so two
 * asks in a row cannot get the same port back (freePort alone can).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      servers.push(server);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

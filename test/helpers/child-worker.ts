/**
 * A worker in its own process (`airgap worker` from the built dist/), so a test can kill it the
 * hard way (SIGKILL) as a crashed host would, and start another.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { TEST_NAMESPACE, testTemporalAddress } from './env';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'airgap.js');

export interface ChildWorker {
  process: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnWorker(configFile: string, env: NodeJS.ProcessEnv, args: string[] = []): ChildWorker {
  let output = '';
  const child = spawn(process.execPath, [BIN, '--config', configFile, 'worker', ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...env,
      TEMPORAL_ADDRESS: testTemporalAddress(),
      TEMPORAL_NAMESPACE: TEST_NAMESPACE,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return {
    process: child,
    output: () => output,
    kill: (signal = 'SIGKILL') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/**
 * A simulated site on free loopback ports in a temporary folder: the configuration goes through
 * parseConfig like an operator's file, and the simulator really serves HTTPS and writes the host
 * executables. Shared by the simulator and adapter tests.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseConfig, type AppConfig, type SiteConfig } from '../../src/domain/config';
import { freePort } from '../../src/runtime/dev-server';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/sim';

const exec = promisify(execFile);

export interface SimFixture {
  dir: string;
  config: AppConfig;
  site: SiteConfig;
  env: NodeJS.ProcessEnv;
  sim: RunningSimulator;
  /** Starts the simulator again on the same data dir (after stop()). */
  restart(overrides?: Partial<SimulatorOptions>): Promise<RunningSimulator>;
  cleanup(): Promise<void>;
}

export async function makeConfig(dir: string, relays = 2): Promise<{ config: AppConfig; env: NodeJS.ProcessEnv }> {
  const [dmzPort, airgapPort] = [await freePort(), await freePort()];
  const host = (name: string) => path.join(dir, 'hosts', name, 'opt', 'ds_agent');
  const config = parseConfig(
    {
      dataDir: dir,
      sites: [
        {
          id: 'plant',
          dmz: {
            manager: {
              url: `https://127.0.0.1:${dmzPort}/api`,
              apiKeyEnv: 'TEST_DMZ_API_KEY',
              caFile: path.join(dir, 'sim', 'tls', 'ca.pem'),
              requestTimeout: '5s',
            },
            relay: { name: 'plant-dmz-relay', computerId: 11, installDir: host('plant-dmz-relay') },
          },
          airgapped: {
            manager: {
              url: `https://127.0.0.1:${airgapPort}/api`,
              apiKeyEnv: 'TEST_AIRGAP_API_KEY',
              caFile: path.join(dir, 'sim', 'tls', 'ca.pem'),
              dsmCPath: path.join(dir, 'hosts', 'plant-airgap-manager', 'opt', 'dsm', 'dsm_c'),
              requestTimeout: '5s',
            },
            relays: Array.from({ length: relays }, (_, i) => ({
              name: `plant-airgap-relay-${i + 1}`,
              computerId: 21 + i,
              installDir: host(`plant-airgap-relay-${i + 1}`),
            })),
          },
          people: { operators: ['operator@plant.example'] },
        },
      ],
    },
    'test config',
  );
  return { config, env: { TEST_DMZ_API_KEY: 'dmz-key-0123456789', TEST_AIRGAP_API_KEY: 'airgap-key-9876543210' } };
}

export async function startFixture(options: Partial<SimulatorOptions> & { relays?: number } = {}): Promise<SimFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-sim-'));
  const { config, env } = await makeConfig(dir, options.relays);
  const { relays: _relays, ...simOptions } = options;
  const start = (overrides: Partial<SimulatorOptions> = {}) =>
    startSimulator({ config, dataDir: dir, apiKeys: env, importDelayMs: 150, ...simOptions, ...overrides });
  const fixture: SimFixture = {
    dir,
    config,
    site: config.sites[0]!,
    env,
    sim: await start(),
    async restart(overrides) {
      fixture.sim = await start(overrides);
      return fixture.sim;
    },
    async cleanup() {
      await fixture.sim.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** Runs the DMZ relay's dsa_control as a real process; returns its output and exit code. */
export async function runTool(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(file, args, { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Polls until `check` returns a value (not undefined) or the time is up. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

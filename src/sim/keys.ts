/**
 * API keys of the simulated managers. A real deployment sets them in the environment (the config
 * names the variables); the embedded demo must work with nothing set, so unset variables get a
 * generated key, kept in <dataDir>/sim/keys.json (mode 0600) so a restart keeps the same keys.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AppConfig } from '../domain/config';
import { simDir } from './state';

/** Thrown when a manager's API key variable is unset; names the variable, never a value. */
export class MissingApiKeyError extends Error {
  constructor(
    readonly variable: string,
    readonly managerUrl: string,
  ) {
    super(`the API key of the simulated manager ${managerUrl} is unset: set the environment variable ${variable}`);
    this.name = 'MissingApiKeyError';
  }
}

/** The variable names of every manager's key, deduplicated. */
function keyVariables(config: AppConfig): string[] {
  const names = config.sites.flatMap((s) => [s.dmz.manager.apiKeyEnv, s.airgapped.manager.apiKeyEnv]);
  return [...new Set(names)];
}

/**
 * Fills `env` with a key for every manager variable that is unset, generating and persisting the
 * missing ones. Variables already set are left alone and not written to disk.
 */
export function ensureSimulatorKeys(config: AppConfig, dataDir: string, env: NodeJS.ProcessEnv): void {
  const file = path.join(simDir(dataDir), 'keys.json');
  const unset = keyVariables(config).filter((name) => !env[name]);
  if (unset.length === 0) return;
  let saved: Record<string, string> = {};
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  let changed = false;
  for (const name of unset) {
    if (!saved[name]) {
      // DS API keys look like "<id>:<secret>"; the shape does not matter to the simulator.
      saved[name] = `1:${crypto.randomBytes(32).toString('base64url')}`;
      changed = true;
    }
    env[name] = saved[name];
  }
  if (changed) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(saved, null, 2), { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
}

/** A manager's key from the resolved keys (by variable name); throws MissingApiKeyError when it has none. */
export function readManagerKey(
  apiKeys: Readonly<Record<string, string | undefined>>,
  variable: string,
  managerUrl: string,
): string {
  const value = apiKeys[variable];
  if (!value) throw new MissingApiKeyError(variable, managerUrl);
  return value;
}

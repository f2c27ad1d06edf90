/**
 * Secrets of the embedded default. A newcomer runs `npm start` with nothing set, so the link
 * signing key (and the simulator's API keys) are generated once and kept under the data folder,
 * readable by the owner only. A variable already set in the environment always wins; outside the
 * embedded default nothing is generated and a missing secret is an error naming the variable.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Sets env[name] from <dataDir>/secrets/<name> (creating it) unless env[name] is already set. */
export function ensureLocalSecret(
  dataDir: string,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): 'env' | 'file' | 'generated' {
  if (env[name]) return 'env';
  const dir = path.join(dataDir, 'secrets');
  const file = path.join(dir, name);
  if (fs.existsSync(file)) {
    env[name] = fs.readFileSync(file, 'utf8').trim();
    return 'file';
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const value = randomBytes(48).toString('base64url');
  fs.writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  env[name] = value;
  return 'generated';
}

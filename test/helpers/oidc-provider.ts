/**
 * Starts the real OpenID Connect provider of oidc-provider-process.mjs on a free port, as a child
 * process, and stops it. Its login form takes any login (the account's email) and any password.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../src/adapters/ports';

export interface RunningOidcProvider {
  issuer: string;
  close(): Promise<void>;
}

export interface OidcClientSettings {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** Tries a few free ports: another process on this shared machine may take one between the pick and the bind. */
export async function startOidcProvider(client: OidcClientSettings): Promise<RunningOidcProvider> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(client, await freePort());
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
}

async function startOnce(client: OidcClientSettings, port: number): Promise<RunningOidcProvider> {
  const script = path.join(__dirname, 'oidc-provider-process.mjs');
  const child = spawn(
    process.execPath,
    [script, String(port), client.clientId, client.clientSecret, client.redirectUri],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the OIDC provider did not start in 20s: ${output}`)), 20_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const m = /listening (\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the OIDC provider exited with ${code}: ${output}`));
    });
  });
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

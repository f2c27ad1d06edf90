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

export async function startOidcProvider(client: {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}): Promise<RunningOidcProvider> {
  const port = await freePort();
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

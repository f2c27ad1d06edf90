/**
 * The simulated managers' TLS material, made once with the openssl CLI and reused: a private CA
 * (ca.pem, which the demo config's caFile points at) and a server certificate for 127.0.0.1 and
 * localhost. Generated in a scratch folder and renamed into place, so an interrupted first start
 * never leaves a key without its certificate.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SimTls {
  caFile: string;
  cert: Buffer;
  key: Buffer;
}

/** Thrown when openssl is missing or fails; carries its stderr. */
export class SimTlsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SimTlsError';
  }
}

export function tlsDir(simDir: string): string {
  return path.join(simDir, 'tls');
}

export async function ensureSimulatorTls(simDir: string): Promise<SimTls> {
  const dir = tlsDir(simDir);
  const files = {
    caFile: path.join(dir, 'ca.pem'),
    cert: path.join(dir, 'server.pem'),
    key: path.join(dir, 'server-key.pem'),
  };
  if (!Object.values(files).every((f) => fs.existsSync(f))) await generate(dir);
  return { caFile: files.caFile, cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key) };
}

async function generate(dir: string): Promise<void> {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const scratch = fs.mkdtempSync(`${dir}.new-`);
  const at = (name: string) => path.join(scratch, name);
  // P-256 keys: generated in milliseconds, accepted by every TLS client.
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  fs.writeFileSync(
    at('server.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ].join('\n'),
  );
  try {
    await openssl([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      at('ca-key.pem'),
      '-out',
      at('ca.pem'),
      '-days',
      '3650',
      '-subj',
      '/CN=airgap-orchestrator Deep Security simulator CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await openssl(['req', ...ec, '-keyout', at('server-key.pem'), '-out', at('server.csr'), '-subj', '/CN=localhost']);
    await openssl([
      'x509',
      '-req',
      '-in',
      at('server.csr'),
      '-CA',
      at('ca.pem'),
      '-CAkey',
      at('ca-key.pem'),
      '-CAcreateserial',
      '-out',
      at('server.pem'),
      '-days',
      '825',
      '-extfile',
      at('server.ext'),
    ]);
    for (const f of ['ca-key.pem', 'server-key.pem']) fs.chmodSync(at(f), 0o600);
    for (const f of ['server.csr', 'server.ext', 'ca.srl']) fs.rmSync(at(f), { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(scratch, dir);
  } catch (err) {
    fs.rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 60_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new SimTlsError('the simulator needs the openssl command to make its certificates; install openssl', {
        cause: err,
      });
    }
    throw new SimTlsError(`openssl ${args[0]} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/**
 * The embedded default's isolated site (issue 13): besides this installation (the DMZ one), `npm
 * start` runs the site's air-gapped installation as a child installation — `airgap start` on the
 * configuration `simulator.airgappedConfig` names, with its own data folder, Temporal dev server,
 * workers, audit and web app. The two share nothing but the simulated medium (the DMZ outbound
 * folder and the air-gapped intake folder, between which `airgap sim carry` moves things) and the
 * simulated Deep Security world this process runs.
 *
 * On the first start the demo makes each side's signing key pair (as `airgap keys init` would:
 * private key mode 0600 in a 0700 folder) and puts each public key where the other side's
 * `isolated.trust` expects it: the one-time carrying of the public keys, done for the demo.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { generateSigningKeyPair, publicKeyPemOf } from '../adapters/signing';
import { ConfigError, type AppConfig, type IsolatedConfig, type SiteConfig } from '../domain/config';
import { loadConfig, type LoadedConfig } from './load-config';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'airgap.js');
/** How long the child installation may take to say it is ready (it builds its workflow bundle once). */
const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;

/** The air-gapped configuration and, per isolated site, the DMZ side (this config) and the air-gapped side (the child's). */
export interface IsolatedDemo {
  peer: LoadedConfig;
  pairs: { siteId: string; dmz: IsolatedConfig; airgapped: IsolatedConfig }[];
}

/** Reads simulator.airgappedConfig and pairs its air-gapped sites with this configuration's isolated DMZ sites. */
export function loadIsolatedDemo(config: AppConfig): IsolatedDemo | undefined {
  const file = config.simulator.airgappedConfig;
  if (!config.simulator.enabled || !file) return undefined;
  const peer = loadConfig(file);
  const pairs: IsolatedDemo['pairs'] = [];
  const problems: string[] = [];
  for (const site of config.sites.filter((s: SiteConfig) => s.isolated?.side === 'dmz')) {
    const other = peer.config.sites.find((s) => s.id === site.id);
    if (other?.isolated?.side !== 'airgapped') {
      problems.push(
        `simulator.airgappedConfig: ${file} has no air-gapped side (isolated.side: airgapped) of site ${site.id}`,
      );
      continue;
    }
    pairs.push({ siteId: site.id, dmz: site.isolated!, airgapped: other.isolated });
  }
  if (problems.length) throw new ConfigError(file, problems);
  return { peer, pairs };
}

function writeOwnerOnly(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
  fs.chmodSync(file, 0o600);
}

/** Makes a side's pair when its key file is missing; returns its public key PEM (undefined with keyEnv). */
function ensureOwnKey(iso: IsolatedConfig, made: string[]): string | undefined {
  if (!iso.keyFile) return undefined;
  if (!fs.existsSync(iso.keyFile)) {
    const pair = generateSigningKeyPair();
    writeOwnerOnly(iso.keyFile, pair.privateKeyPem);
    const publicFile = path.join(path.dirname(iso.keyFile), `${iso.side}.pub.pem`);
    if (!fs.existsSync(publicFile)) fs.writeFileSync(publicFile, pair.publicKeyPem, { mode: 0o644 });
    made.push(`${iso.keyFile} (${pair.keyId})`);
    return pair.publicKeyPem;
  }
  return publicKeyPemOf(createPrivateKey(fs.readFileSync(iso.keyFile, 'utf8')));
}

/** Puts `publicKeyPem` where `iso` trusts its first key, unless something is there already. */
function ensureTrusted(iso: IsolatedConfig, publicKeyPem: string | undefined, made: string[]): void {
  const file = iso.trust[0]?.publicKeyFile;
  if (!publicKeyPem || !file || fs.existsSync(file)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, publicKeyPem, { mode: 0o644 });
  made.push(file);
}

/**
 * The keys of every isolated demo site, made once: nothing that exists is overwritten, so keys an
 * operator rotated or replaced stay. Returns the files it made.
 */
export function ensureIsolatedDemoKeys(demo: IsolatedDemo): string[] {
  const made: string[] = [];
  for (const pair of demo.pairs) {
    const dmzPublic = ensureOwnKey(pair.dmz, made);
    const airgappedPublic = ensureOwnKey(pair.airgapped, made);
    ensureTrusted(pair.airgapped, dmzPublic, made);
    ensureTrusted(pair.dmz, airgappedPublic, made);
  }
  return made;
}

/** The simulated medium's folders: each DMZ outbound folder and each air-gapped intake folder. */
export function ensureMediumFolders(demo: IsolatedDemo): string[] {
  const folders = demo.pairs.flatMap((p) => [p.dmz.outboundFolder, p.airgapped.intakeFolder]);
  const made = folders.filter((f): f is string => !!f);
  for (const folder of made) fs.mkdirSync(folder, { recursive: true });
  return made;
}

export interface ChildInstallation {
  /** Resolves once the child says it is ready; rejects with why when it stops first or takes too long. */
  ready: Promise<void>;
  /** SIGINT to the child, then waits for it to stop (SIGKILL after 30 s). */
  stop(): Promise<void>;
  /** Resolves when the child exits without being asked to. */
  exited: Promise<Error>;
}

/** The environment of the child: this one's (the simulated managers' API keys), without what points elsewhere. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TEMPORAL_ADDRESS;
  delete env.AIRGAP_CONFIG;
  return env;
}

/**
 * Spawns `airgap start --config <file>`; its output goes to `log`, each line marked
 * "[air-gapped]". `ready` rejects, after the child's own error (a taken port, a missing key file)
 * was logged, when it stops before it is ready. The caller starts its own parts meanwhile.
 */
export function startChildInstallation(file: string, log: (line: string) => void): ChildInstallation {
  const child: ChildProcess = spawn(process.execPath, [BIN, '--config', file, 'start'], {
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let ready = false;
  /** The child said it is stopping: Ctrl-C in a terminal reaches the whole process group. */
  let childStopping = false;
  let onReady: () => void = () => undefined;
  const readyLine = new Promise<void>((resolve) => (onReady = resolve));
  const relay = (chunk: Buffer) => {
    output += chunk.toString();
    const lines = output.split('\n');
    output = lines.pop() ?? '';
    for (const line of lines) {
      if (/^stopping \(/.test(line)) childStopping = true;
      // Said once, by this process, when the whole tree is ready.
      if (line.includes('Press Ctrl-C to stop.')) {
        ready = true;
        onReady();
        continue;
      }
      log(`  [air-gapped] ${line}`);
    }
  };
  child.stdout!.on('data', relay);
  child.stderr!.on('data', relay);
  let stopping = false;
  const exitCode = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Only an exit nobody asked for is a failure of the whole stack.
  const exited = new Promise<Error>((resolve) => {
    void exitCode.then((code) => {
      if (!stopping) resolve(new Error(`the air-gapped installation (${file}) exited (code ${code})`));
    });
  });
  const readyOrNot = (async () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, READY_TIMEOUT_MS, 'timeout')));
    const first = await Promise.race([
      readyLine.then(() => 'ready' as const),
      exitCode.then(() => 'exit' as const),
      timeout,
    ]);
    clearTimeout(timer);
    if (first === 'ready' && ready) return;
    if (first === 'timeout') child.kill('SIGKILL');
    throw new Error(
      first === 'timeout'
        ? `the air-gapped installation (${file}) was not ready within ${READY_TIMEOUT_MS / 1000} s`
        : `the air-gapped installation (${file}) did not start; its own message is above`,
    );
  })();
  readyOrNot.catch(() => undefined); // awaited by the caller
  return {
    ready: readyOrNot,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      // A second SIGINT would cut the child's own orderly stop short: give the terminal's a moment.
      const said = Date.now() + 1000;
      while (!childStopping && child.exitCode === null && Date.now() < said) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (!childStopping && child.exitCode === null) child.kill('SIGINT');
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exitCode;
      clearTimeout(killer);
    },
  };
}

/**
 * Reads and validates the configuration file once at start. Relative paths inside the file
 * (dataDir, caFile, installDir, archiveDir, dsmCPath, rules.importFolder) are resolved against the file's own folder,
 * so a config means the same thing whatever the current directory is.
 *
 * The files and folders it names are checked by `checkConfigFiles` before a long-running process
 * starts, for the roles that process plays: a CA file lives where its manager is called from, an
 * install dir on its relay, so a one-off command or a relay's worker does not need the others.
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { KeyMaterialError, loadConfirmationKey, loadOwnKey, loadTrustedKey } from '../adapters/signing';
import { isolatedKeySecrets } from './secrets';
import {
  ConfigError,
  installDirOf,
  parseConfig,
  rulesHostOf,
  type AppConfig,
  type ManagerConfig,
  type SiteConfig,
} from '../domain/config';

/** The simulated configuration shipped for the embedded default. */
export const DEFAULT_CONFIG_PATH = path.resolve(__dirname, '..', '..', 'config', 'demo.yaml');

export interface LoadedConfig {
  path: string;
  config: AppConfig;
}

/** Picks the file: --config, then AIRGAP_CONFIG, then the shipped demo config. */
export function configPathFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag ?? env.AIRGAP_CONFIG ?? DEFAULT_CONFIG_PATH);
}

function resolveFrom(base: string, p: string | undefined): string | undefined {
  if (p === undefined || path.isAbsolute(p) || path.win32.isAbsolute(p)) return p;
  return path.resolve(base, p);
}

export function loadConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : (err as Error).message;
    throw new ConfigError(file, [`cannot read the configuration: ${reason}`]);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new ConfigError(file, [`not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`]);
  }
  const config = parseConfig(document, file);
  const base = path.dirname(file);
  config.dataDir = resolveFrom(base, config.dataDir)!;
  config.simulator.airgappedConfig = resolveFrom(base, config.simulator.airgappedConfig);
  if (config.mail.smtp?.caFile) config.mail.smtp.caFile = resolveFrom(base, config.mail.smtp.caFile);
  const auditSsl = config.audit.postgres.ssl;
  if (auditSsl?.caFile) auditSsl.caFile = resolveFrom(base, auditSsl.caFile);
  for (const site of config.sites) {
    for (const manager of [site.dmz.manager, site.airgapped.manager]) {
      manager.caFile = resolveFrom(base, manager.caFile);
      manager.dsmCPath = resolveFrom(base, manager.dsmCPath);
    }
    for (const relay of [site.dmz.relay, ...site.airgapped.relays])
      relay.installDir = resolveFrom(base, relay.installDir);
    site.retention.archiveDir = resolveFrom(base, site.retention.archiveDir);
    site.rules.importFolder = resolveFrom(base, site.rules.importFolder);
    const iso = site.isolated;
    if (iso) {
      iso.outboundFolder = resolveFrom(base, iso.outboundFolder);
      iso.intakeFolder = resolveFrom(base, iso.intakeFolder);
      iso.keyFile = resolveFrom(base, iso.keyFile);
      for (const t of iso.trust) t.publicKeyFile = resolveFrom(base, t.publicKeyFile)!;
    }
  }
  return { path: file, config };
}

/** What a process does with the configuration: the worker roles it runs, and whether it is `airgap start`. */
export interface FileCheckScope {
  control: boolean;
  zones: readonly string[];
  hosts: readonly string[];
  /**
   * The embedded default creates what it owns before it uses it (the rule import folders; with
   * the simulator, the relays' install dirs, dsm_c and the simulator's CA): missing is fine there.
   */
  embedded?: boolean;
  /** Where an isolated site's key may be read from (isolated.keyEnv); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

type Kind = 'file' | 'folder';

function describeStat(p: string): fs.Stats | 'missing' | Error {
  try {
    return fs.statSync(p);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error);
  }
}

/**
 * Checks what the configuration names on this machine for the given roles: present, of the right
 * kind (file or folder), readable, and a CA file must hold a PEM certificate. Throws ConfigError
 * naming the file and each field's path.
 */
export function checkConfigFiles(loaded: LoadedConfig, scope: FileCheckScope): void {
  const { config } = loaded;
  const problems: string[] = [];
  const simulated = Boolean(scope.embedded && config.simulator.enabled);
  const simCaFile = path.join(config.dataDir, 'sim', 'tls', 'ca.pem');

  const check = (
    at: string,
    p: string | undefined,
    kind: Kind,
    opts: { mayBeMissing?: boolean; pem?: boolean; executable?: boolean } = {},
  ): void => {
    // A Windows path checked on another OS (or the reverse) belongs to a host elsewhere.
    if (p === undefined || !path.isAbsolute(p)) return;
    const stat = describeStat(p);
    if (stat === 'missing') {
      if (!opts.mayBeMissing) problems.push(`${at}: ${p} does not exist (expected a ${kind})`);
      return;
    }
    if (stat instanceof Error) {
      problems.push(`${at}: ${p} cannot be read: ${stat.message}`);
      return;
    }
    if (kind === 'folder' && !stat.isDirectory()) {
      problems.push(`${at}: ${p} is not a folder`);
      return;
    }
    if (kind === 'file' && !stat.isFile()) {
      problems.push(`${at}: ${p} is ${stat.isDirectory() ? 'a folder' : 'not a regular file'}, expected a file`);
      return;
    }
    const mode = kind === 'folder' ? fs.constants.R_OK | fs.constants.X_OK : fs.constants.R_OK;
    try {
      fs.accessSync(p, opts.executable && process.platform !== 'win32' ? mode | fs.constants.X_OK : mode);
    } catch {
      problems.push(`${at}: ${p} is not ${opts.executable ? 'readable and executable' : 'readable'} by this process`);
      return;
    }
    if (opts.pem) {
      const problem = pemCertificateProblem(fs.readFileSync(p, 'utf8'));
      if (problem) problems.push(`${at}: ${p} ${problem}`);
    }
  };

  check('dataDir', config.dataDir, 'folder', { mayBeMissing: true });
  if (scope.control && config.mail.smtp) check('mail.smtp.caFile', config.mail.smtp.caFile, 'file', { pem: true });

  config.sites.forEach((site, i) => {
    const managers: Array<[string, ManagerConfig]> = [
      [`sites.${i}.dmz.manager`, site.dmz.manager],
      [`sites.${i}.airgapped.manager`, site.airgapped.manager],
    ];
    for (const [at, manager] of managers) {
      const calledHere = manager.zone ? scope.zones.includes(manager.zone) : scope.control;
      if (calledHere) {
        check(`${at}.caFile`, manager.caFile, 'file', {
          pem: true,
          mayBeMissing: simulated && manager.caFile === simCaFile,
        });
      }
    }
    const relays = [
      { at: `sites.${i}.dmz.relay`, relay: site.dmz.relay },
      ...site.airgapped.relays.map((relay, j) => ({ at: `sites.${i}.airgapped.relays.${j}`, relay })),
    ];
    for (const { at, relay } of relays) {
      if (!scope.hosts.includes(relay.name)) continue;
      check(`${at}.installDir`, installDirOf(relay), 'folder', { mayBeMissing: simulated });
    }
    if (scope.hosts.includes(site.dmz.relay.name)) {
      // Made on the first archive.
      check(`sites.${i}.retention.archiveDir`, site.retention.archiveDir, 'folder', { mayBeMissing: true });
    }
    const managerHost = site.airgapped.manager.host;
    if (managerHost && scope.hosts.includes(managerHost)) {
      check(`sites.${i}.airgapped.manager.dsmCPath`, site.airgapped.manager.dsmCPath, 'file', {
        executable: true,
        mayBeMissing: simulated,
      });
    }
    const rulesHost = rulesHostOf(site);
    if (rulesHost && scope.hosts.includes(rulesHost)) {
      check(`sites.${i}.rules.importFolder`, site.rules.importFolder, 'folder', { mayBeMissing: scope.embedded });
    }
    if (scope.control && site.isolated) {
      // The medium is mounted when a courier brings it: a missing folder is normal at start.
      const { outboundFolder, intakeFolder } = site.isolated;
      check(`sites.${i}.isolated.outboundFolder`, outboundFolder, 'folder', { mayBeMissing: true });
      check(`sites.${i}.isolated.intakeFolder`, intakeFolder, 'folder', { mayBeMissing: true });
      problems.push(...isolatedKeyProblems(site, `sites.${i}.isolated`, scope.env ?? process.env));
    }
  });
  if (problems.length > 0) throw new ConfigError(loaded.path, problems);
}

/**
 * Whether an isolated site's own private key and the other side's trusted public keys can be
 * read and are Ed25519 keys: each problem names its setting (a start-up error, not a failed
 * cycle days later when the package is signed).
 */
export function isolatedKeyProblems(
  site: SiteConfig,
  at: string,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const iso = site.isolated;
  if (!iso) return [];
  const problems: string[] = [];
  const collect = (load: () => unknown): void => {
    try {
      load();
    } catch (err) {
      if (!(err instanceof KeyMaterialError)) throw err;
      problems.push(err.message);
    }
  };
  const values = isolatedKeySecrets(iso, env);
  collect(() => loadOwnKey({ at, keyFile: iso.keyFile, keyEnv: iso.keyEnv, keyPem: values.keyPem }));
  iso.trust.forEach((t, j) => collect(() => loadTrustedKey(`${at}.trust.${j}.publicKeyFile`, t)));
  collect(() => loadConfirmationKey({ at, confirmationKeyEnv: iso.confirmationKeyEnv, value: values.confirmationKey }));
  return problems;
}

/** Why a CA file's text is not a PEM certificate (or bundle of them), or undefined when it is. */
export function pemCertificateProblem(text: string): string | undefined {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return 'holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)';
  for (const [n, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return `holds a certificate that cannot be parsed (certificate ${n + 1}: ${(err as Error).message})`;
    }
  }
  return undefined;
}

/**
 * Reads and validates the configuration file once at start. Relative paths inside the file
 * (dataDir, caFile, installDir, archiveDir, dsmCPath, rules.importFolder) are resolved against the file's own folder,
 * so a config means the same thing whatever the current directory is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError, parseConfig, type AppConfig } from '../domain/config';

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
  if (config.mail.smtp?.caFile) config.mail.smtp.caFile = resolveFrom(base, config.mail.smtp.caFile);
  for (const site of config.sites) {
    for (const manager of [site.dmz.manager, site.airgapped.manager]) {
      manager.caFile = resolveFrom(base, manager.caFile);
      manager.dsmCPath = resolveFrom(base, manager.dsmCPath);
    }
    for (const relay of [site.dmz.relay, ...site.airgapped.relays])
      relay.installDir = resolveFrom(base, relay.installDir);
    site.retention.archiveDir = resolveFrom(base, site.retention.archiveDir);
    site.rules.importFolder = resolveFrom(base, site.rules.importFolder);
  }
  return { path: file, config };
}

/**
 * An isolated site's key files are checked at start, like every file the configuration names: a
 * missing or unreadable key is a start-up error naming the setting, not a cycle that fails days
 * later when it signs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { generateSigningKeyPair } from '../../src/adapters/signing';
import { ConfigError } from '../../src/domain/config';
import { checkConfigFiles, loadConfig, type FileCheckScope } from '../../src/runtime/load-config';
import { minimalSiteDoc } from '../helpers/minimal-site';

const CONTROL: FileCheckScope = { control: true, zones: [], hosts: [] };

describe('the key files of an isolated site at start', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-isolated-keys-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function configWith(isolated: Record<string, unknown>): string {
    const file = path.join(dir, `plant-${Math.random().toString(16).slice(2)}.yaml`);
    const site = minimalSiteDoc({
      mode: 'isolated',
      isolated: { side: 'dmz', installationId: 'dmz-plant1', outboundFolder: 'medium', ...isolated },
    });
    fs.writeFileSync(file, stringify({ dataDir: path.join(dir, 'data'), sites: [site] }));
    return file;
  }

  function problemsAtStart(file: string, env: Record<string, string> = {}): string[] {
    try {
      checkConfigFiles(loadConfig(file), { ...CONTROL, env });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(file);
      return [...(err as ConfigError).problems];
    }
    return [];
  }

  const pair = generateSigningKeyPair();
  const peer = generateSigningKeyPair();
  fs.mkdirSync(path.join(dir, 'keys'));
  fs.writeFileSync(path.join(dir, 'keys', 'dmz.key.pem'), pair.privateKeyPem, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'keys', 'airgapped.pub.pem'), peer.publicKeyPem);

  it('starts with both key files present, resolving them against the config file', () => {
    const file = configWith({ keyFile: 'keys/dmz.key.pem', trust: [{ publicKeyFile: 'keys/airgapped.pub.pem' }] });
    const loaded = loadConfig(file);
    expect(loaded.config.sites[0]!.isolated!.keyFile).toBe(path.join(dir, 'keys', 'dmz.key.pem'));
    expect(loaded.config.sites[0]!.isolated!.outboundFolder).toBe(path.join(dir, 'medium'));
    expect(problemsAtStart(file)).toEqual([]);
  });

  it('refuses to start without the own key file or a trusted public key, naming each setting', () => {
    const file = configWith({
      keyFile: 'keys/missing.key.pem',
      trust: [{ publicKeyFile: 'keys/airgapped.pub.pem' }, { publicKeyFile: 'keys/gone.pub.pem' }],
    });
    expect(problemsAtStart(file)).toEqual([
      `sites.0.isolated.keyFile: ${path.join(dir, 'keys', 'missing.key.pem')} does not exist; make one with "airgap keys init"`,
      `sites.0.isolated.trust.1.publicKeyFile: ${path.join(dir, 'keys', 'gone.pub.pem')} does not exist; copy the other side's public key there (printed by its "airgap keys init")`,
    ]);
  });

  it('refuses a public key where the private key belongs', () => {
    const file = configWith({
      keyFile: 'keys/airgapped.pub.pem',
      trust: [{ publicKeyFile: 'keys/airgapped.pub.pem' }],
    });
    expect(problemsAtStart(file)).toEqual([
      expect.stringMatching(/^sites\.0\.isolated\.keyFile: .*airgapped\.pub\.pem holds no private key in PEM form/),
    ]);
  });

  it('reads the key from the environment variable keyEnv names, and names it when unset', () => {
    const file = configWith({ keyEnv: 'DMZ_SIGNING_KEY', trust: [{ publicKeyFile: 'keys/airgapped.pub.pem' }] });
    expect(problemsAtStart(file, { DMZ_SIGNING_KEY: pair.privateKeyPem })).toEqual([]);
    expect(problemsAtStart(file, {})).toEqual([
      'sites.0.isolated.keyEnv: environment variable DMZ_SIGNING_KEY is not set',
    ]);
  });

  it('names the confirmation key variable when it is unset or too short to be a secret', () => {
    const file = configWith({
      keyFile: 'keys/dmz.key.pem',
      trust: [{ publicKeyFile: 'keys/airgapped.pub.pem' }],
      confirmationKeyEnv: 'PLANT1_CONFIRMATION_KEY',
    });
    expect(problemsAtStart(file, { PLANT1_CONFIRMATION_KEY: 'a secret of 32 characters, fine.' })).toEqual([]);
    expect(problemsAtStart(file, {})).toEqual([
      'sites.0.isolated.confirmationKeyEnv: environment variable PLANT1_CONFIRMATION_KEY is not set',
    ]);
    expect(problemsAtStart(file, { PLANT1_CONFIRMATION_KEY: 'short' })).toEqual([
      'sites.0.isolated.confirmationKeyEnv: environment variable PLANT1_CONFIRMATION_KEY holds 5 characters; expected at least 16',
    ]);
  });

  it('a process that runs no control worker (a host or zone worker) does not need the keys', () => {
    const file = configWith({ keyFile: 'keys/missing.key.pem', trust: [{ publicKeyFile: 'keys/airgapped.pub.pem' }] });
    expect(() =>
      checkConfigFiles(loadConfig(file), { control: false, zones: ['dmz'], hosts: [], env: {} }),
    ).not.toThrow();
  });
});

/**
 * The embedded default's isolated site (issue 13): the shipped configurations pair the DMZ side of
 * demo-iso (config/demo.yaml) with its air-gapped installation (config/demo-airgapped.yaml), and
 * the first start makes both sides' keys, owner-only, each side trusting the other's public key.
 */
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { keyIdOf } from '../../src/adapters/signing';
import {
  ensureIsolatedDemoKeys,
  ensureMediumFolders,
  loadIsolatedDemo,
  type IsolatedDemo,
} from '../../src/runtime/demo-isolated';
import { isolatedKeyProblems, loadConfig } from '../../src/runtime/load-config';

const SHIPPED = path.resolve(__dirname, '..', '..', 'config');

describe('the isolated demo site of the embedded default', () => {
  let root: string;
  let demo: IsolatedDemo;
  let dmzConfigFile: string;
  beforeEach(() => {
    // The shipped files, copied as they are: their ../data paths land in the temporary folder.
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-demo-iso-'));
    fs.mkdirSync(path.join(root, 'config'));
    for (const f of ['demo.yaml', 'demo-airgapped.yaml']) {
      fs.copyFileSync(path.join(SHIPPED, f), path.join(root, 'config', f));
    }
    dmzConfigFile = path.join(root, 'config', 'demo.yaml');
    demo = loadIsolatedDemo(loadConfig(dmzConfigFile).config)!;
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('keeps the connected demo site as it was and pairs demo-iso with its air-gapped installation', () => {
    const { config } = loadConfig(dmzConfigFile);
    expect(config.sites.map((s) => [s.id, s.mode, s.isolated?.side])).toEqual([
      ['demo', 'connected', undefined],
      ['demo-iso', 'isolated', 'dmz'],
    ]);
    expect(config.simulator.airgappedConfig).toBe(path.join(root, 'config', 'demo-airgapped.yaml'));
    expect(demo.pairs.map((p) => [p.siteId, p.dmz.side, p.airgapped.side])).toEqual([['demo-iso', 'dmz', 'airgapped']]);
    const peer = demo.peer.config;
    // Its own data folder, Temporal, web port and link key: nothing of the DMZ installation's.
    expect(peer.dataDir).toBe(path.join(root, 'data', 'airgapped'));
    expect(peer.temporal.embedded.port).not.toBe(config.temporal.embedded.port);
    expect(peer.web.port).not.toBe(config.web.port);
    expect(peer.links.keyEnv).not.toBe(config.links.keyEnv);
    expect(peer.simulator.enabled).toBe(false);
    expect(demo.pairs[0]!.dmz.outboundFolder).toBe(path.join(root, 'data', 'medium', 'outbound'));
    expect(demo.pairs[0]!.airgapped.intakeFolder).toBe(path.join(root, 'data', 'medium', 'intake'));
  });

  it('makes both key pairs once, owner-only, each side trusting the other, and the medium folders', () => {
    const made = ensureIsolatedDemoKeys(demo);
    const keys = path.join(root, 'data', 'keys');
    const agKeys = path.join(root, 'data', 'airgapped', 'keys');
    expect(made).toEqual([
      expect.stringContaining(path.join(keys, 'dmz.key.pem')),
      expect.stringContaining(path.join(agKeys, 'airgapped.key.pem')),
      path.join(agKeys, 'dmz.pub.pem'),
      path.join(keys, 'airgapped.pub.pem'),
    ]);
    for (const file of [path.join(keys, 'dmz.key.pem'), path.join(agKeys, 'airgapped.key.pem')]) {
      expect([file, fs.statSync(file).mode & 0o777]).toEqual([file, 0o600]);
    }
    for (const dir of [keys, agKeys]) expect([dir, fs.statSync(dir).mode & 0o777]).toEqual([dir, 0o700]);
    // What each side trusts is the other side's own public key.
    const idOf = (file: string) => keyIdOf(createPublicKey(fs.readFileSync(file, 'utf8')));
    expect(idOf(path.join(agKeys, 'dmz.pub.pem'))).toBe(idOf(path.join(keys, 'dmz.key.pem')));
    expect(idOf(path.join(keys, 'airgapped.pub.pem'))).toBe(idOf(path.join(agKeys, 'airgapped.key.pem')));
    // Both installations' start-up key checks pass.
    const dmzSite = loadConfig(dmzConfigFile).config.sites[1]!;
    const agSite = demo.peer.config.sites[0]!;
    expect(isolatedKeyProblems(dmzSite, 'sites.1.isolated', {})).toEqual([]);
    expect(isolatedKeyProblems(agSite, 'sites.0.isolated', {})).toEqual([]);

    // A second start makes nothing and changes nothing.
    const before = fs.readFileSync(path.join(keys, 'dmz.key.pem'), 'utf8');
    expect(ensureIsolatedDemoKeys(demo)).toEqual([]);
    expect(fs.readFileSync(path.join(keys, 'dmz.key.pem'), 'utf8')).toBe(before);

    expect(ensureMediumFolders(demo)).toEqual([
      path.join(root, 'data', 'medium', 'outbound'),
      path.join(root, 'data', 'medium', 'intake'),
    ]);
    for (const f of ensureMediumFolders(demo)) expect(fs.statSync(f).isDirectory()).toBe(true);
  });

  it('refuses an air-gapped configuration without the air-gapped side of the site, naming the file', () => {
    const peerFile = path.join(root, 'config', 'demo-airgapped.yaml');
    fs.writeFileSync(peerFile, fs.readFileSync(peerFile, 'utf8').replace('id: demo-iso', 'id: demo-other'));
    expect(() => loadIsolatedDemo(loadConfig(dmzConfigFile).config)).toThrow(
      /demo-airgapped\.yaml[\s\S]*has no air-gapped side \(isolated\.side: airgapped\) of site demo-iso/,
    );
  });
});

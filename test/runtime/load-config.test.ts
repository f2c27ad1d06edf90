import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/domain/config';
import { checkConfigFiles, DEFAULT_CONFIG_PATH, loadConfig, type FileCheckScope } from '../../src/runtime/load-config';
import { ensureSimulatorTls } from '../../src/sim/tls';

describe('loading the configuration file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-config-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads the shipped simulated config with its demo sites and resolves paths against the file', () => {
    const { config } = loadConfig(DEFAULT_CONFIG_PATH);
    // The connected demo site, and the DMZ side of the isolated one (issue 13).
    expect(config.sites.map((s) => [s.id, s.mode])).toEqual([
      ['demo', 'connected'],
      ['demo-iso', 'isolated'],
    ]);
    expect(config.simulator.enabled).toBe(true);
    expect(config.simulator.airgappedConfig).toBe(path.join(path.dirname(DEFAULT_CONFIG_PATH), 'demo-airgapped.yaml'));
    expect(config.dataDir).toBe(path.resolve(path.dirname(DEFAULT_CONFIG_PATH), '..', 'data'));
    expect(path.isAbsolute(config.sites[0]!.dmz.relay.installDir!)).toBe(true);
  });

  it('names a missing file', () => {
    expect(() => loadConfig(path.join(dir, 'nope.yaml'))).toThrow(/nope\.yaml[\s\S]*the file does not exist/);
  });

  it('names the line of a YAML syntax error', () => {
    const file = path.join(dir, 'broken.yaml');
    fs.writeFileSync(file, 'sites:\n  - id: a\n   bad: [\n');
    expect(() => loadConfig(file)).toThrow(/broken\.yaml[\s\S]*not valid YAML at line \d/);
  });

  describe('the files and folders it names', () => {
    const site = (root: string) => ({
      id: 'plant1',
      dmz: {
        manager: { url: 'https://dsm-dmz:4119/api', apiKeyEnv: 'DMZ_KEY', caFile: 'tls/ca.pem' },
        relay: { name: 'dmz-relay', computerId: 1, installDir: path.join(root, 'dmz-relay') },
      },
      airgapped: {
        manager: {
          url: 'https://dsm-ag:4119/api',
          apiKeyEnv: 'AG_KEY',
          caFile: 'tls/ca.pem',
          zone: 'inside',
          host: 'ag-manager',
          dsmCPath: 'bin/dsm_c',
        },
        relays: [{ name: 'ag-relay', computerId: 2, installDir: path.join(root, 'ag-relay') }],
      },
      people: { operators: ['op@plant1.example'] },
      rules: { importFolder: 'dsru-import' },
    });
    const problemsOf = (file: string, scope: FileCheckScope): string[] => {
      try {
        checkConfigFiles(loadConfig(file), scope);
        return [];
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as Error).message).toContain(file);
        return [...(err as ConfigError).problems];
      }
    };
    const all: FileCheckScope = { control: true, zones: ['inside'], hosts: ['dmz-relay', 'ag-relay', 'ag-manager'] };
    let root: string;
    let file: string;
    beforeAll(async () => {
      root = fs.mkdtempSync(path.join(dir, 'files-'));
      file = path.join(root, 'plant.yaml');
      fs.writeFileSync(file, stringify({ dataDir: 'data', sites: [site(root)] }));
    });

    it('names each missing file and folder with its path in the configuration', () => {
      expect(problemsOf(file, all)).toEqual([
        `sites.0.dmz.manager.caFile: ${root}/tls/ca.pem does not exist (expected a file)`,
        `sites.0.airgapped.manager.caFile: ${root}/tls/ca.pem does not exist (expected a file)`,
        `sites.0.dmz.relay.installDir: ${root}/dmz-relay does not exist (expected a folder)`,
        `sites.0.airgapped.relays.0.installDir: ${root}/ag-relay does not exist (expected a folder)`,
        `sites.0.airgapped.manager.dsmCPath: ${root}/bin/dsm_c does not exist (expected a file)`,
        `sites.0.rules.importFolder: ${root}/dsru-import does not exist (expected a folder)`,
      ]);
    });

    it("checks only what the process's roles use: a relay's worker needs its install dir, not the CA files", () => {
      expect(problemsOf(file, { control: false, zones: [], hosts: ['ag-relay'] })).toEqual([
        `sites.0.airgapped.relays.0.installDir: ${root}/ag-relay does not exist (expected a folder)`,
      ]);
      // The air-gapped manager is called from its zone's worker only.
      expect(problemsOf(file, { control: true, zones: [], hosts: [] })).toEqual([
        `sites.0.dmz.manager.caFile: ${root}/tls/ca.pem does not exist (expected a file)`,
      ]);
    });

    it('refuses the wrong kind: a folder as CA file, text that is no certificate, a file as folder, dsm_c not executable', () => {
      fs.mkdirSync(path.join(root, 'tls', 'ca.pem'), { recursive: true });
      fs.writeFileSync(path.join(root, 'dmz-relay'), 'a file');
      fs.mkdirSync(path.join(root, 'ag-relay'));
      fs.writeFileSync(path.join(root, 'dsru-import'), 'a file');
      fs.mkdirSync(path.join(root, 'bin'));
      fs.writeFileSync(path.join(root, 'bin', 'dsm_c'), '#!/bin/sh\n', { mode: 0o644 });
      fs.writeFileSync(path.join(root, 'data'), 'a file');
      const problems = problemsOf(file, all);
      expect(problems).toEqual([
        `dataDir: ${root}/data is not a folder`,
        `sites.0.dmz.manager.caFile: ${root}/tls/ca.pem is a folder, expected a file`,
        `sites.0.airgapped.manager.caFile: ${root}/tls/ca.pem is a folder, expected a file`,
        `sites.0.dmz.relay.installDir: ${root}/dmz-relay is not a folder`,
        `sites.0.airgapped.manager.dsmCPath: ${root}/bin/dsm_c is not readable and executable by this process`,
        `sites.0.rules.importFolder: ${root}/dsru-import is not a folder`,
      ]);
      fs.rmSync(path.join(root, 'tls', 'ca.pem'), { recursive: true });
      fs.rmSync(path.join(root, 'data'));
      fs.writeFileSync(
        path.join(root, 'tls', 'ca.pem'),
        '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n',
      );
      expect(problemsOf(file, { control: true, zones: [], hosts: [] })).toEqual([
        expect.stringMatching(
          new RegExp(
            `^sites\\.0\\.dmz\\.manager\\.caFile: ${root}/tls/ca\\.pem holds a certificate that cannot be parsed`,
          ),
        ),
      ]);
      fs.writeFileSync(path.join(root, 'tls', 'ca.pem'), 'not pem at all');
      expect(problemsOf(file, { control: true, zones: [], hosts: [] })).toEqual([
        `sites.0.dmz.manager.caFile: ${root}/tls/ca.pem holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)`,
      ]);
    });

    it('accepts a real PEM CA, existing folders and an executable dsm_c', async () => {
      const good = fs.mkdtempSync(path.join(dir, 'good-'));
      const tls = await ensureSimulatorTls(path.join(good, 'sim'));
      fs.mkdirSync(path.join(good, 'tls'));
      fs.copyFileSync(tls.caFile, path.join(good, 'tls', 'ca.pem'));
      for (const d of ['dmz-relay', 'ag-relay', 'dsru-import', 'bin']) fs.mkdirSync(path.join(good, d));
      fs.writeFileSync(path.join(good, 'bin', 'dsm_c'), '#!/bin/sh\n', { mode: 0o755 });
      const goodFile = path.join(good, 'plant.yaml');
      fs.writeFileSync(goodFile, stringify({ dataDir: 'data', sites: [site(good)] }));
      expect(problemsOf(goodFile, all)).toEqual([]);
    });

    it('lets the embedded default make what it owns: rule import folders, and with the simulator its hosts and CA', () => {
      const sim = fs.mkdtempSync(path.join(dir, 'sim-'));
      const s = site(sim);
      s.dmz.manager.caFile = 'data/sim/tls/ca.pem';
      s.airgapped.manager.caFile = 'data/sim/tls/ca.pem';
      const simFile = path.join(sim, 'plant.yaml');
      fs.writeFileSync(simFile, stringify({ dataDir: 'data', simulator: { enabled: true }, sites: [s] }));
      expect(problemsOf(simFile, { ...all, embedded: true })).toEqual([]);
      // The same paths for a worker of a real deployment must exist.
      expect(problemsOf(simFile, all)).toHaveLength(6);
    });
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/runtime/load-config';

describe('loading the configuration file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-config-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads the shipped simulated config with its demo site and resolves paths against the file', () => {
    const { config } = loadConfig(DEFAULT_CONFIG_PATH);
    expect(config.sites.map((s) => s.id)).toEqual(['demo']);
    expect(config.simulator.enabled).toBe(true);
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
});

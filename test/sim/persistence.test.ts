/** What the simulator keeps across restarts, and what it needs before it starts. */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createDeepSecurityApi } from '../../src/adapters/deep-security-api';
import { ensureSimulatorKeys, MissingApiKeyError, startSimulator } from '../../src/sim';
import { makeConfig, runTool, startFixture } from './fixture';

test('a restart keeps versions, settings, bundles, faults and resumes a pending import', async () => {
  const f = await startFixture({ importDelayMs: 800 });
  try {
    const published = f.sim.control.publishUpdate();
    await runTool(path.join(f.site.dmz.relay.installDir!, 'dsa_control'), ['-b']);
    const bundle = f.sim.control.bundles()[0]!;
    fs.copyFileSync(bundle.path, path.join(f.site.airgapped.relays[0]!.installDir!, bundle.fileName));
    f.sim.control.setManagerVersion({ siteId: 'plant', side: 'airgapped', version: '20.0.1000' });
    await createDeepSecurityApi(f.site.airgapped.manager, f.env.TEST_AIRGAP_API_KEY).triggerSecurityUpdate({
      computerId: 21,
    });
    f.sim.control.injectFault({ kind: 'server-error', count: 3 });
    await f.sim.stop(); // before the import is due
    expect(f.sim.control.snapshot().managers['plant/airgapped']!.computers[21]!.components).not.toEqual(published);

    const sim = await f.restart();
    const state = sim.control.snapshot();
    expect(state.internet.components).toEqual(published);
    expect(state.bundles.map((b) => b.fileName)).toEqual([bundle.fileName]);
    expect(state.managers['plant/airgapped']!.version).toBe('20.0.1000');
    expect(state.faults).toEqual([expect.objectContaining({ remaining: 3 })]);
    await sim.control.settle();
    expect(sim.control.snapshot().managers['plant/airgapped']!.computers[21]!.components).toEqual(published);
  } finally {
    await f.cleanup();
  }
});

test('the TLS material is generated once and reused on the next start', async () => {
  const f = await startFixture();
  try {
    const ca = path.join(f.dir, 'sim', 'tls', 'ca.pem');
    const first = fs.readFileSync(ca, 'utf8');
    expect(first).toContain('BEGIN CERTIFICATE');
    expect(fs.statSync(path.join(f.dir, 'sim', 'tls', 'server-key.pem')).mode & 0o777).toBe(0o600);
    await f.sim.stop();
    await f.restart();
    expect(fs.readFileSync(ca, 'utf8')).toBe(first);
  } finally {
    await f.cleanup();
  }
});

test('a missing API key variable stops the start with an error naming the variable', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-sim-'));
  const { config } = await makeConfig(dir);
  try {
    await expect(startSimulator({ config, dataDir: dir, apiKeys: { TEST_DMZ_API_KEY: 'x' } })).rejects.toThrow(
      MissingApiKeyError,
    );
    await expect(startSimulator({ config, dataDir: dir, apiKeys: { TEST_DMZ_API_KEY: 'x' } })).rejects.toThrow(
      'set the environment variable TEST_AIRGAP_API_KEY',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('generated API keys are kept private on disk and reused, and keys already set are left alone', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-sim-'));
  const { config } = await makeConfig(dir);
  try {
    const env: NodeJS.ProcessEnv = { TEST_DMZ_API_KEY: 'set-by-operator' };
    ensureSimulatorKeys(config, dir, env);
    expect(env.TEST_DMZ_API_KEY).toBe('set-by-operator');
    expect(env.TEST_AIRGAP_API_KEY).toMatch(/^1:[A-Za-z0-9_-]{40,}$/);
    const file = path.join(dir, 'sim', 'keys.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')))).toEqual(['TEST_AIRGAP_API_KEY']);
    const again: NodeJS.ProcessEnv = {};
    ensureSimulatorKeys(config, dir, again);
    expect(again.TEST_AIRGAP_API_KEY).toBe(env.TEST_AIRGAP_API_KEY);
    expect(again.TEST_DMZ_API_KEY).toMatch(/^1:/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a relay without an absolute install dir is refused rather than simulated in /opt/ds_agent', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-sim-'));
  const { config, env } = await makeConfig(dir);
  delete config.sites[0]!.airgapped.relays[1]!.installDir;
  try {
    await expect(startSimulator({ config, dataDir: dir, apiKeys: env })).rejects.toThrow(
      'sites[0].airgapped.relays[1].installDir',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad simulator option is refused with its name and value', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-sim-'));
  const { config, env } = await makeConfig(dir);
  try {
    await expect(startSimulator({ config, dataDir: dir, apiKeys: env, importDelayMs: -5 })).rejects.toThrow(
      'simulator option importDelayMs must be an integer from 0 to 86400000, got -5',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a manager port already in use stops the start with the setting to change', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-sim-'));
  const { config, env } = await makeConfig(dir);
  const blocker = net.createServer();
  await new Promise<void>((r) =>
    blocker.listen(Number(new URL(config.sites[0]!.airgapped.manager.url).port), '127.0.0.1', r),
  );
  try {
    await expect(startSimulator({ config, dataDir: dir, apiKeys: env })).rejects.toThrow(
      'sites[0].airgapped.manager.url',
    );
    // The DMZ manager that did start was stopped again: a second try fails on the same port, not on the DMZ one.
    await expect(startSimulator({ config, dataDir: dir, apiKeys: env })).rejects.toThrow(
      'sites[0].airgapped.manager.url',
    );
  } finally {
    await new Promise((r) => blocker.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The simulated dsa_control and dsm_c are real executables run as separate processes. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { unpackBundle } from '../../src/sim/bundle';
import { runTool, startFixture, type SimFixture } from './fixture';

let f: SimFixture;
beforeAll(async () => {
  f = await startFixture({ bundleSizeBytes: 300 * 1024 });
});
afterAll(() => f.cleanup());

const dsaControl = () => path.join(f.site.dmz.relay.installDir!, 'dsa_control');
const dsmC = () => f.site.airgapped.manager.dsmCPath!;

test('dsa_control -b writes a zip in the install dir that carries the current versions, and says where', async () => {
  const published = f.sim.control.publishUpdate();
  const out = await runTool(dsaControl(), ['-b']);
  expect(out.code).toBe(0);
  const name = /^Name: (\S+\.zip)$/m.exec(out.stdout)![1]!;
  expect(out.stdout).toContain(`Location: ${f.site.dmz.relay.installDir}`);
  expect(name).toMatch(/^ds_update_bundle_\d{8}T\d{6}Z(_\d+)?\.zip$/);
  const file = path.join(f.site.dmz.relay.installDir!, name);
  const data = fs.readFileSync(file);
  expect(data.length).toBeGreaterThan(250 * 1024);
  expect(unpackBundle(data).components).toEqual(published);
  const record = f.sim.control.bundles().find((b) => b.fileName === name)!;
  expect(record.sha256).toBe(crypto.createHash('sha256').update(data).digest('hex'));
});

test('two builds in the same second get different names', async () => {
  const [a, b] = await Promise.all([runTool(dsaControl(), ['-b']), runTool(dsaControl(), ['-b'])]);
  const names = [a, b].map((r) => /^Name: (\S+)$/m.exec(r.stdout)![1]);
  expect(new Set(names).size).toBe(2);
});

test.each([[[]], [['-x']], [['-b', 'extra']]])(
  'dsa_control with arguments %j prints usage and exits 2',
  async (args) => {
    const out = await runTool(dsaControl(), args);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('Usage: dsa_control -b');
  },
);

test('dsa_control refuses non-ASCII arguments', async () => {
  const out = await runTool(dsaControl(), ['-b', 'バンドル']);
  expect(out.code).toBe(2);
  expect(out.stderr).toContain('ASCII');
});

test('dsm_c changesetting switches the census and grid queries on the air-gapped manager', async () => {
  for (const key of ['enableCensusQuery', 'enableGridQuery']) {
    const out = await runTool(dsmC(), [
      '-action',
      'changesetting',
      '-name',
      `settings.configuration.${key}`,
      '-value',
      'false',
    ]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`settings.configuration.${key} changed from true to false`);
  }
  expect(f.sim.control.snapshot().managers['plant/airgapped']!.configuration).toEqual({
    enableCensusQuery: 'false',
    enableGridQuery: 'false',
  });
  // The DMZ manager is a different manager.
  expect(f.sim.control.snapshot().managers['plant/dmz']!.configuration.enableCensusQuery).toBe('true');
});

test.each([
  [['-action', 'reboot'], 2, 'unknown action reboot'],
  [['-action', 'changesetting', '-name', 'settings.configuration.nope', '-value', 'false'], 1, 'unknown setting'],
  [
    ['-action', 'changesetting', '-name', 'settings.configuration.enableGridQuery', '-value', 'maybe'],
    1,
    'invalid value',
  ],
  [['-action'], 2, 'unexpected argument'],
])('dsm_c %j fails with exit code %i', async (args, code, message) => {
  const out = await runTool(dsmC(), args);
  expect(out.code).toBe(code);
  expect(out.stderr).toContain(message);
});

test('the tools fail clearly when the simulator is not running', async () => {
  await f.sim.stop();
  try {
    const out = await runTool(dsaControl(), ['-b']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('unable to contact the service');
  } finally {
    await f.restart();
  }
});

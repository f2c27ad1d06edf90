/**
 * The simulated air-gapped relay imports only when told to, and only the exact zip dsa_control
 * produced, under its original name, in its install dir; then its agents follow.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createDeepSecurityApi, type DeepSecurityApi } from '../../src/adapters/deep-security-api';
import { carryBundle, type BundleRecord, type CourierMistake } from '../../src/sim';
import { eventually, runTool, startFixture, type SimFixture } from './fixture';

let f: SimFixture;
let airgap: DeepSecurityApi;

beforeEach(async () => {
  f = await startFixture({ importDelayMs: 250 });
  airgap = createDeepSecurityApi(f.site.airgapped.manager, f.env.TEST_AIRGAP_API_KEY);
});
afterEach(() => f.cleanup());

const computer = (id: number) => f.sim.control.snapshot().managers['plant/airgapped']!.computers[id]!;
const agentsOf = (relayId: number) =>
  Object.values(f.sim.control.snapshot().managers['plant/airgapped']!.computers).filter((c) => c.relayId === relayId);

async function buildBundle(): Promise<BundleRecord> {
  const result = await runTool(path.join(f.site.dmz.relay.installDir!, 'dsa_control'), ['-b']);
  expect(result.code).toBe(0);
  return f.sim.control.bundles().at(-1)!;
}

async function importWith(mistake?: CourierMistake): Promise<BundleRecord> {
  f.sim.control.publishUpdate();
  const bundle = await buildBundle();
  await carryBundle({ bundlePath: bundle.path, relays: f.site.airgapped.relays, mistake });
  await airgap.triggerSecurityUpdate({ computerId: 21 });
  await f.sim.control.settle();
  return bundle;
}

test('a bundle copied under its original name is imported by the relay, then by its agents after a delay', async () => {
  const before = computer(21).components;
  const bundle = await buildBundle();
  f.sim.control.publishUpdate();
  const newer = await buildBundle();
  expect(newer.components.ruleUpdate).not.toBe(bundle.components.ruleUpdate);
  await carryBundle({ bundlePath: newer.path, relays: f.site.airgapped.relays });

  await airgap.triggerSecurityUpdate({ computerId: 21 });
  expect(computer(21).updateStatus.status).toBe('in-progress');
  await eventually(() => (computer(21).components.ruleUpdate === newer.components.ruleUpdate ? true : undefined));
  // The relay has it; the agents have not taken it yet.
  expect(agentsOf(21).map((a) => a.components.ruleUpdate)).toEqual([
    before.ruleUpdate,
    before.ruleUpdate,
    before.ruleUpdate,
  ]);
  await f.sim.control.settle();
  expect(computer(21).components).toEqual(newer.components);
  expect(agentsOf(21)).toHaveLength(3);
  for (const agent of agentsOf(21)) expect(agent.components).toEqual(newer.components);
  // Relay 2 got the same file but was never told to import it.
  expect(computer(22).components).toEqual(before);
});

test('the relay does not import a correct bundle until it is told to', async () => {
  const before = computer(21).components;
  f.sim.control.publishUpdate();
  const bundle = await buildBundle();
  await carryBundle({ bundlePath: bundle.path, relays: f.site.airgapped.relays });
  await new Promise((r) => setTimeout(r, 600));
  expect(computer(21).components).toEqual(before);
});

test('the zip stays in the install dir after the import until someone deletes it', async () => {
  const bundle = await importWith();
  expect(computer(21).components).toEqual(bundle.components);
  expect(fs.existsSync(path.join(f.site.airgapped.relays[0]!.installDir!, bundle.fileName))).toBe(true);
  expect(fs.existsSync(bundle.path)).toBe(true);
});

test.each([
  ['rename', /no update bundle was found/],
  ['wrong-folder', /no update bundle was found/],
  ['truncate', /is corrupt or incomplete/],
  ['corrupt', /is corrupt or incomplete/],
] as const)('a copy with the mistake "%s" is not imported and the relay reports why', async (mistake, reason) => {
  const before = computer(21).components;
  await importWith(mistake);
  expect(computer(21).components).toEqual(before);
  expect(computer(21).updateStatus.status).toBe('failed');
  expect(computer(21).updateStatus.statusMessage).toMatch(reason);
  for (const agent of agentsOf(21)) expect(agent.components).toEqual(before);
});

test('the update failure is visible through the API as securityUpdates status and message', async () => {
  await importWith('rename');
  const state = await airgap.getComputer({ computerId: 21 });
  expect(state.securityUpdates?.status).toBe('failed');
  expect(state.securityUpdates?.statusMessage).toContain('no update bundle was found');
});

test('a zip that dsa_control did not produce is not imported even under a plausible name', async () => {
  const before = computer(21).components;
  const dir = f.site.airgapped.relays[0]!.installDir!;
  fs.writeFileSync(path.join(dir, 'ds_update_bundle_20250101T000000Z.zip'), 'PK not really');
  await airgap.triggerSecurityUpdate({ computerId: 21 });
  await f.sim.control.settle();
  expect(computer(21).components).toEqual(before);
  expect(computer(21).updateStatus.statusMessage).toMatch(/no update bundle was found/);
});

test('a bundle with nothing newer leaves the versions as they are and reports up to date', async () => {
  const first = await importWith();
  await airgap.triggerSecurityUpdate({ computerId: 21 });
  await f.sim.control.settle();
  expect(computer(21).components).toEqual(first.components);
  expect(computer(21).updateStatus).toMatchObject({ status: 'up-to-date' });
  expect(computer(21).updateStatus.statusMessage).toContain('nothing newer');
});

test('the run-once scheduled task is gone after it ran', async () => {
  await airgap.triggerSecurityUpdate({ computerId: 21 });
  expect(f.sim.control.snapshot().managers['plant/airgapped']!.tasks).toEqual({});
});

/** Faults injected in the simulated world: relays going offline, imports failing or dragging, damaged bundles. */
import path from 'node:path';
import { createDeepSecurityApi, type DeepSecurityApi } from '../../src/adapters/deep-security-api';
import { carryBundle } from '../../src/sim';
import { eventually, runTool, startFixture, type SimFixture } from './fixture';

let f: SimFixture;
let airgap: DeepSecurityApi;

beforeEach(async () => {
  f = await startFixture({ importDelayMs: 150 });
  airgap = createDeepSecurityApi(f.site.airgapped.manager, f.env.TEST_AIRGAP_API_KEY);
});
afterEach(() => f.cleanup());

const relay = () => f.sim.control.snapshot().managers['plant/airgapped']!.computers[21]!;

async function bundleOnRelays() {
  f.sim.control.publishUpdate();
  const out = await runTool(path.join(f.site.dmz.relay.installDir!, 'dsa_control'), ['-b']);
  expect(out.code).toBe(0);
  const bundle = f.sim.control.bundles().at(-1)!;
  await carryBundle({ bundlePath: bundle.path, relays: f.site.airgapped.relays });
  return bundle;
}

test('an offline relay shows as offline and a scheduled task has no effect on it', async () => {
  const before = relay();
  await bundleOnRelays();
  f.sim.control.injectFault({ kind: 'relay-offline', relay: 'plant-airgap-relay-1' });
  const seen = await airgap.getComputer({ computerId: 21 });
  expect(seen).toMatchObject({ agentStatus: 'error', agentStatusMessages: ['Offline'] });
  await airgap.triggerSecurityUpdate({ computerId: 21 });
  await f.sim.control.settle();
  expect(relay().components).toEqual(before.components);
  expect(relay().updateStatus).toEqual(before.updateStatus);
});

test('a relay back online imports when triggered again', async () => {
  const bundle = await bundleOnRelays();
  f.sim.control.injectFault({ kind: 'relay-offline', relay: 'plant-airgap-relay-1' });
  await airgap.triggerSecurityUpdate({ computerId: 21 });
  f.sim.control.injectFault({ kind: 'relay-offline', relay: 'plant-airgap-relay-1', offline: false });
  await airgap.triggerSecurityUpdate({ computerId: 21 });
  await f.sim.control.settle();
  expect(relay().components).toEqual(bundle.components);
});

test('a failed-import fault fails one import of a good bundle, and the next one succeeds', async () => {
  const bundle = await bundleOnRelays();
  f.sim.control.injectFault({ kind: 'failed-import' });
  await airgap.triggerSecurityUpdate({ computerId: 21 });
  await f.sim.control.settle();
  expect(relay().updateStatus.status).toBe('failed');
  expect(relay().components).not.toEqual(bundle.components);
  await airgap.triggerSecurityUpdate({ computerId: 21 });
  await f.sim.control.settle();
  expect(relay().components).toEqual(bundle.components);
});

test('a slow-import fault keeps the relay in progress past the normal delay', async () => {
  const bundle = await bundleOnRelays();
  f.sim.control.injectFault({ kind: 'slow-import', extraMs: 700 });
  await airgap.triggerSecurityUpdate({ computerId: 21 });
  await new Promise((r) => setTimeout(r, 400));
  expect(relay().updateStatus.status).toBe('in-progress');
  await eventually(() => (relay().updateStatus.status === 'up-to-date' ? true : undefined));
  expect(relay().components).toEqual(bundle.components);
});

test('a bundle built under the corrupt-bundle fault carries the original name but fails on import', async () => {
  f.sim.control.injectFault({ kind: 'corrupt-bundle' });
  const bundle = await bundleOnRelays();
  expect(bundle.corrupt).toBe(true);
  await airgap.triggerSecurityUpdate({ computerId: 21 });
  await f.sim.control.settle();
  expect(relay().updateStatus.statusMessage).toContain(`${bundle.fileName} in`);
  expect(relay().updateStatus.statusMessage).toContain('corrupt');
  // The fault was used up: the next build is sound.
  const next = await bundleOnRelays();
  expect(next.corrupt).toBe(false);
});

test('clearing the faults brings every relay back online', async () => {
  f.sim.control.injectFault({ kind: 'relay-offline', relay: 'plant-airgap-relay-2' });
  f.sim.control.injectFault({ kind: 'server-error', count: 5 });
  f.sim.control.clearFaults();
  expect(f.sim.control.snapshot().faults).toEqual([]);
  expect((await airgap.getComputer({ computerId: 22 })).agentStatus).toBe('active');
});

test('an unknown relay name in a fault is refused', () => {
  expect(() => f.sim.control.injectFault({ kind: 'relay-offline', relay: 'nope' })).toThrow(
    'no simulated relay named nope',
  );
});

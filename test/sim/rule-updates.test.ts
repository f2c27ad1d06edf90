/** .dsru rule updates in the simulator: exported by the DMZ manager, imported in the air-gapped console. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createDeepSecurityApi } from '../../src/adapters/deep-security-api';
import { formatRuleUpdate, parseRuleUpdate } from '../../src/domain/versions';
import { eventually, startFixture, type SimFixture } from './fixture';

let f: SimFixture;
let downloads: string;
beforeAll(async () => {
  f = await startFixture({ relays: 1, agentsPerRelay: 1 });
  downloads = path.join(f.dir, 'downloads');
});
afterAll(() => f.cleanup());

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const ruleUpdateOf = async (computerId: number) => {
  const c = await createDeepSecurityApi(f.site.airgapped.manager, f.env.TEST_AIRGAP_API_KEY).getComputer({
    computerId,
  });
  return c.securityUpdates!.components.find((x) => x.name === 'Deep Security Rule Update')!.version;
};
const step = (id: string, by: number) => {
  const r = parseRuleUpdate(id);
  return formatRuleUpdate({ year: r.year, sequence: r.sequence + by });
};

test('the DMZ manager exports a rule update it has as a .dsru file whose digest it records', () => {
  const newest = f.sim.control.snapshot().internet.components.ruleUpdate;
  const record = f.sim.control.exportRuleUpdate({ siteId: 'plant', version: newest, folder: downloads });
  expect(record.fileName).toMatch(/\.dsru$/);
  expect(record.fileName).toContain(newest);
  expect(sha256(record.path)).toBe(record.sha256);
  expect(fs.statSync(record.path).size).toBe(record.size);
  expect(f.sim.control.snapshot().ruleFiles!.map((r) => r.sha256)).toContain(record.sha256);
});

test('the DMZ manager cannot export a rule update newer than it has', () => {
  const newest = f.sim.control.snapshot().internet.components.ruleUpdate;
  expect(() =>
    f.sim.control.exportRuleUpdate({ siteId: 'plant', version: step(newest, 1), folder: downloads }),
  ).toThrow(/no rule update/);
});

test('importing a valid newer .dsru makes the air-gapped computers report it after the import delay', async () => {
  const before = await ruleUpdateOf(21);
  const version = step(before, 1);
  const record = f.sim.control.exportRuleUpdate({ siteId: 'plant', version, folder: downloads });
  const result = await f.sim.control.importRuleUpdate({ siteId: 'plant', path: record.path });
  expect(result.version).toBe(version);
  expect(result.summary.rules.intrusionPrevention).toBeGreaterThan(0);
  expect(await ruleUpdateOf(21)).toBe(before);
  await eventually(async () => ((await ruleUpdateOf(21)) === version ? true : undefined), 5000);
  const agents = Object.values(f.sim.control.snapshot().managers['plant/airgapped']!.computers).filter(
    (c) => c.role === 'agent',
  );
  await f.sim.control.settle();
  expect(f.sim.control.snapshot().managers['plant/airgapped']!.computers[agents[0]!.id]!.components.ruleUpdate).toBe(
    version,
  );
  expect(f.sim.control.snapshot().managers['plant/airgapped']!.ruleImports!.map((i) => i.version)).toContain(version);
});

test('the air-gapped manager refuses a .dsru that is damaged or not newer than what it has', async () => {
  const current = await ruleUpdateOf(21);
  const older = f.sim.control.exportRuleUpdate({ siteId: 'plant', version: step(current, -1), folder: downloads });
  await expect(f.sim.control.importRuleUpdate({ siteId: 'plant', path: older.path })).rejects.toThrow(/not newer/);

  const newer = f.sim.control.exportRuleUpdate({ siteId: 'plant', version: step(current, 1), folder: downloads });
  const damaged = path.join(downloads, `damaged-${newer.fileName}`);
  const bytes = fs.readFileSync(newer.path);
  bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
  fs.writeFileSync(damaged, bytes);
  await expect(f.sim.control.importRuleUpdate({ siteId: 'plant', path: damaged })).rejects.toThrow(/not a valid/);
  expect(await ruleUpdateOf(21)).toBe(current);
});

test('the control endpoint exports and imports rule updates with the same rules', async () => {
  const { token } = JSON.parse(fs.readFileSync(path.join(f.dir, 'sim', 'control.json'), 'utf8')) as { token: string };
  const post = (route: string, body: unknown) =>
    fetch(`${f.sim.controlUrl}${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await f.sim.control.settle();
  const current = await ruleUpdateOf(21);
  const exported = await post('/rules/export', { siteId: 'plant', version: step(current, 1), folder: downloads });
  expect(exported.status).toBe(200);
  const record = (await exported.json()) as { path: string; version: string };
  const imported = await post('/rules/import', { siteId: 'plant', path: record.path });
  expect(imported.status).toBe(200);
  expect(((await imported.json()) as { version: string }).version).toBe(record.version);
  const again = await post('/rules/import', { siteId: 'plant', path: path.join(downloads, 'nothing.dsru') });
  expect(again.status).toBe(400);
});

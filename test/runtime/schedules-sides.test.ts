/**
 * Which installation of an isolated site creates which schedules: the shipped demo's two
 * configurations (config/demo.yaml, the DMZ installation; config/demo-airgapped.yaml, the
 * air-gapped one), each applied to its own namespace on the test run's Temporal server, as
 * `airgap start` / `airgap setup` apply them to each installation's own Temporal.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { auditStoreFile, SqliteAuditStore } from '../../src/adapters/audit-store';
import type { AuditRecord } from '../../src/domain/audit';
import type { AppConfig } from '../../src/domain/config';
import { loadConfig } from '../../src/runtime/load-config';
import {
  AUDIT_MAINTENANCE_SCHEDULE,
  driftCheckScheduleIdFor,
  ensureDriftCheckSchedules,
  ensureSchedules,
  scheduleAuditIn,
  scheduleIdFor,
} from '../../src/runtime/schedules';
import { ensureNamespace } from '../../src/runtime/temporal-setup';
import { testTemporalAddress } from '../helpers/env';

jest.setTimeout(120_000);

const SHIPPED = path.resolve(__dirname, '..', '..', 'config');

async function scheduleIds(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) ids.push(s.scheduleId);
  return ids.sort();
}

/** The namespace's schedule list once it shows `expected` (the list is eventually consistent). */
async function listed(client: Client, expected: string[], ms = 30_000): Promise<string[]> {
  const end = Date.now() + ms;
  for (;;) {
    const ids = await scheduleIds(client);
    if (JSON.stringify(ids) === JSON.stringify([...expected].sort()) || Date.now() > end) return ids;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function auditOf(config: AppConfig): Promise<AuditRecord[]> {
  const store = new SqliteAuditStore(auditStoreFile(config.dataDir));
  try {
    const all: AuditRecord[] = [];
    for await (const r of store.export()) all.push(r);
    return all;
  } finally {
    await store.close();
  }
}

describe('the schedules of an isolated site, per installation', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-sched-sides-'));
  const tag = randomBytes(3).toString('hex');
  let connection: Connection;
  const sides: Record<'dmz' | 'airgapped', { config: AppConfig; client: Client }> = {} as never;

  beforeAll(async () => {
    // The shipped files, copied: their ../data lands in the temporary folder.
    fs.mkdirSync(path.join(root, 'config'));
    for (const f of ['demo.yaml', 'demo-airgapped.yaml']) {
      fs.copyFileSync(path.join(SHIPPED, f), path.join(root, 'config', f));
    }
    connection = await Connection.connect({ address: testTemporalAddress() });
    for (const [side, file] of [
      ['dmz', 'demo.yaml'],
      ['airgapped', 'demo-airgapped.yaml'],
    ] as const) {
      const { config } = loadConfig(path.join(root, 'config', file));
      fs.mkdirSync(config.dataDir, { recursive: true });
      const namespace = `airgap-${side}-${tag}`;
      await ensureNamespace(connection, namespace, 86_400_000);
      sides[side] = { config, client: new Client({ connection, namespace }) };
    }
  });
  afterAll(async () => {
    for (const { client } of Object.values(sides)) {
      for (const id of await scheduleIds(client).catch(() => [])) {
        await client.schedule
          .getHandle(id)
          .delete()
          .catch(() => undefined);
      }
    }
    await connection?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const apply = async (side: 'dmz' | 'airgapped') => {
    const { config, client } = sides[side];
    const audit = scheduleAuditIn(config, { who: 'ops (airgap start, from the configuration)', channel: 'system' });
    return {
      cycles: await ensureSchedules(client, config, audit),
      driftChecks: await ensureDriftCheckSchedules(client, config, audit),
    };
  };

  it('the DMZ installation runs the cycle, the air-gapped one the drift check of the air-gapped manager; the DMZ side removes the drift check it made before', async () => {
    const dmz = sides.dmz;
    // What a DMZ installation from before this change holds: its own drift check of demo-iso.
    await dmz.client.schedule.create({
      scheduleId: driftCheckScheduleIdFor('demo-iso'),
      spec: { cronExpressions: ['30 5 * * *'] },
      action: {
        type: 'startWorkflow',
        workflowType: 'hardenWorkflow',
        workflowId: 'harden-check-demo-iso',
        taskQueue: dmz.config.temporal.taskQueue,
        args: [{ site: 'demo-iso', mode: 'check' }],
      },
    });

    const onDmz = await apply('dmz');
    const onAirgapped = await apply('airgapped');

    expect(onDmz.driftChecks).toEqual({
      created: [driftCheckScheduleIdFor('demo')],
      updated: [],
      removed: [driftCheckScheduleIdFor('demo-iso')],
    });
    expect(onAirgapped.driftChecks).toEqual({
      created: [driftCheckScheduleIdFor('demo-iso')],
      updated: [],
      removed: [],
    });
    // Each installation's own Temporal lists only its own schedules.
    const dmzWanted = [
      AUDIT_MAINTENANCE_SCHEDULE,
      scheduleIdFor('demo'),
      scheduleIdFor('demo-iso'),
      driftCheckScheduleIdFor('demo'),
    ];
    const agWanted = [AUDIT_MAINTENANCE_SCHEDULE, driftCheckScheduleIdFor('demo-iso')];
    expect(await listed(dmz.client, dmzWanted)).toEqual([...dmzWanted].sort());
    expect(await listed(sides.airgapped.client, agWanted)).toEqual([...agWanted].sort());
    // The air-gapped side's check reads its own manager, on its own task queue.
    const check = await sides.airgapped.client.schedule.getHandle(driftCheckScheduleIdFor('demo-iso')).describe();
    expect(check.action).toMatchObject({
      workflowType: 'hardenWorkflow',
      taskQueue: sides.airgapped.config.temporal.taskQueue,
      args: [{ site: 'demo-iso', mode: 'check' }],
    });

    // The removal is in the DMZ installation's audit, with why; the air-gapped one records its creation.
    const removed = (await auditOf(dmz.config)).filter(
      (r) => r.type === 'schedule.removed' && r.data?.scheduleId === driftCheckScheduleIdFor('demo-iso'),
    );
    expect(removed).toHaveLength(1);
    expect(removed[0]!.data).toMatchObject({ reason: expect.stringContaining('air-gapped installation') });
    const agCreated = (await auditOf(sides.airgapped.config))
      .filter((r) => r.type === 'schedule.created')
      .map((r) => r.data?.scheduleId);
    expect(agCreated).toEqual([driftCheckScheduleIdFor('demo-iso')]);

    // A restart changes nothing on either side and records nothing more.
    const again = await apply('dmz');
    expect(again.driftChecks.removed).toEqual([]);
    expect(again.driftChecks.created).toEqual([]);
    expect((await apply('airgapped')).driftChecks.created).toEqual([]);
    expect((await auditOf(dmz.config)).filter((r) => r.type === 'schedule.removed')).toHaveLength(1);
    expect(await listed(dmz.client, dmzWanted)).toEqual([...dmzWanted].sort());
  });
});

/**
 * One Schedule per site: created from the configuration, never two cycles of a site at once,
 * pause/resume/trigger/backfill from the CLI, and an operator's pause survives a restart.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { AuditRecord } from '../../src/domain/audit';
import {
  AUDIT_MAINTENANCE_SCHEDULE,
  ensureSchedules,
  scheduleAuditIn,
  scheduleIdFor,
} from '../../src/runtime/schedules';
import { cancelUpdate } from '../../src/workflows/cycle-messages';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'airgap.js');

function airgap(stack: CycleStack, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, '--config', stack.configFile, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...stack.env, TEMPORAL_ADDRESS: testTemporalAddress(), TEMPORAL_NAMESPACE: TEST_NAMESPACE },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function scheduledRuns(client: Client, running = true): Promise<string[]> {
  const ids: string[] = [];
  const query = `TemporalScheduledById = '${scheduleIdFor('plant')}'${running ? ` AND ExecutionStatus = 'Running'` : ''}`;
  for await (const w of client.workflow.list({ query })) ids.push(w.workflowId);
  return ids;
}

async function eventually<T>(check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the per-site cycle schedule', () => {
  let stack: CycleStack;
  beforeAll(async () => {
    stack = await startCycleStack();
    await stack.client.schedule
      .getHandle(scheduleIdFor('plant'))
      .delete()
      .catch(() => undefined);
  });
  afterAll(async () => {
    for (const id of [scheduleIdFor('plant'), AUDIT_MAINTENANCE_SCHEDULE]) {
      await stack.client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    }
    await stack.close();
  });

  it('is created from the configuration with overlap SKIP and the configured catch-up window', async () => {
    const audit = scheduleAuditIn(stack.config.dataDir, { who: 'ops@plant.example (airgap setup)', channel: 'system' });
    expect((await ensureSchedules(stack.client, stack.config, audit)).created).toContain(scheduleIdFor('plant'));
    // A restart with the same configuration changes nothing, and records nothing.
    await ensureSchedules(stack.client, stack.config, audit);
    const changes = (await exported(stack)).filter((r) => r.data?.scheduleId === scheduleIdFor('plant'));
    expect(changes.map((r) => [r.type, r.actor?.who])).toEqual([
      ['schedule.created', 'ops@plant.example (airgap setup)'],
    ]);
    const d = await stack.client.schedule.getHandle(scheduleIdFor('plant')).describe();
    expect(d.policies.overlap).toBe('SKIP');
    expect(d.policies.catchupWindow).toBe(stack.site.schedule.catchupWindow);
    expect(d.spec.calendars?.length).toBeGreaterThan(0);
    // In words, the next run in the site's zone with how far away it is; never ran yet.
    expect(airgap(stack, 'schedule', 'list').stdout).toMatch(
      /^plant: every Tuesday at 06:00 UTC\n {2}next: Tue \d{4}-\d\d-\d\d 06:00 UTC \(in [^)]+\)\n {2}last: never ran$/m,
    );
  });

  it('is not written again by a restart with the same configuration, only when the configuration changes', async () => {
    const ids = [scheduleIdFor('plant'), AUDIT_MAINTENANCE_SCHEDULE];
    const updatedAt = () =>
      Promise.all(
        ids.map(async (id) => (await stack.client.schedule.getHandle(id).describe()).info.lastUpdatedAt?.getTime()),
      );
    await ensureSchedules(stack.client, stack.config);
    const before = await updatedAt();
    await new Promise((r) => setTimeout(r, 1100));
    expect((await ensureSchedules(stack.client, stack.config)).updated).toEqual(expect.arrayContaining(ids));
    expect(await updatedAt()).toEqual(before);

    const wider = stack.site.schedule.catchupWindow + 60_000;
    const changed = {
      ...stack.config,
      sites: [{ ...stack.site, schedule: { ...stack.site.schedule, catchupWindow: wider } }],
    };
    const t = Date.now();
    await ensureSchedules(stack.client, changed);
    const d = await stack.client.schedule.getHandle(scheduleIdFor('plant')).describe();
    expect(d.policies.catchupWindow).toBe(wider);
    expect(d.info.lastUpdatedAt!.getTime()).toBeGreaterThanOrEqual(t - 1000);
    await ensureSchedules(stack.client, stack.config);
    expect((await stack.client.schedule.getHandle(scheduleIdFor('plant')).describe()).policies.catchupWindow).toBe(
      stack.site.schedule.catchupWindow,
    );
  });

  it('stays paused across a restart once an operator paused it, and resumes on request', async () => {
    expect(
      airgap(stack, 'schedule', 'pause', 'plant', '--by', 'ops@plant.example', '--note', 'plant shutdown').code,
    ).toBe(0);
    expect((await ensureSchedules(stack.client, stack.config)).updated).toContain(scheduleIdFor('plant'));
    let d = await stack.client.schedule.getHandle(scheduleIdFor('plant')).describe();
    expect(d.state.paused).toBe(true);
    expect(airgap(stack, '--json', 'schedule', 'list').stdout).toContain('plant shutdown');
    expect(airgap(stack, 'schedule', 'resume', 'plant', '--by', 'ops@plant.example').code).toBe(0);
    d = await stack.client.schedule.getHandle(scheduleIdFor('plant')).describe();
    expect(d.state.paused).toBe(false);
  });

  it('starts a cycle when triggered, and never a second one while that cycle is open', async () => {
    stack.sim.control.publishUpdate();
    expect(airgap(stack, 'schedule', 'trigger', 'plant', '--by', 'ops@plant.example').code).toBe(0);
    const [id] = await eventually(async () => {
      const ids = await scheduledRuns(stack.client);
      return ids.length ? ids : undefined;
    });
    await stack.waitFor(stack.client.workflow.getHandle(id!), (v) => v.state === 'awaiting-transfer');
    expect(airgap(stack, 'schedule', 'trigger', 'plant', '--by', 'ops@plant.example').code).toBe(0);
    expect(
      airgap(
        stack,
        'schedule',
        'backfill',
        'plant',
        '--by',
        'ops@plant.example',
        '--from',
        '2026-01-01T00:00:00Z',
        '--to',
        '2026-02-01T00:00:00Z',
      ).code,
    ).toBe(0);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await scheduledRuns(stack.client)).toEqual([id]);
    const listed = JSON.parse(airgap(stack, '--json', 'cycle', 'list', '--site', 'plant', '--open').stdout) as {
      id: string;
      state: string;
    }[];
    expect(listed.find((r) => r.id === id)).toMatchObject({ state: 'awaiting-transfer' });
    expect(airgap(stack, 'cycle', 'list', '--site', 'nowhere').stderr).toContain('unknown site "nowhere"');
    const start = airgap(stack, 'cycle', 'start', 'plant');
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(`site plant already has an open cycle: ${id}`);
    await stack.client.workflow.getHandle(id!).executeUpdate(cancelUpdate, { args: [{ by: 'test', reason: 'done' }] });
  });

  it('refuses a backfill with times that are not times, or in the wrong order', () => {
    const bad = airgap(
      stack,
      'schedule',
      'backfill',
      'plant',
      '--by',
      'ops@plant.example',
      '--from',
      'yesterday',
      '--to',
      '2026-02-01T00:00:00Z',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--from "yesterday" is not a date/time');
    const reversed = airgap(
      stack,
      'schedule',
      'backfill',
      'plant',
      '--by',
      'ops@plant.example',
      '--from',
      '2026-02-01T00:00:00Z',
      '--to',
      '2026-01-01T00:00:00Z',
    );
    expect(reversed.stderr).toContain('--to must be after --from');
  });

  it('refuses a change without --by, and records every change with who made it in the audit export', async () => {
    for (const verb of ['pause', 'resume', 'trigger']) {
      const refused = airgap(stack, 'schedule', verb, 'plant');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('--by');
      expect(airgap(stack, 'schedule', verb, 'plant', '--by', '  ').code).toBe(1);
    }
    const exportedAudit = airgap(stack, '--json', 'audit', 'export', '--format', 'json');
    expect(exportedAudit.code).toBe(0);
    const byOps = (await exported(stack))
      .filter((r) => r.type.startsWith('schedule.') && r.actor?.who === 'ops@plant.example')
      .map((r) => [r.type, r.actor?.channel]);
    expect(byOps).toEqual(
      expect.arrayContaining([
        ['schedule.paused', 'cli'],
        ['schedule.resumed', 'cli'],
        ['schedule.triggered', 'cli'],
        ['schedule.backfilled', 'cli'],
      ]),
    );
    for (const type of ['schedule.paused', 'schedule.resumed', 'schedule.backfilled']) {
      expect(exportedAudit.stdout).toContain(type);
    }
    // A schedule change is an entry of its own, never an open run the reconciler would close.
    const open = JSON.parse(airgap(stack, '--json', 'audit', 'list', '--outcome', 'open').stdout) as {
      runs: { workflowId: string }[];
    };
    expect(open.runs.filter((r) => r.workflowId.startsWith(scheduleIdFor('plant')))).toEqual([]);
    const all = JSON.parse(airgap(stack, '--json', 'audit', 'list').stdout) as {
      runs: { workflowId: string; outcome?: string }[];
    };
    expect(all.runs.filter((r) => r.workflowId.startsWith(`${scheduleIdFor('plant')}/paused/`))).toEqual([
      expect.objectContaining({ outcome: 'paused' }),
    ]);
  });

  it('lists no next runs for a paused schedule', () => {
    expect(airgap(stack, 'schedule', 'pause', 'plant', '--by', 'ops@plant.example').code).toBe(0);
    const rows = JSON.parse(airgap(stack, '--json', 'schedule', 'list').stdout) as {
      paused: boolean;
      nextRuns: string[];
    }[];
    expect(rows[0]).toMatchObject({ paused: true, nextRuns: [] });
    expect(airgap(stack, 'schedule', 'list').stdout).toMatch(
      /plant: every Tuesday at 06:00 UTC — PAUSED\n {2}next: none while paused/,
    );
    expect(airgap(stack, 'schedule', 'resume', 'plant', '--by', 'ops@plant.example').code).toBe(0);
    const resumed = JSON.parse(airgap(stack, '--json', 'schedule', 'list').stdout) as { nextRuns: string[] }[];
    expect(resumed[0]!.nextRuns.length).toBeGreaterThan(0);
  });
});

async function exported(stack: CycleStack): Promise<AuditRecord[]> {
  const all: AuditRecord[] = [];
  for await (const r of stack.audit.export()) all.push(r);
  return all;
}

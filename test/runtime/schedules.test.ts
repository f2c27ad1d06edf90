/**
 * One Schedule per site: created from the configuration, never two cycles of a site at once,
 * pause/resume/trigger/backfill from the CLI, and an operator's pause survives a restart.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { AUDIT_MAINTENANCE_SCHEDULE, ensureSchedules, scheduleIdFor } from '../../src/runtime/schedules';
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
    expect((await ensureSchedules(stack.client, stack.config)).created).toContain(scheduleIdFor('plant'));
    const d = await stack.client.schedule.getHandle(scheduleIdFor('plant')).describe();
    expect(d.policies.overlap).toBe('SKIP');
    expect(d.policies.catchupWindow).toBe(stack.site.schedule.catchupWindow);
    expect(d.spec.calendars?.length).toBeGreaterThan(0);
    expect(airgap(stack, 'schedule', 'list').stdout).toMatch(/plant: active "0 6 \* \* 2" UTC; next /);
  });

  it('stays paused across a restart once an operator paused it, and resumes on request', async () => {
    expect(airgap(stack, 'schedule', 'pause', 'plant', '--note', 'plant shutdown').code).toBe(0);
    expect((await ensureSchedules(stack.client, stack.config)).updated).toContain(scheduleIdFor('plant'));
    let d = await stack.client.schedule.getHandle(scheduleIdFor('plant')).describe();
    expect(d.state.paused).toBe(true);
    expect(airgap(stack, '--json', 'schedule', 'list').stdout).toContain('plant shutdown');
    expect(airgap(stack, 'schedule', 'resume', 'plant').code).toBe(0);
    d = await stack.client.schedule.getHandle(scheduleIdFor('plant')).describe();
    expect(d.state.paused).toBe(false);
  });

  it('starts a cycle when triggered, and never a second one while that cycle is open', async () => {
    stack.sim.control.publishUpdate();
    expect(airgap(stack, 'schedule', 'trigger', 'plant').code).toBe(0);
    const [id] = await eventually(async () => {
      const ids = await scheduledRuns(stack.client);
      return ids.length ? ids : undefined;
    });
    await stack.waitFor(stack.client.workflow.getHandle(id!), (v) => v.state === 'awaiting-transfer');
    expect(airgap(stack, 'schedule', 'trigger', 'plant').code).toBe(0);
    expect(
      airgap(stack, 'schedule', 'backfill', 'plant', '--from', '2026-01-01T00:00:00Z', '--to', '2026-02-01T00:00:00Z')
        .code,
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
    const bad = airgap(stack, 'schedule', 'backfill', 'plant', '--from', 'yesterday', '--to', '2026-02-01T00:00:00Z');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--from "yesterday" is not a date/time');
    const reversed = airgap(
      stack,
      'schedule',
      'backfill',
      'plant',
      '--from',
      '2026-02-01T00:00:00Z',
      '--to',
      '2026-01-01T00:00:00Z',
    );
    expect(reversed.stderr).toContain('--to must be after --from');
  });
});

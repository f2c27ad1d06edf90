/**
 * A scheduled cycle that could not start: the site's schedule fires while its first cycle is
 * still open because nothing works its task queue (the worker is down), so overlap SKIP skips the
 * next ones. The schedules page and `describeSiteSchedules` say so in words, and the audit
 * maintenance mails the operators once (and records the counts it has told about).
 */
import { randomBytes } from 'node:crypto';
import { createApp } from '../../src/web/app';
import { noAuth } from '../../src/web/auth';
import { describeSiteSchedules } from '../../src/adapters/schedule-status';
import { scheduleIdFor } from '../../src/runtime/schedules';
import { linkKeysFromEnv } from '../../src/runtime/secrets';
import { createScheduleProvider } from '../../src/web/temporal-providers';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { squash } from '../web/support';

describe('a scheduled cycle that was skipped while the worker was down', () => {
  let stack: CycleStack;
  const downQueue = `down-${randomBytes(3).toString('hex')}`;
  const scheduleId = scheduleIdFor('plant');

  beforeAll(async () => {
    stack = await startCycleStack();
    await stack.client.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
  });
  afterAll(async () => {
    await stack.client.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
    for await (const w of stack.client.workflow.list({
      query: `TaskQueue = '${downQueue}' AND ExecutionStatus = 'Running'`,
    })) {
      await stack.client.workflow
        .getHandle(w.workflowId)
        .terminate('test over')
        .catch(() => undefined);
    }
    await stack.close();
  });

  const runMaintenance = () =>
    stack.client.workflow.execute('auditMaintenanceWorkflow', {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId: `audit-maintenance-test-${randomBytes(3).toString('hex')}`,
      args: [],
    }) as Promise<{ reconciled: number; overdue: string[]; schedulesMissed?: string[] }>;

  it('is shown on the schedules page and mailed to the operators once', async () => {
    // Every second; its cycles go to a queue no worker polls, so the first one stays open.
    await stack.client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1s' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'cycleWorkflow',
        workflowId: `cycle-plant-scheduled-${randomBytes(3).toString('hex')}`,
        taskQueue: downQueue,
        args: [{ site: 'plant' }],
      },
      policies: { overlap: 'SKIP', catchupWindow: 10_000 },
    });
    const handle = stack.client.schedule.getHandle(scheduleId);
    const deadline = Date.now() + 30_000;
    while ((await handle.describe()).info.numActionsSkippedOverlap < 2) {
      if (Date.now() > deadline) throw new Error('the schedule skipped nothing in 30 s');
      await new Promise((r) => setTimeout(r, 500));
    }
    await handle.pause('held by the test');

    const [status] = await describeSiteSchedules(stack.client, stack.config);
    expect(status).toMatchObject({ site: 'plant', scheduleId, paused: true });
    expect(status!.skippedOverlap).toBeGreaterThanOrEqual(2);
    expect(status!.recent[0]).toMatchObject({ outcome: 'running' });

    const app = createApp({
      actions: {
        describe: async () => ({ state: 'no-longer-waiting', currentState: 'x' }),
        perform: async () => ({ outcome: 'refused', message: 'x' }),
      },
      keys: linkKeysFromEnv(stack.env, stack.config.links),
      auth: noAuth(),
      schedules: createScheduleProvider(stack.client, stack.config),
    });
    const page = squash(await (await app.request('/schedules')).text());
    expect(page).toContain(`every Tuesday at 06:00 UTC`);
    expect(page).toContain(`${status!.skippedOverlap} skipped (a cycle of the site was still open)`);
    expect(page).toContain(
      '<span class="badge badge-fail" title="problem: skipped"><span aria-hidden="true">✗</span> skipped</span>',
    );
    expect(page).toContain('<span class="badge badge-active" title="under way: running">');

    const first = await runMaintenance();
    expect(first.schedulesMissed).toEqual(['plant']);
    const mails = (await stack.outbox.list()).filter(
      (m) => m.workflowId === 'audit-maintenance' && m.subject.includes('missed or skipped'),
    );
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toEqual(['operator@plant.example']);
    const mail = await stack.outbox.get(mails[0]!.id);
    expect(mail!.text).toContain(
      `The cycle schedule of site plant (every Tuesday at 06:00 UTC) did not start every run: ${status!.skippedOverlap} skipped (a cycle of the site was still open).`,
    );
    expect(mail!.text).toContain('airgap schedule trigger plant --by <you>');

    // Nothing new since: no second mail; the audit holds what was told.
    expect((await runMaintenance()).schedulesMissed).toEqual([]);
    expect((await stack.outbox.list()).filter((m) => m.subject.includes('missed or skipped'))).toHaveLength(1);
    const told = (await stack.audit.list({ site: 'plant', outcome: 'missed' })).map((r) => r.workflowId);
    expect(told).toEqual([`${scheduleId}/missed/0-${status!.skippedOverlap}`]);
  }, 90_000);
});

import { carryBundle } from '../../src/sim';
import { createRunProvider } from '../../src/web/temporal-providers';
import { fileCopiedUpdate } from '../../src/workflows/cycle-messages';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { recordHistory } from '../helpers/record-history';

describe('audit maintenance (scheduled every 15 minutes)', () => {
  let stack: CycleStack;
  beforeAll(async () => {
    stack = await startCycleStack();
  });
  afterAll(() => stack.close());

  let lastMaintenanceId = '';
  const runMaintenance = () =>
    stack.client.workflow.execute('auditMaintenanceWorkflow', {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId: (lastMaintenanceId = `audit-maintenance-test-${Date.now()}`),
      args: [],
    }) as Promise<{ reconciled: number; overdue: string[] }>;

  it('closes in the audit a cycle that was terminated from outside, with who ended it unknown but the outcome recorded', async () => {
    stack.sim.control.publishUpdate();
    const handle = await stack.startCycle();
    await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer');
    await handle.terminate('terminated by an operator in the Temporal UI');
    expect((await stack.audit.run(handle.workflowId))?.outcome).toBeUndefined();

    const result = await runMaintenance();
    expect(result.reconciled).toBeGreaterThanOrEqual(1);
    const records = await stack.audit.timeline(handle.workflowId);
    expect(records.at(-1)).toMatchObject({ type: 'cycle.ended', outcome: 'terminated', actor: { channel: 'system' } });
    expect((await runMaintenance()).reconciled).toBe(0);
  });

  it('raises one protection-age notice a day to the operators of a site that never imported', async () => {
    const first = await runMaintenance();
    expect(first.overdue).toEqual(['plant']);
    await recordHistory({ workflowId: lastMaintenanceId }, 'audit-maintenance-notice');
    await runMaintenance();
    const notices = (await stack.outbox.list()).filter(
      (m) => m.workflowId === 'audit-maintenance' && m.site === 'plant',
    );
    expect(notices).toHaveLength(1);
    expect(notices[0]!.to).toEqual(['operator@plant.example']);
  });

  it('still answers for a cycle after Temporal has deleted it: the run page and the timeline come from the audit', async () => {
    stack.sim.control.publishUpdate();
    const handle = await stack.startCycle();
    const view = await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer');
    await carryBundle({ bundlePath: view.bundle!.path, relays: stack.site.airgapped.relays });
    await handle.executeUpdate(fileCopiedUpdate, { args: [{ by: 'op@plant.example', sha256: view.bundle!.sha256 }] });
    expect((await handle.result()).state).toBe('completed');

    // What retention does after 30 days, done now.
    await stack.client.workflowService.deleteWorkflowExecution({
      namespace: stack.client.options.namespace,
      workflowExecution: { workflowId: handle.workflowId },
    });
    // Deletion runs as a system workflow inside the server: give it time.
    const gone = await (async () => {
      for (let i = 0; i < 240; i++) {
        const d = await handle.describe().catch((err: Error) => err);
        if (d instanceof Error) return d.message;
        await new Promise((r) => setTimeout(r, 250));
      }
      return 'still there';
    })();
    expect(gone).toMatch(/not found/i);

    const page = await createRunProvider(stack.client, stack.audit).run(handle.workflowId);
    expect(page).toMatchObject({ workflowId: handle.workflowId, site: 'plant', kind: 'cycle', state: 'completed' });
    expect(page!.facts).toEqual([{ label: 'SHA-256', value: view.bundle!.sha256 }]);
    expect(page!.events.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['bundle.built', 'human.file-copied', 'import.completed']),
    );
    expect((await stack.audit.verify()).ok).toBe(true);
  }, 120_000);
});

/**
 * An isolated site whose policy wants an approval, on both installations: the DMZ side asks
 * before it writes the package, the air-gapped side before it imports (and the person who took
 * the package in may not approve it). A cycle with nothing new since the last package ends at once.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { packageFolderOf } from '../../src/adapters/transfer-medium';
import { ISOLATED_DMZ_CYCLE_WORKFLOW } from '../../src/domain/isolated';
import { intakePass, startIntakePoller, type IntakeOutcome } from '../../src/runtime/intake-poller';
import { cycleStateQuery, type CycleResult } from '../../src/workflows/cycle-messages';
import { approveUpdate, intakeStateQuery, type IntakeResult } from '../../src/workflows/isolated-messages';
import { refusalOf } from '../../src/workflows/refusal';
import { pollQuery } from '../helpers/poll-query';
import { recordHistory } from '../helpers/record-history';
import { startIsolatedStack, type IsolatedStack } from '../helpers/isolated-stack';

jest.setTimeout(120_000);

describe('an isolated site with approvals on both sides', () => {
  let s: IsolatedStack;
  beforeAll(async () => {
    s = await startIsolatedStack({ approval: { policy: 'any' } });
  });
  afterAll(() => s?.close());

  const startDmzCycle = (): Promise<WorkflowHandle> =>
    s.client.workflow.start(ISOLATED_DMZ_CYCLE_WORKFLOW, {
      taskQueue: s.dmz.config.temporal.taskQueue,
      workflowId: `cycle-plant-${s.sim.tag}-${randomBytes(3).toString('hex')}`,
      args: [{ site: 'plant', trigger: { who: 'test@plant.example', channel: 'cli' } }],
    });

  it('asks the DMZ approvers before the package is written, and the air-gapped ones before the import', async () => {
    s.sim.sim.control.publishUpdate();
    const handle = await startDmzCycle();
    await pollQuery(handle, cycleStateQuery, (v) => v.state === 'awaiting-approval', 60_000);
    // Nothing is on the medium before the approval.
    expect(fs.existsSync(packageFolderOf(s.medium, handle.workflowId))).toBe(false);
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'approver@plant.example' }] });
    await pollQuery(handle, cycleStateQuery, (v) => v.state === 'awaiting-receipt', 60_000);

    // An approver carried the package in: the site's carrier rule keeps them from approving its import.
    const [started] = await intakePass({ client: s.client, config: s.airgapped.config, by: 'approver@plant.example' });
    expect(started).toMatchObject({ kind: 'package', status: 'started' });
    const intake = s.client.workflow.getHandle(started!.workflowId!);
    await pollQuery(intake, intakeStateQuery, (v) => v.state === 'awaiting-approval', 60_000);
    // The package is placed on the relay but not imported while the approval is open.
    expect(JSON.stringify(s.sim.sim.control.snapshot())).not.toContain('importLog');
    const byCourier = await intake.executeUpdate(approveUpdate, { args: [{ by: 'approver@plant.example' }] }).then(
      () => undefined,
      (err: unknown) => refusalOf(err),
    );
    expect(byCourier).toMatchObject({
      code: 'carrier-may-not-approve',
      message: expect.stringContaining('took the package in'),
    });
    await intake.executeUpdate(approveUpdate, { args: [{ by: 'second@plant.example' }] });
    const result = (await intake.result()) as IntakeResult;
    expect(result).toMatchObject({ state: 'completed', cycleId: handle.workflowId });
    const approved = (await s.airgapped.audit.timeline(started!.workflowId!)).filter(
      (e) => e.type === 'human.approved',
    );
    expect(approved.map((e) => e.actor?.who)).toEqual(['second@plant.example']);

    const [offered] = await intakePass({ client: s.client, config: s.dmz.config });
    expect(offered).toMatchObject({ kind: 'receipt', status: 'accepted' });
    expect(((await handle.result()) as CycleResult).state).toBe('completed');
    await recordHistory(handle, 'isolated-dmz-cycle-approved-by-relay');
    await recordHistory(intake, 'isolated-intake-approved-guided');
  });

  it('ends a DMZ cycle as nothing-new when the bundle carries what the last package carried', async () => {
    const handle = await startDmzCycle();
    const result = (await handle.result()) as CycleResult;
    expect(result.state).toBe('nothing-new');
    expect(result.reason).toMatch(/nothing newer than the package of cycle/);
    await recordHistory(handle, 'isolated-dmz-cycle-nothing-new-by-relay');
  });

  it('runs the whole cycle from the intake pollers of both sides: nobody takes anything in by hand', async () => {
    s.sim.sim.control.publishUpdate();
    const handle = await startDmzCycle();
    await pollQuery(handle, cycleStateQuery, (v) => v.state === 'awaiting-approval', 60_000);
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'approver@plant.example' }] });
    const seen: IntakeOutcome[] = [];
    const pollers = [s.airgapped.config, s.dmz.config].map((config) =>
      startIntakePoller({ client: s.client, config, everyMs: 200, onOutcome: (o) => seen.push(o) }),
    );
    try {
      const intakeId = `intake-${handle.workflowId}`;
      const started = await (async () => {
        for (const until = Date.now() + 30_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
          const o = seen.find((x) => x.workflowId === intakeId);
          if (o) return o;
        }
        return undefined;
      })();
      expect(started).toMatchObject({ kind: 'package', status: 'started' });
      const intake = s.client.workflow.getHandle(intakeId);
      await pollQuery(intake, intakeStateQuery, (v) => v.state === 'awaiting-approval', 60_000);
      await intake.executeUpdate(approveUpdate, { args: [{ by: 'second@plant.example' }] });
      expect(((await handle.result()) as CycleResult).state).toBe('completed');
      // Each package and receipt was handled once, not once per pass.
      expect(seen.filter((o) => o.workflowId === intakeId)).toHaveLength(1);
      expect(seen.filter((o) => o.kind === 'receipt' && o.status === 'accepted')).toHaveLength(1);
    } finally {
      await Promise.all(pollers.map((p) => p.stop()));
    }
  });
});

/**
 * The DMZ side of an isolated site waits for the receipt the way every wait for people works:
 * reminders and one escalation by mail (sent by the control worker's reminder activity, audited),
 * and the deadline ends the cycle as expired when nothing comes back; its package leaves the medium.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { packageFolderOf } from '../../src/adapters/transfer-medium';
import { ISOLATED_DMZ_CYCLE_WORKFLOW } from '../../src/domain/isolated';
import { cycleStateQuery, type CycleResult } from '../../src/workflows/cycle-messages';
import { pollQuery } from '../helpers/poll-query';
import { recordHistory } from '../helpers/record-history';
import { startIsolatedStack, type IsolatedStack } from '../helpers/isolated-stack';

jest.setTimeout(120_000);

describe('a receipt that never comes back', () => {
  let s: IsolatedStack;
  beforeAll(async () => {
    s = await startIsolatedStack({ waits: { reminderEvery: '1s', escalateAfter: '2500ms', deadline: '5500ms' } });
  });
  afterAll(() => s?.close());

  it('reminds the operators, escalates once, and expires the cycle at the deadline', async () => {
    s.sim.sim.control.publishUpdate();
    const handle = await s.client.workflow.start(ISOLATED_DMZ_CYCLE_WORKFLOW, {
      taskQueue: s.dmz.config.temporal.taskQueue,
      workflowId: `cycle-plant-${s.sim.tag}-${randomBytes(3).toString('hex')}`,
      args: [{ site: 'plant' }],
    });
    const waiting = await pollQuery(handle, cycleStateQuery, (v) => v.state === 'awaiting-receipt', 60_000);
    expect(waiting.waitingFor).toMatchObject({
      what: 'receipt from the air-gapped side',
      from: ['operator@plant.example'],
    });

    const result = (await handle.result()) as CycleResult;
    expect(result).toMatchObject({ state: 'expired', reason: 'no receipt came back before the deadline' });
    const mails = await s.dmz.outbox.list({ workflowId: handle.workflowId });
    const purposes = mails.map((m) => m.purpose);
    expect(purposes).toContain('transfer-instructions');
    // Reminders at 1 s … 5 s and the escalation at 2.5 s (a loaded machine may lose the last one).
    expect(purposes.filter((p) => p === 'reminder').length).toBeGreaterThanOrEqual(4);
    expect(purposes.filter((p) => p === 'escalation')).toHaveLength(1);
    const records = await s.dmz.audit.timeline(handle.workflowId);
    expect(records.filter((r) => r.type === 'wait.reminder').length).toBeGreaterThanOrEqual(4);
    expect(records.at(-1)).toMatchObject({ type: 'cycle.ended', outcome: 'expired' });
    // The DMZ bundle is archived, not left where it was built.
    expect(records.find((r) => r.type === 'dmz.bundle-retained')?.data).toMatchObject({ action: 'archived' });
    // The package that was never carried leaves the medium (and the ledger of sent packages).
    expect(fs.existsSync(packageFolderOf(s.medium, handle.workflowId))).toBe(false);
    expect(records.find((r) => r.type === 'package.removed')?.data).toMatchObject({
      folder: packageFolderOf(s.medium, handle.workflowId),
      removed: true,
      forgotten: true,
    });
    // A new name: isolated-dmz-cycle-expired.json keeps the run from before the package was withdrawn.
    await recordHistory(handle, 'isolated-dmz-cycle-expired-package-removed');
  });
});

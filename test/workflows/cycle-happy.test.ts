import { digestPrefix, firstCycleMail } from '../helpers/cycle-assert';
import { recordHistory } from '../helpers/record-history';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { carryBundle } from '../../src/sim';
import { approveUpdate, cancelUpdate, fileCopiedUpdate } from '../../src/workflows/cycle-messages';

describe('an update cycle on a simulated site', () => {
  let stack: CycleStack;
  beforeAll(async () => {
    stack = await startCycleStack({ approval: { policy: 'any' } });
  });
  afterAll(() => stack.close());

  it('bundles, waits for the copy, verifies, waits for approval, imports, cleans up and completes', async () => {
    const published = stack.sim.control.publishUpdate();
    const handle = await stack.startCycle();
    const waiting = await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer');
    expect(waiting.bundle!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(waiting.waitingFor!.from).toEqual(['operator@plant.example']);

    const mail = await firstCycleMail(stack, handle.workflowId, 'transfer-instructions');
    expect(mail.subject).toContain('plant');
    expect(mail.text).toContain(waiting.bundle!.fileName);
    expect(mail.text).toContain(waiting.bundle!.sha256);

    await carryBundle({ bundlePath: waiting.bundle!.path, relays: stack.site.airgapped.relays });
    const accepted = await handle.executeUpdate(fileCopiedUpdate, {
      args: [{ by: 'carrier@plant.example', sha256: digestPrefix(waiting.bundle!.sha256) }],
    });
    expect(accepted.accepted).toBe(true);

    await stack.waitFor(handle, (v) => v.state === 'awaiting-approval');
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'approver@plant.example' }] });

    const result = await handle.result();
    expect(result.state).toBe('completed');
    const done = await stack.view(handle);
    expect(done.relays.map((r) => r.status)).toEqual(['cleaned']);

    // The relay really imported: the manager reports the published versions.
    const relay = stack.sim.control.snapshot();
    expect(JSON.stringify(relay)).toContain(Object.values(published)[0] as string);
    // The zip is gone from the air-gapped relay, and the audit closed the run as completed.
    const timeline = await stack.audit.timeline(handle.workflowId);
    expect(timeline.map((r) => r.type)).toEqual(
      expect.arrayContaining([
        'cycle.started',
        'bundle.built',
        'human.file-copied',
        'arrival.verified',
        'human.approved',
        'import.completed',
        'cycle.ended',
      ]),
    );
    expect(timeline.at(-1)!.outcome).toBe('completed');
    await recordHistory(handle, 'cycle-completed');
  });

  it('never runs two cycles of one site at once: a second start steps aside without mail', async () => {
    stack.sim.control.publishUpdate();
    const [a, b] = await Promise.all([stack.startCycle(), stack.startCycle()]);
    const first = await Promise.race([
      stack.waitFor(a, (v) => v.state === 'awaiting-transfer').then(() => a),
      stack.waitFor(b, (v) => v.state === 'awaiting-transfer').then(() => b),
    ]);
    const second = first === a ? b : a;
    const result = await second.result();
    expect(result).toMatchObject({ state: 'cancelled', reason: 'another cycle of site plant is still open' });
    expect((await stack.outbox.list()).filter((m) => m.workflowId === second.workflowId)).toEqual([]);
    expect((await stack.view(first)).state).toBe('awaiting-transfer');
    await first.executeUpdate(cancelUpdate, { args: [{ by: 'test@plant.example', reason: 'lock test over' }] });
    expect((await first.result()).state).toBe('cancelled');
  });
});

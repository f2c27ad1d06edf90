/**
 * A cycle publishes what it asks of people and what they answered, refuses with typed codes, and
 * the web gateway tells a link posted twice from a new answer by the Update id the cycle recorded.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { carryBundle } from '../../src/sim';
import { createTemporalActionGateway } from '../../src/web/temporal-gateway';
import { approveUpdate, fileCopiedUpdate, rejectUpdate, type CycleView } from '../../src/workflows/cycle-messages';
import { refusalOf } from '../../src/workflows/refusal';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (err: unknown) => refusalOf(err)?.code ?? `untyped: ${(err as Error).message}`,
  );

describe('what a cycle asks of people', () => {
  let stack: CycleStack;
  beforeAll(async () => {
    stack = await startCycleStack({
      approval: { policy: 'n-of-m', required: 2, carrierMayApprove: false },
      approvers: ['a1@plant.example', 'a2@plant.example', 'a3@plant.example'],
    });
  });
  afterAll(() => stack.close());

  async function atApproval(): Promise<{ handle: WorkflowHandle; view: CycleView }> {
    stack.sim.control.publishUpdate();
    const handle = await stack.startCycle();
    const waiting = await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer');
    expect(waiting.asks).toEqual([
      expect.objectContaining({ action: 'file-copied', subject: waiting.bundle!.sha256, round: 0 }),
    ]);
    await carryBundle({ bundlePath: waiting.bundle!.path, relays: stack.site.airgapped.relays });
    await handle.executeUpdate(fileCopiedUpdate, {
      updateId: 'copied-by-a1',
      args: [{ by: 'a1@plant.example', sha256: waiting.bundle!.sha256 }],
    });
    const view = await stack.waitFor(handle, (v) => v.state === 'awaiting-approval');
    return { handle, view };
  }

  it('refuses approvals with the codes not-approver, carrier-may-not-approve and already-decided', async () => {
    const { handle, view } = await atApproval();
    expect(view.asks).toEqual([
      expect.objectContaining({ action: 'approve', subject: view.bundle!.sha256, needed: 2, given: 0 }),
    ]);
    expect(view.answers).toEqual([
      expect.objectContaining({ action: 'file-copied', by: 'a1@plant.example', updateId: 'copied-by-a1' }),
    ]);
    const approve = (by: string) => handle.executeUpdate(approveUpdate, { args: [{ by }] });
    expect(await codeOf(approve('boss@plant.example'))).toBe('not-approver');
    expect(await codeOf(approve('a1@plant.example'))).toBe('carrier-may-not-approve');
    expect(await codeOf(approve('a2@plant.example'))).toBe('accepted');
    expect(await codeOf(approve('A2@plant.example'))).toBe('already-decided');
    expect(await codeOf(handle.executeUpdate(rejectUpdate, { args: [{ by: 'a3@plant.example' }] }))).toBe(
      'needs-reason',
    );
    expect((await stack.view(handle)).asks[0]).toMatchObject({ action: 'approve', given: 1 });
    expect(await codeOf(approve('a3@plant.example'))).toBe('accepted');
    expect((await handle.result()).state).toBe('completed');
    const ended = await stack.view(handle);
    expect(ended.asks).toEqual([]);
    expect(await codeOf(handle.executeUpdate(approveUpdate, { args: [{ by: 'a3@plant.example' }] }))).not.toBe(
      'accepted',
    );
  });

  it('reports a link posted twice as already decided by its Update id, however late the second post', async () => {
    const { handle, view } = await atApproval();
    const gateway = createTemporalActionGateway(stack.client, { log: () => undefined });
    const payload = {
      workflowId: handle.workflowId,
      action: 'approve' as const,
      subject: view.bundle!.sha256,
      recipient: 'a2@plant.example',
      expiresAt: Date.now() + 3_600_000,
    };
    const tokenId = randomUUID();
    const first = await gateway.perform(payload, { tokenId });
    expect(first).toMatchObject({ outcome: 'done', by: 'a2@plant.example', decision: 'approved' });
    const recorded = (await stack.view(handle)).answers.find((a) => a.action === 'approve');
    expect(recorded).toMatchObject({ by: 'a2@plant.example', channel: 'link', updateId: tokenId });
    // Later than any timing window could cover: the answer's Update id is what says "repeat".
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const again = await gateway.perform(payload, { tokenId });
    expect(again).toMatchObject({ outcome: 'already-decided', by: 'a2@plant.example', at: first.at });
    expect((await stack.view(handle)).approvals).toHaveLength(1);
    // Another approver's link is a new answer, not a repeat.
    const other = await gateway.perform({ ...payload, recipient: 'a3@plant.example' }, { tokenId: randomUUID() });
    expect(other.outcome).toBe('done');
    expect((await handle.result()).state).toBe('completed');
  }, 60_000);

  it('refuses a link for another bundle with the code wrong-subject', async () => {
    const { handle, view } = await atApproval();
    const gateway = createTemporalActionGateway(stack.client, { log: () => undefined });
    const payload = {
      workflowId: handle.workflowId,
      action: 'approve' as const,
      subject: 'ef'.repeat(32),
      recipient: 'a2@plant.example',
      expiresAt: Date.now() + 3_600_000,
    };
    expect(await gateway.perform(payload, { tokenId: randomUUID() })).toMatchObject({
      outcome: 'refused',
      code: 'wrong-subject',
    });
    expect(view.state).toBe('awaiting-approval');
    await handle.executeUpdate(rejectUpdate, { args: [{ by: 'a2@plant.example', comment: 'test over' }] });
    expect((await handle.result()).state).toBe('rejected');
  });
});

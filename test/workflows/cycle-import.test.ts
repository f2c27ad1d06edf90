import { carryBundle } from '../../src/sim';
import { renderCycle } from '../../src/cli/cycle';
import {
  approveUpdate,
  cancelUpdate,
  fileCopiedUpdate,
  rejectUpdate,
  type CycleView,
} from '../../src/workflows/cycle-messages';
import type { WorkflowHandle } from '@temporalio/client';
import { firstCycleMail, mailsOf, relayImports } from '../helpers/cycle-assert';
import { recordHistory } from '../helpers/record-history';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';

async function carriedAndCopied(
  stack: CycleStack,
  by = 'carrier@plant.example',
): Promise<{ handle: WorkflowHandle; view: CycleView }> {
  stack.sim.control.publishUpdate();
  const handle = await stack.startCycle();
  const view = await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer');
  await carryBundle({ bundlePath: view.bundle!.path, relays: stack.site.airgapped.relays });
  await handle.executeUpdate(fileCopiedUpdate, { args: [{ by, sha256: view.bundle!.sha256 }] });
  return { handle, view };
}

describe('the import step of a cycle', () => {
  let stack: CycleStack;
  beforeAll(async () => {
    stack = await startCycleStack({ relays: 2 });
  });
  afterAll(() => stack.close());

  it('retries transient manager errors and imports exactly once on every relay, without a failure mail', async () => {
    const before = relayImports(stack);
    stack.sim.control.injectFault({
      kind: 'server-error',
      count: 3,
      status: 503,
      manager: { siteId: 'plant', side: 'airgapped' },
    });
    const { handle } = await carriedAndCopied(stack);
    const result = await handle.result();
    expect(result.state).toBe('completed');
    const after = relayImports(stack);
    for (const relay of stack.site.airgapped.relays) expect(after[relay.name]! - (before[relay.name] ?? 0)).toBe(1);
    const purposes = (await mailsOf(stack, handle.workflowId)).map((m) => m.purpose);
    expect(purposes).not.toContain('failure');
    expect(purposes).toContain('result');
  });

  it('ends failed with the relay manager reason when the relay rejects the import, and mails the failure once', async () => {
    stack.sim.control.injectFault({ kind: 'failed-import', count: 1 });
    const { handle, view } = await carriedAndCopied(stack);
    const result = await handle.result();
    expect(result.state).toBe('failed');
    expect(result.reason).toMatch(/did not import the bundle: Security Update failed/);
    const failures = (await mailsOf(stack, handle.workflowId)).filter((m) => m.purpose === 'failure');
    expect(failures).toHaveLength(1);
    // What an operator needs to retry stays: the DMZ bundle and the verified copy.
    const fs = await import('node:fs');
    expect(fs.existsSync(view.bundle!.path)).toBe(true);
    const records = await stack.audit.timeline(handle.workflowId);
    expect(records.at(-1)).toMatchObject({ type: 'cycle.ended', outcome: 'failed' });
    stack.sim.control.clearFaults();
    // The kept copies are named for a person in the failure mail and in the audit.
    const kept = records.filter((r) => r.type === 'relay.copy-kept');
    const keptPaths = stack.site.airgapped.relays.map((relay) => `${relay.installDir}/${view.bundle!.fileName}`);
    expect(kept.map((r) => r.data?.path).sort()).toEqual([...keptPaths, view.bundle!.path].sort());
    expect(kept.every((r) => r.actor?.who === `cycle ${handle.workflowId}`)).toBe(true);
    const mail = await firstCycleMail(stack, handle.workflowId, 'failure');
    for (const p of keptPaths) expect(mail.text).toContain(p);

    // The next cycle completes and leaves no bundle of the failed one on the relays or the DMZ install folder.
    const next = await carriedAndCopied(stack);
    expect((await next.handle.result()).state).toBe('completed');
    for (const p of keptPaths) expect(fs.existsSync(p)).toBe(false);
    expect(fs.existsSync(view.bundle!.path)).toBe(false);
    for (const relay of stack.site.airgapped.relays) {
      expect(fs.readdirSync(relay.installDir!).filter((n) => n.endsWith('.zip'))).toEqual([]);
    }
    const removed = (await stack.audit.timeline(next.handle.workflowId)).filter(
      (r) => r.type === 'relay.stale-removed',
    );
    expect(removed.map((r) => r.data?.path).sort()).toEqual([...keptPaths, view.bundle!.path].sort());
    expect(removed.every((r) => r.data?.leftBy === handle.workflowId && r.actor?.who)).toBe(true);
    // Every change to a relay's files is in the audit with who made it: the C4 deletion too.
    const cleaned = (await stack.audit.timeline(next.handle.workflowId)).filter((r) => r.type === 'relay.cleaned');
    expect(cleaned.map((r) => r.data?.relay).sort()).toEqual(stack.site.airgapped.relays.map((r) => r.name).sort());
    expect(cleaned.every((r) => r.actor?.who === `cycle ${next.handle.workflowId}`)).toBe(true);
    await recordHistory(handle, 'cycle-failed-import-kept');
    await recordHistory(next.handle, 'cycle-stale-copies-removed');
  });
});

describe('the approval gate', () => {
  let stack: CycleStack;
  beforeAll(async () => {
    stack = await startCycleStack({
      approval: { policy: 'n-of-m', required: 2, carrierMayApprove: false },
      approvers: ['a1@plant.example', 'a2@plant.example', 'a3@plant.example'],
    });
  });
  afterAll(() => stack.close());

  const refusal = (p: Promise<unknown>) =>
    p.then(() => 'accepted').catch((err: Error) => String((err.cause as Error)?.message ?? err.message));

  it('needs two distinct approvers, refuses the carrier and outsiders, then imports', async () => {
    const { handle } = await carriedAndCopied(stack, 'a1@plant.example');
    await stack.waitFor(handle, (v) => v.state === 'awaiting-approval');
    expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ by: 'a1@plant.example' }] }))).toMatch(
      /carried the file/,
    );
    expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ by: 'boss@plant.example' }] }))).toMatch(
      /not an approver/,
    );
    expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ by: 'a2@plant.example' }] }))).toBe('accepted');
    expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ by: 'A2@plant.example' }] }))).toMatch(
      /already approved/,
    );
    expect((await stack.view(handle)).state).toBe('awaiting-approval');
    expect(
      await refusal(handle.executeUpdate(approveUpdate, { args: [{ by: 'a3@plant.example', comment: 'ok' }] })),
    ).toBe('accepted');
    expect((await handle.result()).state).toBe('completed');
    await recordHistory(handle, 'cycle-n-of-m-approved');
    const requests = (await mailsOf(stack, handle.workflowId)).filter((m) => m.purpose === 'approval-request');
    expect(requests.map((m) => m.to[0]).sort()).toEqual(['a1@plant.example', 'a2@plant.example', 'a3@plant.example']);
  });

  it('shows a nothing-new cycle as it ended: no relay waiting, no approval outstanding', async () => {
    // The previous test imported the newest bundle; nothing new is published since.
    const handle = await stack.startCycle();
    expect((await handle.result()).state).toBe('nothing-new');
    const view = await stack.view(handle);
    expect(view.relays.map((r) => r.status)).toEqual(stack.site.airgapped.relays.map(() => 'not-needed'));
    expect(view.approvalsRequired).toBe(0);
    const text = renderCycle(view);
    expect(text).not.toMatch(/: waiting|approvals 0\//);
    expect(text).toContain('outcome nothing-new');
  });

  it('shows a cycle cancelled before the copy as it ended: relays not copied, no approval outstanding', async () => {
    stack.sim.control.publishUpdate();
    const handle = await stack.startCycle();
    expect((await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer')).approvalsRequired).toBe(2);
    await handle.executeUpdate(cancelUpdate, { args: [{ by: 'a1@plant.example', reason: 'not this week' }] });
    expect((await handle.result()).state).toBe('cancelled');
    const view = await stack.view(handle);
    expect(view.relays.map((r) => r.status)).toEqual(stack.site.airgapped.relays.map(() => 'not-copied'));
    expect(view.approvalsRequired).toBe(0);
  });

  it('ends rejected on a rejection, imports nothing and removes the unimported copy from the relay', async () => {
    const before = relayImports(stack);
    const { handle, view } = await carriedAndCopied(stack);
    await stack.waitFor(handle, (v) => v.state === 'awaiting-approval');
    expect(await refusal(handle.executeUpdate(rejectUpdate, { args: [{ by: 'a3@plant.example' }] }))).toMatch(
      /needs a comment/,
    );
    await handle.executeUpdate(rejectUpdate, {
      args: [{ by: 'a3@plant.example', comment: 'not during the audit week' }],
    });
    const result = await handle.result();
    expect(result).toMatchObject({ state: 'rejected', reason: expect.stringContaining('not during the audit week') });
    expect(relayImports(stack)).toEqual(before);
    const fs = await import('node:fs');
    expect(fs.existsSync(`${stack.site.airgapped.relays[0]!.installDir}/${view.bundle!.fileName}`)).toBe(false);
  });
});

describe('waiting for a person', () => {
  let stack: CycleStack;
  beforeAll(async () => {
    stack = await startCycleStack({ waits: { reminderEvery: '1s', escalateAfter: '2500ms', deadline: '4s' } });
  });
  afterAll(() => stack.close());

  it('reminds at the configured cadence, escalates once to the second list, and expires at the deadline', async () => {
    stack.sim.control.publishUpdate();
    const handle = await stack.startCycle();
    const started = Date.now();
    const result = await handle.result();
    expect(result.state).toBe('expired');
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    const mails = await mailsOf(stack, handle.workflowId);
    const reminders = mails.filter((m) => m.purpose === 'reminder');
    const escalations = mails.filter((m) => m.purpose === 'escalation');
    expect(reminders).toHaveLength(3);
    expect(escalations).toHaveLength(1);
    expect(escalations[0]!.to.sort()).toEqual(['lead@plant.example', 'operator@plant.example']);
    const transfer = mails.find((m) => m.purpose === 'transfer-instructions')!;
    // Reminders fall one cadence apart after the first notice; the escalation between the 2nd and 3rd.
    const offsets = reminders.map((m) => m.createdAt - transfer.createdAt);
    expect(offsets[0]).toBeGreaterThanOrEqual(900);
    expect(offsets[2]! - offsets[0]!).toBeGreaterThanOrEqual(1800);
    expect(escalations[0]!.createdAt).toBeGreaterThan(reminders[1]!.createdAt);
    expect(escalations[0]!.createdAt).toBeLessThan(reminders[2]!.createdAt + 50);
    const records = await stack.audit.timeline(handle.workflowId);
    expect(records.filter((r) => r.type === 'wait.reminder')).toHaveLength(3);
    expect(records.at(-1)).toMatchObject({ type: 'cycle.ended', outcome: 'expired' });
    expect(records.some((r) => r.type === 'dmz.bundle-retained' && r.data?.action === 'archived')).toBe(true);
    await recordHistory(handle, 'cycle-expired');
  });
});

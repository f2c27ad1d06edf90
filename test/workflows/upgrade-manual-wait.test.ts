import { recordHistory } from '../helpers/record-history';
import { startUpgradeStack, type UpgradeStack } from '../helpers/upgrade-stack';

describe('a manual upgrade stage nobody confirms', () => {
  let stack: UpgradeStack;
  beforeAll(async () => {
    stack = await startUpgradeStack({
      waits: { reminderEvery: '1s', escalateAfter: '10m', deadline: '3500ms' },
      upgrade: { verifyTimeout: '2s', pollInterval: '100ms', maxPollInterval: '300ms' },
    });
  });
  afterAll(() => stack.close());

  it('waits with reminders, halts at the deadline instead of moving on, and expires when nobody decides', async () => {
    const handle = await stack.start(
      { manager: '20.0.1000', relay: '20.0.1.100', agent: '20.0.1.100' },
      undefined,
      'rollout-expired',
    );
    await stack.waitForStep(handle, 'U1-upgrade');

    // Past the reminder: still waiting for U1, reminded by mail, the next stage untouched.
    // Reminders are sent and audited by the control worker's reminder activity, not noted in the
    // run's timeline (issue 16: a week of them kept each run's history large).
    const audited = async () => (await stack.audit.timeline(handle.workflowId)).some((r) => r.type === 'wait.reminder');
    for (let i = 0; !(await audited()) && i < 30; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await audited()).toBe(true);
    const reminded = await stack.view(handle);
    expect(reminded.state).toBe('u1-awaiting-upgrade');
    expect(reminded.waitingFor?.what).toBe('manual:U1-upgrade');
    expect(reminded.stages.slice(1).map((s) => s.status)).toEqual(['pending', 'pending', 'pending', 'pending']);
    const waitMails = async () =>
      (await stack.outbox.list({ workflowId: handle.workflowId, purpose: 'manual-step' })).filter((m) =>
        m.subject.includes('upgrade the DMZ Manager'),
      );
    for (let i = 0; (await waitMails()).length < 2 && i < 50; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await waitMails()).length).toBeGreaterThanOrEqual(2);

    // At the deadline the stage fails: the rollout halts at U1 and waits for retry or abort.
    const halted = await stack.waitFor(handle, (v) => v.halted !== undefined, 5000);
    expect(halted.halted).toMatchObject({ stage: 'U1', during: 'awaiting-upgrade' });
    expect(halted.halted!.message).toMatch(/^nobody confirmed the upgrade of U1 before the deadline/);
    expect(halted.stages.slice(1).map((s) => s.status)).toEqual(['pending', 'pending', 'pending', 'pending']);

    // Nobody decides either: the rollout ends as expired, with U2–U5 never begun (and shown so).
    const result = await handle.result();
    expect(result.state).toBe('expired');
    expect(result.stages.map((s) => s.status)).toEqual([
      'failed',
      'not-started',
      'not-started',
      'not-started',
      'not-started',
    ]);
    // Ended: the status no longer offers retry or abort.
    const final = await stack.view(handle);
    expect(final.halted).toBeUndefined();
    expect(final.state).toBe('expired');
    const records = await stack.audit.timeline(handle.workflowId);
    expect(records.filter((r) => r.type === 'wait.reminder').length).toBeGreaterThanOrEqual(2);
    expect(records.filter((r) => r.type === 'stage.started').map((r) => r.data!.stage)).toEqual(['U1']);
    expect(records.at(-1)).toMatchObject({ type: 'upgrade.ended', outcome: 'expired' });
    await recordHistory(handle, 'rollout-expired');
  });
});

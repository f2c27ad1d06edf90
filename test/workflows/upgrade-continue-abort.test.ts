/**
 * Issue 11, item 1: an operator's action accepted while a rollout run waits, before continuing as
 * new, for mails the SMTP server cannot take yet. The abort must hold: the rollout ends `aborted`
 * in that run, no later run starts and mails anyone to upgrade the next wave, a second abort is
 * refused, and every field of the status and the notice say `aborted`.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { targetsFrom } from '../../src/domain/upgrade-stages';
import { abortRolloutUpdate } from '../../src/workflows/upgrade-messages';
import { recordHistory } from '../helpers/record-history';
import { startSmtpCatcher, type SmtpCatcher } from '../helpers/smtp-catcher';
import { startUpgradeStack, type UpgradeStack } from '../helpers/upgrade-stack';

/** The notify activity failing and waiting for its next attempt, as Temporal describes it. */
async function failedNotify(handle: WorkflowHandle, timeoutMs = 15_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { raw } = await handle.describe();
    const notify = (raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'notify' && a.lastFailure);
    if (notify) return notify.lastFailure?.message ?? '';
    if (Date.now() > until) throw new Error(`no failed notify activity in ${handle.workflowId} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('an upgrade rollout aborted while it waits for undelivered mails before continuing as new', () => {
  let smtp: SmtpCatcher;
  let stack: UpgradeStack;
  beforeAll(async () => {
    smtp = await startSmtpCatcher();
    stack = await startUpgradeStack({
      relays: 1,
      agentsPerRelay: 2,
      mail: { from: 'airgap <airgap@plant.example>', smtp: { host: '127.0.0.1', port: smtp.port } },
      upgrade: {
        verifyTimeout: '3s',
        pollInterval: '100ms',
        maxPollInterval: '300ms',
        // One agent per wave, one wave per run: after wave 1 the rollout continues as new.
        waves: { size: 1, concurrency: 1, failureThresholdPercent: 20, perRun: 1 },
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await smtp?.close();
  });

  it('ends aborted in that run: no wave-2 request, a second abort refused, status and notice say aborted', async () => {
    const targets = targetsFrom({ manager: '20.0.1000', relay: '20.0.1.100', agent: '20.0.1.100' });
    const agents = stack.agentIds();
    expect(agents).toHaveLength(2);
    // Managers and relays were upgraded earlier: U1–U4 verify at once; the agents wait for U5.
    stack.person.upgradeAll(targets, agents);
    await smtp.stop();
    // A fixed id: the replay test replays this run's history under its file name.
    const handle = await stack.start(targets, undefined, `rollout-aborted-before-continue`);

    const asking = await stack.waitFor(handle, (v) => v.agents.waveWaiting?.wave === 1);
    const wave1 = asking.agents.waveWaiting!.agents.map((a) => a.id);
    expect(wave1).toEqual([agents[0]]);
    stack.person.upgradeComputers('airgapped', wave1, targets.agent);
    await stack.confirm(handle, 'U5');

    // Wave 1 is verified; the run now waits for its undelivered mails before continuing as new.
    const waiting = await stack.waitFor(handle, (v) => v.agents.wavesDone === 1);
    expect([waiting.agents.runs, waiting.agents.waveWaiting]).toEqual([1, undefined]);
    expect(await failedNotify(handle)).toMatch(/unreachable|ECONNREFUSED/);

    const answer = await handle.executeUpdate(abortRolloutUpdate, {
      args: [{ by: 'lead@plant.example', reason: 'change freeze' }],
    });
    expect(answer.message).toMatch(/the rollout stops without starting anything new/);
    const again = await stack.attempt(handle, (h) =>
      h.executeUpdate(abortRolloutUpdate, { args: [{ by: 'operator@plant.example', reason: 'again' }] }),
    );
    expect(again).toMatch(/already aborted by lead@plant.example: change freeze|has already ended \(aborted\)/);

    await smtp.start();
    const result = await handle.result();
    expect(result.state).toBe('aborted');
    expect(result.reason).toBe('aborted by lead@plant.example: change freeze');
    // Still the first run: nothing continued, nothing new started.
    expect(result.agents).toMatchObject({ runs: 1, wavesStarted: 1, wavesDone: 1 });
    expect(result.stages.map((s) => s.status)).toEqual(['verified', 'verified', 'verified', 'verified', 'aborted']);
    const final = await stack.view(handle);
    expect([final.state, final.waitingFor, final.halted, final.agents.waveWaiting]).toEqual([
      'aborted',
      undefined,
      undefined,
      undefined,
    ]);
    expect(final.stages.at(-1)!.status).toBe('aborted');

    const records = await stack.audit.timeline(handle.workflowId);
    const types = records.map((r) => r.type);
    expect(types).not.toContain('upgrade.continued');
    expect(types.filter((t) => t === 'human.abort')).toHaveLength(1);
    const requested = records.filter((r) => r.type === 'manual-step.requested').map((r) => r.data!.step);
    expect(requested).toContain('U5-wave-1');
    expect(requested).not.toContain('U5-wave-2');
    expect(records.at(-1)).toMatchObject({ type: 'upgrade.ended', outcome: 'aborted' });
    await recordHistory(handle, 'rollout-aborted-before-continue');

    // Once the SMTP server is back every mail arrives: the final notice says aborted; no mail asks
    // anyone to upgrade the second agent.
    const [notice] = await smtp.waitFor(
      'result',
      (m) => m.workflowId === handle.workflowId && m.purpose === 'result',
      1,
      45_000,
    );
    expect(notice!.mail.subject).toMatch(/ — rollout aborted$/);
    expect(notice!.mail.text).toMatch(/^The rollout was aborted\./);
    expect(notice!.mail.text).not.toMatch(/failed/);
    const mine = smtp.received.filter((m) => m.workflowId === handle.workflowId);
    const computers = stack.sim.control.snapshot().managers[`${stack.site.id}/airgapped`]!.computers;
    const [first, second] = [computers[agents[0]!]!.hostName, computers[agents[1]!]!.hostName];
    const waveMails = mine.filter((m) => m.purpose === 'manual-step' && m.mail.text?.includes(first));
    expect(waveMails.length).toBeGreaterThanOrEqual(1);
    for (const m of mine) expect([m.purpose, m.mail.text?.includes(second)]).toEqual([m.purpose, false]);
  }, 90_000);
});

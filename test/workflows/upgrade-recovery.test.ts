import { renderRollout } from '../../src/cli/upgrade';
import { targetsFrom } from '../../src/domain/upgrade-stages';
import { createRunProvider } from '../../src/web/temporal-providers';
import {
  abortRolloutUpdate,
  confirmStageUpdate,
  retryStageUpdate,
  runStateQuery,
} from '../../src/workflows/upgrade-messages';
import { recordHistory } from '../helpers/record-history';
import { startUpgradeStack, type UpgradeStack } from '../helpers/upgrade-stack';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('an upgrade rollout after failures and restarts', () => {
  let stack: UpgradeStack;
  beforeAll(async () => {
    stack = await startUpgradeStack({
      relays: 2,
      agentsPerRelay: 3,
      upgrade: {
        verifyTimeout: '1s',
        pollInterval: '100ms',
        maxPollInterval: '300ms',
        // Agents are upgraded by a tool outside the orchestrator; the rollout watches, in waves of two.
        stages: { U5: { mode: 'external' } },
        waves: { size: 2, concurrency: 1, failureThresholdPercent: 20 },
      },
    });
  });
  afterAll(() => stack.close());

  it('halts when U4 does not reach its target, moves nothing forward, and completes after a retry', async () => {
    const targets = targetsFrom({ manager: '20.0.1000', relay: '20.0.1.100', agent: '20.0.1.100' });
    const [relay1, relay2] = stack.site.airgapped.relays;
    // The managers and the DMZ relay were upgraded earlier; so were the agents (U5 has nothing to do).
    stack.person.upgradeAll(targets);
    stack.person.upgradeComputers('airgapped', [relay1!.computerId, relay2!.computerId], '20.0.0.8438');
    const handle = await stack.start(targets, undefined, 'rollout-failed-then-retried');

    await stack.waitForStep(handle, 'U4-upgrade');
    stack.person.upgradeComputers('airgapped', [relay1!.computerId], targets.relay);
    await stack.confirm(handle, 'U4');
    // While U4 verifies, its status says what the lagging relay reports and what is expected.
    const verifying = await stack.waitFor(handle, (v) => v.stages[3]!.reading !== undefined, 5000);
    expect(verifying.stages[3]!.status).toBe('verifying');
    expect(verifying.stages[3]!.reading).toBe(`${relay2!.name} reports 20.0.0.8438, expects 20.0.1.100 (active)`);
    expect(renderRollout(verifying)).toContain(`    ${relay2!.name} reports 20.0.0.8438, expects 20.0.1.100 (active)`);
    const halted = await stack.waitFor(handle, (v) => v.halted !== undefined);
    expect(halted.stages[3]!.reading).toBeUndefined();
    expect(halted.state).toBe('u4-failed');
    expect(halted.halted).toMatchObject({ stage: 'U4', during: 'verifying' });
    expect(halted.halted!.message).toMatch(
      new RegExp(
        `not at 20\\.0\\.1\\.100 within 1s.*: ${relay2!.name} reports 20\\.0\\.0\\.8438, expects 20\\.0\\.1\\.100 \\(active\\)`,
      ),
    );
    expect(halted.halted!.message).not.toContain(`${relay1!.name} reports`);
    expect(halted.halted!.options.join('\n')).toMatch(/airgap upgrade retry .* --stage U4[\s\S]*airgap upgrade abort/);

    // Nothing moves on by itself, and only a retry of U4 (or an abort) is accepted.
    await sleep(1000);
    const still = await stack.view(handle);
    expect(still.state).toBe('u4-failed');
    expect(still.stages.map((s) => s.status)).toEqual(['verified', 'verified', 'verified', 'failed', 'pending']);
    expect(still.waitingFor?.what).toBe('retry or abort after U4 failed');
    const confirmU5 = await stack.attempt(handle, (h) =>
      h.executeUpdate(confirmStageUpdate, { args: [{ stage: 'U5', by: 'operator@plant.example' }] }),
    );
    expect(confirmU5).toMatch(/U5 .* cannot be confirmed yet: U4 must be verified first .* at U4 .*, failed/);
    const retryU3 = await stack.attempt(handle, (h) =>
      h.executeUpdate(retryStageUpdate, { args: [{ stage: 'U3', by: 'operator@plant.example' }] }),
    );
    expect(retryU3).toMatch(/U3 .* is already verified at 20\.0\.1000; there is nothing to retry/);
    const confirmU4 = await stack.attempt(handle, (h) =>
      h.executeUpdate(confirmStageUpdate, { args: [{ stage: 'U4', by: 'operator@plant.example' }] }),
    );
    expect(confirmU4).toMatch(/U4 .* has failed: retry it or abort the rollout/);

    // The run page shows the rollout stage by stage, and the halt.
    const page = await createRunProvider(stack.client, stack.audit).run(handle.workflowId);
    const facts = Object.fromEntries(page!.facts!.map((f) => [f.label, f.value]));
    expect(facts['U3 air-gapped Manager (+ database)']).toMatch(/^verified, target 20\.0\.1000, was 20\.0\.1000/);
    expect(facts['U4 air-gapped Relay(s)']).toMatch(/^failed, target 20\.0\.1\.100, .*— not at 20\.0\.1\.100/);
    expect(facts['U5 air-gapped Agents']).toMatch(/^pending, target 20\.0\.1\.100/);
    expect(facts.Halted).toMatch(/^U4: retry: airgap upgrade retry/);

    // The halt is published as an ask (what the gateway and CLI decide from), the retry as its answer.
    const haltAsk = await handle.query(runStateQuery);
    expect(haltAsk.asks).toEqual([
      expect.objectContaining({ id: 'stage:U4', action: 'retry-stage', subject: 'U4', round: 0 }),
    ]);
    // The retry asks again (a new step), and the stage verifies once the second relay is upgraded.
    await handle.executeUpdate(retryStageUpdate, { args: [{ stage: 'U4', by: 'operator@plant.example' }] });
    const retried = await handle.query(runStateQuery);
    expect(retried.asks.map((a) => a.id)).not.toContain('stage:U4');
    expect(retried.answers).toContainEqual(
      expect.objectContaining({ askId: 'stage:U4', action: 'retry-stage', by: 'operator@plant.example' }),
    );
    await stack.waitForStep(handle, 'U4-upgrade-a2');
    stack.person.upgradeComputers('airgapped', [relay2!.computerId], targets.relay);
    await stack.confirm(handle, 'U4');
    const result = await handle.result();
    expect(result.state).toBe('completed');
    expect(result.stages.find((s) => s.id === 'U4')).toMatchObject({ status: 'verified', attempts: 2 });

    const records = await stack.audit.timeline(handle.workflowId);
    expect(records.filter((r) => r.type === 'stage.failed').map((r) => r.data!.stage)).toEqual(['U4']);
    expect(records.filter((r) => r.type === 'human.stage-retry').map((r) => r.data!.stage)).toEqual(['U4']);
    expect(records.filter((r) => r.type === 'stage.verified').map((r) => r.data!.stage)).toEqual([
      'U1',
      'U2',
      'U3',
      'U4',
      'U5',
    ]);
    const failureMail = (await stack.outbox.list({ workflowId: handle.workflowId, purpose: 'upgrade-stage' })).find(
      (m) => m.subject.includes('U4') && m.subject.includes('failed'),
    );
    expect(failureMail).toBeDefined();
    await recordHistory(handle, 'rollout-failed-then-retried');
    await recordHistory({ workflowId: `${handle.workflowId}/U4-verify-1` }, 'upgrade-verify-not-reached');
  });

  it('stops the agent rollout when a wave fails beyond the threshold, and starts no further wave', async () => {
    const targets = targetsFrom({ manager: '20.0.2000', relay: '20.0.2.100', agent: '20.0.2.100' });
    const agents = stack.agentIds();
    // The tool upgraded every agent but the fourth: wave 1 passes, wave 2 has 1 of 2 below target.
    stack.person.upgradeAll(targets, [agents[3]!]);
    const handle = await stack.start(targets, undefined, 'rollout-wave-over-threshold');
    const halted = await stack.waitFor(handle, (v) => v.halted !== undefined);
    expect(halted.halted!.stage).toBe('U5');
    expect(halted.halted!.message).toMatch(
      new RegExp(
        `^wave 2 \\(agents ${agents[2]}–${agents[3]}\\): 1 of 2 agent\\(s\\) \\(50 %\\) did not report 20\\.0\\.2\\.100 .*more than the 20 % threshold: .*-agent-\\d reports 20\\.0\\.1\\.100`,
      ),
    );
    await sleep(500);
    const view = await stack.view(handle);
    expect(view.agents).toMatchObject({ wavesStarted: 2, wavesDone: 1, verified: 2, afterId: agents[1] });
    expect(view.agents.inFlight).toEqual([]);

    await handle.executeUpdate(abortRolloutUpdate, {
      args: [{ by: 'lead@plant.example', reason: 'agent 4 needs a reinstall first' }],
    });
    const result = await handle.result();
    expect(result).toMatchObject({ state: 'aborted', reason: expect.stringContaining('agent 4 needs a reinstall') });
    const records = await stack.audit.timeline(handle.workflowId);
    expect(records.filter((r) => r.type === 'wave.started').map((r) => r.data!.wave)).toEqual([1, 2]);
    expect(records.filter((r) => r.type === 'wave.failed').map((r) => r.data!.wave)).toEqual([2]);
    expect(records.at(-1)).toMatchObject({ type: 'upgrade.ended', outcome: 'aborted' });
    await recordHistory(handle, 'rollout-wave-over-threshold');
  });

  it('resumes at the stage it was at when the workers are replaced', async () => {
    const targets = targetsFrom({ manager: '20.0.3000', relay: '20.0.3.100', agent: '20.0.3.100' });
    stack.person.upgradeManager('dmz', targets.manager);
    stack.person.upgradeComputers('dmz', [stack.site.dmz.relay.computerId], targets.relay);
    const handle = await stack.start(targets);
    await stack.waitForStep(handle, 'U3-upgrade');

    // The workers go away while the rollout waits for a person; new ones take over the same queues.
    await stack.stopWorkers();
    stack.person.upgradeManager('airgapped', targets.manager);
    await stack.startWorkers();
    const resumed = await stack.view(handle);
    expect(resumed.state).toBe('u3-awaiting-upgrade');
    expect(resumed.waitingFor?.what).toBe('manual:U3-upgrade');

    await stack.confirm(handle, 'U3');
    await stack.waitForStep(handle, 'U4-upgrade');
    stack.person.upgradeAll(targets);
    await stack.confirm(handle, 'U4');
    const result = await handle.result();
    expect(result.state).toBe('completed');
    const records = await stack.audit.timeline(handle.workflowId);
    expect(records.filter((r) => r.type === 'stage.started').map((r) => r.data!.stage)).toEqual([
      'U1',
      'U2',
      'U3',
      'U4',
      'U5',
    ]);
    expect(records.filter((r) => r.type === 'manual-step.requested').map((r) => r.data!.step)).toEqual([
      'U3-upgrade',
      'U4-upgrade',
    ]);
  });
});

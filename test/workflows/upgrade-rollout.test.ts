import { UPGRADE_STAGES, type StageId } from '../../src/domain/upgrade-stages';
import {
  abortRolloutUpdate,
  confirmStageUpdate,
  retryStageUpdate,
  rolloutLockId,
  type UpgradeView,
} from '../../src/workflows/upgrade-messages';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';
import { refusalOf } from '../../src/workflows/refusal';
import { recordHistory } from '../helpers/record-history';
import { startUpgradeStack, type UpgradeStack } from '../helpers/upgrade-stack';
import type { WorkflowHandle } from '@temporalio/client';
import { runCliInProcess } from '../helpers/in-process-cli';

const MANAGER = '20.0.1000';
const AGENT = '20.0.1.200';

describe('an upgrade rollout on a simulated site', () => {
  let stack: UpgradeStack;
  beforeAll(async () => {
    stack = await startUpgradeStack({
      relays: 2,
      agentsPerRelay: 3,
      upgrade: {
        verifyTimeout: '3s',
        pollInterval: '100ms',
        maxPollInterval: '300ms',
        stages: { U1: { soak: '1s' }, U2: { approval: true } },
        // Six agents in waves of two, two verified at once, two waves per run: U5 continues as new.
        waves: { size: 2, concurrency: 2, failureThresholdPercent: 20, perRun: 2 },
      },
    });
  });
  afterAll(() => stack.close());

  /** Tries to confirm every stage but `current`; returns the refusals by stage. */
  async function refusalsOutside(handle: WorkflowHandle, current: StageId): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const s of UPGRADE_STAGES.filter((x) => x !== current)) {
      out[s] = await stack.attempt(handle, (h) =>
        h.executeUpdate(confirmStageUpdate, { args: [{ stage: s, by: 'operator@plant.example' }] }),
      );
    }
    return out;
  }

  function expectOnlyCurrentConfirmable(refusals: Record<string, string>, current: StageId) {
    const index = UPGRADE_STAGES.indexOf(current);
    for (const [s, reason] of Object.entries(refusals)) {
      if (UPGRADE_STAGES.indexOf(s as StageId) < index)
        expect(reason).toMatch(new RegExp(`^${s} .* is already verified at `));
      else {
        expect(reason).toMatch(new RegExp(`^${s} .* cannot be confirmed yet: .* must be verified first`));
        expect(reason).toContain(`the rollout is at ${current} `);
      }
    }
    expect(Object.keys(refusals)).toHaveLength(4);
  }

  it('upgrades U1 → U5 strictly in order, waiting for each confirmation, and refuses every other stage meanwhile', async () => {
    // A fixed id: the replay test replays this rollout's runs under their file names.
    const handle = await stack.start({ manager: MANAGER, relay: AGENT, agent: AGENT }, undefined, 'rollout-completed');
    const site = stack.site;

    // U1: the DMZ manager. A person runs the installer, then confirms.
    await stack.waitForStep(handle, 'U1-upgrade');
    expectOnlyCurrentConfirmable(await refusalsOutside(handle, 'U1'), 'U1');
    stack.person.upgradeManager('dmz', MANAGER);
    expect(await stack.confirm(handle, 'U1')).toMatch(/U1-upgrade confirmed/);
    const soaking = await stack.waitFor(handle, (v) => v.state === 'u1-soaking');
    expect(soaking.stages[0]!.after).toBe(MANAGER);

    // U2: the DMZ relay, after an approval that only an approver can give.
    await stack.waitForStep(handle, 'U2-approval');
    expectOnlyCurrentConfirmable(await refusalsOutside(handle, 'U2'), 'U2');
    expect(await stack.attempt(handle, (h) => stack.confirm(h, 'U2', 'operator@plant.example'))).toMatch(
      /operator@plant.example is not an approver/,
    );
    await stack.confirm(handle, 'U2', 'approver@plant.example');
    await stack.waitForStep(handle, 'U2-upgrade');
    stack.person.upgradeComputers('dmz', [site.dmz.relay.computerId], AGENT);
    await stack.confirm(handle, 'U2');

    // U3 and U4: the air-gapped manager, then both air-gapped relays.
    await stack.waitForStep(handle, 'U3-upgrade');
    expectOnlyCurrentConfirmable(await refusalsOutside(handle, 'U3'), 'U3');
    stack.person.upgradeManager('airgapped', MANAGER);
    await stack.confirm(handle, 'U3');
    await stack.waitForStep(handle, 'U4-upgrade');
    expectOnlyCurrentConfirmable(await refusalsOutside(handle, 'U4'), 'U4');
    stack.person.upgradeComputers(
      'airgapped',
      site.airgapped.relays.map((r) => r.computerId),
      AGENT,
    );
    await stack.confirm(handle, 'U4');

    // U5: a person upgrades each wave the rollout names, then confirms it.
    const waves: number[][] = [];
    for (;;) {
      const v = await stack.waitFor(handle, (x) => x.agents.waveWaiting !== undefined || x.outcome !== undefined);
      if (!v.agents.waveWaiting) break;
      if (waves.length === 0) expectOnlyCurrentConfirmable(await refusalsOutside(handle, 'U5'), 'U5');
      const ids = v.agents.waveWaiting.agents.map((a) => a.id);
      waves.push(ids);
      stack.person.upgradeComputers('airgapped', ids, AGENT);
      await stack.confirm(handle, 'U5');
      await stack.waitFor(handle, (x) => x.agents.waveWaiting?.wave !== v.agents.waveWaiting!.wave);
    }
    const result = await handle.result();
    expect(result.state).toBe('completed');
    expect(waves).toEqual([stack.agentIds().slice(0, 2), stack.agentIds().slice(2, 4), stack.agentIds().slice(4, 6)]);
    expect(result.agents).toMatchObject({ verified: 6, failed: 0, wavesDone: 3, runs: 2 });
    expect(result.stages.map((s) => [s.id, s.status, s.after])).toEqual([
      ['U1', 'verified', MANAGER],
      ['U2', 'verified', AGENT],
      ['U3', 'verified', MANAGER],
      ['U4', 'verified', `${site.airgapped.relays[0]!.name} ${AGENT}, ${site.airgapped.relays[1]!.name} ${AGENT}`],
      ['U5', 'verified', `6 agent(s) at ${AGENT}`],
    ]);

    // The audit has every stage, confirmation and wave, in the stage order, closed as completed.
    const records = await stack.audit.timeline(handle.workflowId);
    const verified = records.filter((r) => r.type === 'stage.verified').map((r) => r.data!.stage);
    expect(verified).toEqual(['U1', 'U2', 'U3', 'U4', 'U5']);
    const started = records.filter((r) => r.type === 'stage.started').map((r) => r.data!.stage);
    expect(started).toEqual(['U1', 'U2', 'U3', 'U4', 'U5']);
    expect(records.filter((r) => r.type === 'human.stage-confirmed')).toHaveLength(1 + 2 + 1 + 1 + 3);
    expect(records.filter((r) => r.type === 'wave.completed')).toHaveLength(3);
    expect(records.filter((r) => r.type === 'upgrade.continued')).toHaveLength(1);
    expect(records.at(-1)).toMatchObject({ type: 'upgrade.ended', outcome: 'completed' });
    const approval = records.find((r) => r.type === 'human.stage-confirmed' && r.data!.kind === 'approval');
    expect(approval?.actor?.who).toBe('approver@plant.example');
    await recordHistory(handle, 'rollout-completed');
    const firstRun = (await handle.describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined;
    await recordHistory(handle, 'rollout-completed.run-1', firstRun);
    await recordHistory({ workflowId: `${handle.workflowId}/U2-verify-1` }, 'upgrade-verify-relay');
    await recordHistory({ workflowId: `${handle.workflowId}/U5-wave-3` }, 'upgrade-verify-wave');
    await recordHistory({ workflowId: rolloutLockId(site.id, stack.config.temporal.taskQueue) }, 'site-lock-rollout');

    // Each guided step reached its people by mail.
    const mails = await stack.outbox.list({ workflowId: handle.workflowId, purpose: 'manual-step', limit: 100 });
    const recipients = mails.map((m) => m.to.join(','));
    expect(recipients).toContain('approver@plant.example');
    expect(recipients.filter((r) => r === 'operator@plant.example').length).toBeGreaterThanOrEqual(4 + 3);
  });

  it('refuses at once, with the reason, a retry of a stage that has not failed, an unknown stage and an abort without reason', async () => {
    const handle = await stack.start(
      { manager: '20.0.2000', relay: '20.0.2.100', agent: '20.0.2.100' },
      undefined,
      'rollout-aborted-at-u1',
    );
    await stack.waitForStep(handle, 'U1-upgrade');
    const retry = await stack.attempt(handle, (h) =>
      h.executeUpdate(retryStageUpdate, { args: [{ stage: 'U1', by: 'operator@plant.example' }] }),
    );
    expect(retry).toMatch(/U1 .* has not failed \(it is awaiting-upgrade\); only a failed stage can be retried/);
    const unknown = await stack.attempt(handle, (h) =>
      h.executeUpdate(confirmStageUpdate, { args: [{ stage: 'U6', by: 'operator@plant.example' }] }),
    );
    expect(unknown).toMatch(/unknown stage "U6": the stages are U1 .*U5/);
    const noReason = await stack.attempt(handle, (h) =>
      h.executeUpdate(abortRolloutUpdate, { args: [{ by: 'operator@plant.example', reason: ' ' }] }),
    );
    expect(noReason).toBe('an abort needs a reason (--reason)');
    const view: UpgradeView = await stack.view(handle);
    expect(view.state).toBe('u1-awaiting-upgrade');

    await handle.executeUpdate(abortRolloutUpdate, {
      args: [{ by: 'lead@plant.example', reason: 'maintenance window cancelled' }],
    });
    const result = await handle.result();
    expect(result).toMatchObject({ state: 'aborted', reason: expect.stringContaining('maintenance window cancelled') });
    // Every field is true for the final state: U1 no longer "awaiting-upgrade", U2–U5 never begun.
    expect(result.stages.map((s) => s.status)).toEqual([
      'aborted',
      'not-started',
      'not-started',
      'not-started',
      'not-started',
    ]);
    const final = await stack.view(handle);
    expect([final.state, final.waitingFor, final.halted]).toEqual(['aborted', undefined, undefined]);
    expect(final.stages.map((s) => s.status)).toEqual(result.stages.map((s) => s.status));
    const records = await stack.audit.timeline(handle.workflowId);
    expect(records.at(-1)).toMatchObject({ type: 'upgrade.ended', outcome: 'aborted' });
    // The notice says what status says: aborted, not failed.
    const [summary] = await stack.outbox.list({ workflowId: handle.workflowId, purpose: 'result' });
    const notice = await stack.outbox.get(summary!.id);
    expect(notice!.subject).toMatch(/ — rollout aborted$/);
    expect(notice!.subject).not.toMatch(/failed/);
    expect(notice!.text).toMatch(/^The rollout was aborted\./);
    expect(notice!.text).toMatch(/Outcome: +aborted/);
    expect(notice!.text).toContain('maintenance window cancelled');
    expect(records.find((r) => r.type === 'human.abort')?.actor?.who).toBe('lead@plant.example');
    await recordHistory(handle, 'rollout-aborted-at-u1');
  });

  it('refuses each action with a typed code beside the sentence, so callers need not read the sentence', async () => {
    const handle = await stack.start({ manager: '20.0.4000', relay: '20.0.4.100', agent: '20.0.4.100' });
    await stack.waitForStep(handle, 'U1-upgrade');
    const code = (run: Promise<unknown>) =>
      run.then(
        () => 'accepted',
        (err: unknown) => refusalOf(err)?.code,
      );
    const confirm = (stage: string, by = 'operator@plant.example') =>
      code(handle.executeUpdate(confirmStageUpdate, { args: [{ stage, by }] }));
    const retry = (stage: string) =>
      code(handle.executeUpdate(retryStageUpdate, { args: [{ stage, by: 'operator@plant.example' }] }));
    const abort = (by: string, reason: string) =>
      code(handle.executeUpdate(abortRolloutUpdate, { args: [{ by, reason }] }));
    expect([
      await confirm('U6'),
      await confirm('U3'),
      await confirm('U1', ' '),
      await retry('U1'),
      await abort('lead@plant.example', ' '),
    ]).toEqual(['unknown-target', 'wrong-subject', 'bad-identity', 'not-waiting', 'needs-reason']);
    expect(await abort('lead@plant.example', 'test over')).toBe('accepted');
    expect(await abort('lead@plant.example', 'again')).toMatch(/^(already-cancelled|ended)$/);
    expect((await handle.result()).state).toBe('aborted');
  });

  it('is driven from the CLI, which exits 1 with the reason when an action is refused', async () => {
    const saved = { address: process.env.TEMPORAL_ADDRESS, namespace: process.env.TEMPORAL_NAMESPACE };
    process.env.TEMPORAL_ADDRESS = testTemporalAddress();
    process.env.TEMPORAL_NAMESPACE = TEST_NAMESPACE;
    const airgap = (...args: string[]) => runCliInProcess(stack.configFile, ...args);
    try {
      // One --to cannot be the version of managers (20.0.877) and agents (20.0.0.8438) alike.
      const oneTo = await airgap('upgrade', 'start', 'plant', '--to', '20.0.3000');
      expect(oneTo.code).toBe(1);
      expect(oneTo.stderr).toMatch(
        /--to "20\.0\.3000" is not a version the relays report \(agentVersion, four numbers/,
      );
      // Agents newer than their relays: refused with the vendor's rule.
      const newer = await airgap(
        'upgrade',
        'start',
        'plant',
        '--manager-version',
        '20.0.3000',
        '--relay-version',
        '20.0.3.100',
        '--agent-version',
        '20.0.3.200',
      );
      expect(newer.code).toBe(1);
      expect(newer.stderr).toMatch(
        /agents at 20\.0\.3\.200 would be newer than their relays at 20\.0\.3\.100: the vendor's rule is that relays are upgraded first/,
      );
      const targets = ['--manager-version', '20.0.3000', '--to', '20.0.3.100'];
      const started = await airgap('--json', 'upgrade', 'start', 'plant', ...targets, '--by', 'lead@plant.example');
      expect(started.code).toBe(0);
      const { id } = JSON.parse(started.stdout) as { id: string };
      expect(id).toMatch(/^upgrade-plant-20\.0\.3000-20\.0\.3\.100-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ-[0-9a-f]{4}$/);
      const again = await airgap('upgrade', 'start', 'plant', ...targets);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`already has an open rollout: ${id}`);

      const handle = stack.client.workflow.getHandle(id);
      await stack.waitForStep(handle, 'U1-upgrade');
      const status = await airgap('--json', 'upgrade', 'status', id);
      expect(status.code).toBe(0);
      const view = JSON.parse(status.stdout) as UpgradeView;
      expect(view.stages.map((s) => s.status)).toEqual([
        'awaiting-upgrade',
        'pending',
        'pending',
        'pending',
        'pending',
      ]);
      const human = await airgap('upgrade', 'status', id);
      expect(human.stdout).toMatch(/U1 +awaiting-upgrade +target 20\.0\.3000/);
      expect(human.stdout).toMatch(/U5 +pending +target 20\.0\.3\.100/);

      const refused = await airgap('upgrade', 'confirm', id, '--stage', 'U3', '--by', 'operator@plant.example');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/refused: U3 .* cannot be confirmed yet: U1, U2 must be verified first/);

      const aborted = await airgap('upgrade', 'abort', id, '--by', 'lead@plant.example', '--reason', 'test over');
      expect(aborted.code).toBe(0);
      expect(aborted.stdout).toMatch(/accepted: abort requested by lead@plant.example/);
      expect((await handle.result()).state).toBe('aborted');

      // The same start again after the abort: a new run with its own id and its own audit entry.
      let second = await airgap('--json', 'upgrade', 'start', 'plant', ...targets, '--by', 'lead@plant.example');
      for (let i = 0; second.code !== 0 && second.stderr.includes(id) && i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100)); // visibility is a moment behind the run's end
        second = await airgap('--json', 'upgrade', 'start', 'plant', ...targets, '--by', 'lead@plant.example');
      }
      expect(second.code).toBe(0);
      const id2 = (JSON.parse(second.stdout) as { id: string }).id;
      expect(id2).not.toBe(id);
      const handle2 = stack.client.workflow.getHandle(id2);
      await stack.waitForStep(handle2, 'U1-upgrade');
      const [run1, run2] = [await stack.audit.run(id), await stack.audit.run(id2)];
      expect(run1).toMatchObject({ workflowId: id, outcome: 'aborted' });
      expect(run2).toMatchObject({ workflowId: id2 });
      expect(run2!.outcome).toBeUndefined();
      const started2 = (await stack.audit.timeline(id2)).filter((r) => r.type === 'upgrade.started');
      expect(started2).toHaveLength(1);
      expect((await stack.audit.timeline(id)).filter((r) => r.type === 'upgrade.started')).toHaveLength(1);
      const shown = await airgap('audit', 'show', id);
      expect(shown.stdout.split('\n')[0]).toContain('aborted');
      await airgap('upgrade', 'abort', id2, '--by', 'lead@plant.example', '--reason', 'test over');
      expect((await handle2.result()).state).toBe('aborted');

      // Every kind of run gets its own id: two hardening plans of the same site in a row.
      const plans = [
        await airgap('--json', 'harden', 'plant', '--plan'),
        await airgap('--json', 'harden', 'plant', '--plan'),
      ];
      expect(plans.map((p) => p.code)).toEqual([0, 0]);
      const planIds = plans.map((p) => (JSON.parse(p.stdout) as { id: string }).id);
      for (const planId of planIds)
        expect(planId).toMatch(/^harden-plan-plant-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ-[0-9a-f]{4}$/);
      expect(planIds[0]).not.toBe(planIds[1]);
      const planRuns = await Promise.all(planIds.map((planId) => stack.audit.run(planId)));
      expect(planRuns.map((r) => r?.workflowId)).toEqual(planIds);
    } finally {
      for (const [k, v] of [
        ['TEMPORAL_ADDRESS', saved.address],
        ['TEMPORAL_NAMESPACE', saved.namespace],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

/**
 * Issue 14 for rollouts: a stage's approval counts only with a proof the site accepts, as a cycle's
 * does. The CLI's login name (os-user) and a forged Update are refused, naming the accepted proofs;
 * the code in the stage's approval mail confirms it through the real CLI, recorded as cli-code.
 */
import { abortRolloutUpdate, confirmStageUpdate } from '../../src/workflows/upgrade-messages';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';
import { startUpgradeStack, type UpgradeStack } from '../helpers/upgrade-stack';
import { runCliInProcess } from '../helpers/in-process-cli';

const APPROVER = 'approver@plant.example';

describe('a rollout stage approval counts only from a proven identity (issue 14)', () => {
  let stack: UpgradeStack;
  const saved = { address: process.env.TEMPORAL_ADDRESS, namespace: process.env.TEMPORAL_NAMESPACE };
  beforeAll(async () => {
    process.env.TEMPORAL_ADDRESS = testTemporalAddress();
    process.env.TEMPORAL_NAMESPACE = TEST_NAMESPACE;
    stack = await startUpgradeStack({
      approval: { proofs: ['mail-link', 'web-session', 'cli-code'] },
      upgrade: {
        verifyTimeout: '3s',
        pollInterval: '100ms',
        maxPollInterval: '300ms',
        stages: { U1: { approval: true } },
      },
    });
  });
  afterAll(async () => {
    process.env.TEMPORAL_ADDRESS = saved.address;
    process.env.TEMPORAL_NAMESPACE = saved.namespace;
    await stack?.close();
  });

  const airgap = (...args: string[]) => runCliInProcess(stack.configFile, ...args);

  it('refuses os-user and a forged Update, counts the code from the stage approval mail as cli-code; a non-approval confirm is recorded unproven', async () => {
    const handle = await stack.start({ manager: '20.0.1000', relay: '20.0.1.200', agent: '20.0.1.200' });
    await stack.waitForStep(handle, 'U1-approval');

    const cli = await airgap('upgrade', 'confirm', handle.workflowId, '--stage', 'U1', '--by', APPROVER);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(
      /refused: the approval of U1 by approver@plant\.example counts only with a proof this site accepts \(mail-link, web-session, cli-code\); os-user is not one of them/,
    );
    const forged = await stack.attempt(handle, (h) =>
      h.executeUpdate(confirmStageUpdate, { args: [{ stage: 'U1', by: APPROVER }] }),
    );
    expect(forged).toMatch(/counts only with a proof this site accepts .*none was given/);
    expect((await stack.view(handle)).answers.filter((a) => a.action === 'confirm-stage')).toEqual([]);

    const mails = await stack.outbox.list({ workflowId: handle.workflowId, purpose: 'manual-step' });
    const mine = mails.find((m) => m.to.includes(APPROVER));
    expect(mine).toBeDefined();
    const text = (await stack.outbox.get(mine!.id))!.text;
    const mailed = /airgap upgrade confirm \S+ --stage U1 --by approver@plant\.example --code (\S+)/.exec(text);
    expect(mailed).not.toBeNull();
    const confirmed = await airgap(
      'upgrade',
      'confirm',
      handle.workflowId,
      '--stage',
      'U1',
      '--by',
      APPROVER,
      '--code',
      mailed![1]!,
    );
    expect(confirmed.stderr).toBe('');
    expect(confirmed.stdout).toMatch(/accepted: U1-approval confirmed by approver@plant\.example/);
    const answers = (await stack.view(handle)).answers.filter((a) => a.action === 'confirm-stage');
    expect(answers).toEqual([expect.objectContaining({ by: APPROVER, proof: 'cli-code', subject: 'U1-approval' })]);
    const records = await stack.audit.timeline(handle.workflowId);
    const approval = records.find((r) => r.type === 'human.stage-confirmed');
    expect(approval?.actor).toMatchObject({ who: APPROVER, proof: 'cli-code' });

    // The upgrade itself is not an approval: the CLI's login name goes with it, and on a site that
    // allows os-user for no action it is recorded as unproven, not refused.
    await stack.waitForStep(handle, 'U1-upgrade');
    const upgraded = await airgap(
      'upgrade',
      'confirm',
      handle.workflowId,
      '--stage',
      'U1',
      '--by',
      'operator@plant.example',
    );
    expect(upgraded.stdout).toMatch(/accepted: U1-upgrade confirmed by operator@plant\.example/);
    const upgradeAnswer = (await stack.view(handle)).answers.find((a) => a.subject === 'U1-upgrade');
    expect(upgradeAnswer).toMatchObject({ by: 'operator@plant.example', action: 'confirm-stage', proof: 'unproven' });

    await handle.executeUpdate(abortRolloutUpdate, { args: [{ by: 'operator@plant.example', reason: 'test over' }] });
    expect((await handle.result()).state).toBe('aborted');
  }, 90_000);
});

/**
 * Keeping a site hardened: with the unverified values configured every item is automated, and the
 * scheduled drift check tells the operators when a setting has drifted back.
 */
import { driftCheckScheduleIdFor, ensureDriftCheckSchedules } from '../../src/runtime/schedules';
import { SIM_OTHER_UPDATE_SOURCE_MODE, SIM_SMART_SCAN_OFF } from '../../src/sim';
import { approveUpdate, hardenStateQuery, type HardenResult } from '../../src/workflows/harden-messages';
import { firstCycleMail, mailsOf } from '../helpers/cycle-assert';
import { recordHistory } from '../helpers/record-history';
import { startSetupStack, type SetupStack } from '../helpers/setup-stack';

describe('the hardening drift check', () => {
  let stack: SetupStack;
  const scheduleId = driftCheckScheduleIdFor('plant');
  beforeAll(async () => {
    stack = await startSetupStack({
      hardening: {
        otherUpdateSourceMode: SIM_OTHER_UPDATE_SOURCE_MODE,
        smartScanOffValue: SIM_SMART_SCAN_OFF,
        items: { S1: 'automated', H1: 'automated' },
        driftCheck: { cron: '0 3 1 1 *' },
      },
    });
    await stack.client.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
  });
  afterAll(async () => {
    await stack.client.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
    await stack.close();
  });

  it('applies every item without a manual step when the unverified values are configured, and then finds no drift', async () => {
    const apply = await stack.start('hardenWorkflow', 'harden-apply', { mode: 'apply' });
    await stack.waitForView(apply, hardenStateQuery, (v) => v.state === 'awaiting-approval');
    await apply.executeUpdate(approveUpdate, { args: [{ by: 'approver@plant.example' }] });
    const applied = (await apply.result()) as HardenResult;
    expect(applied.state).toBe('completed');
    expect(applied.items.map((i) => i.how)).not.toContain('manual');
    const types = (await stack.audit.timeline(apply.workflowId)).map((r) => r.type);
    expect(types).not.toContain('manual-step.requested');
    expect(stack.agManager().systemSettings.platformSettingUpdateSecurityPrimarySourceMode).toBe(
      SIM_OTHER_UPDATE_SOURCE_MODE,
    );

    const check = await stack.start('hardenWorkflow', 'harden-check', { mode: 'check' });
    const checked = (await check.result()) as HardenResult;
    expect(checked.state).toBe('in-desired-state');
    expect(checked.items.filter((i) => i.status === 'change')).toEqual([]);
    expect(await mailsOf(stack, check.workflowId)).toEqual([]);
    await recordHistory(check, 'harden-check-in-desired-state');
  });

  it('detects a setting that drifted back when its schedule runs, and tells the operators which', async () => {
    await stack.agApi.setPolicyModuleState({ policyId: 1, module: 'webReputation', state: 'on' });
    await stack.agApi.modifyAntiMalwareConfiguration({
      configurationId: 1,
      changes: { behaviorMonitoringEnabled: true },
    });

    const sync = await ensureDriftCheckSchedules(stack.client, stack.config);
    expect(sync.created).toEqual([scheduleId]);
    const schedule = stack.client.schedule.getHandle(scheduleId);
    const described = await schedule.describe();
    expect(described.action).toMatchObject({
      workflowType: 'hardenWorkflow',
      args: [{ site: 'plant', mode: 'check' }],
    });
    expect(described.policies.overlap).toBe('SKIP');

    await schedule.trigger();
    let workflowId: string | undefined;
    for (let i = 0; i < 100 && !workflowId; i++) {
      workflowId = (await schedule.describe()).info.recentActions.at(-1)?.action.workflow.workflowId;
      if (!workflowId) await new Promise((r) => setTimeout(r, 100));
    }
    expect(workflowId).toMatch(/^harden-check-plant/);
    const result = (await stack.client.workflow.getHandle(workflowId!).result()) as HardenResult;
    expect(result.state).toBe('drifted');
    expect(result.items.filter((i) => i.status === 'change').map((i) => i.id)).toEqual(['H2', 'H6']);

    const mail = await firstCycleMail(stack, workflowId!, 'failure');
    expect(mail.to).toEqual(['operator@plant.example']);
    expect(mail.subject).toContain('H2, H6');
    expect(mail.text).toContain('Web Reputation on');
    const audit = await stack.audit.timeline(workflowId!);
    expect(audit.map((r) => r.type)).toContain('harden.drift');
    expect(audit.at(-1)!.outcome).toBe('drifted');
    // A check changes nothing: the drifted settings are still as the person left them.
    expect(stack.agManager().policies['1']!.webReputationState).toBe('on');
  });
});

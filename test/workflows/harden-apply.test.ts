/**
 * The set-up and hardening workflow on a simulated site with the default configuration: S1 and
 * H1 are manual (their API values are unverified), H2–H6 go through the API, H7/H8 through dsm_c
 * on the manager host.
 */
import { HARDENING_ITEM_IDS } from '../../src/domain/hardening';
import { SIM_OTHER_UPDATE_SOURCE_MODE, SIM_SMART_SCAN_OFF } from '../../src/sim';
import type { SimManager } from '../../src/sim/state';
import {
  approveUpdate,
  hardenStateQuery,
  manualStepDoneUpdate,
  type HardenResult,
  type HardenView,
} from '../../src/workflows/harden-messages';
import { firstCycleMail } from '../helpers/cycle-assert';
import { recordHistory } from '../helpers/record-history';
import { startSetupStack, type SetupStack } from '../helpers/setup-stack';

/** What the hardening can change on the simulated air-gapped manager. */
const hardenable = (m: SimManager) => ({
  systemSettings: m.systemSettings,
  configuration: m.configuration,
  policies: m.policies,
  antiMalwareConfigurations: m.antiMalwareConfigurations,
});

describe('hardening an air-gapped site', () => {
  let stack: SetupStack;
  beforeAll(async () => {
    stack = await startSetupStack({ approval: { policy: 'any' } });
  });
  afterAll(() => stack.close());

  const waitFor = (handle: Parameters<SetupStack['waitForView']>[0], test: (v: HardenView) => boolean) =>
    stack.waitForView(handle, hardenStateQuery, test);

  it('plans every item on a fresh site, with current → desired and how, and changes nothing', async () => {
    const before = hardenable(stack.agManager());
    const handle = await stack.start('hardenWorkflow', 'harden-plan', { mode: 'plan' });
    const result = (await handle.result()) as HardenResult;

    expect(result.state).toBe('planned');
    expect(result.items.map((i) => i.id)).toEqual([...HARDENING_ITEM_IDS]);
    const by = Object.fromEntries(result.items.map((i) => [i.id, i]));
    expect(by.S1).toMatchObject({
      how: 'manual',
      status: 'change',
      desired: 'Other update source https://localhost:4122',
    });
    expect(by.S1!.current).toContain('Trend Micro ActiveUpdate Server');
    expect(by.S1!.why).toContain('unverified');
    expect(by.H1).toMatchObject({ how: 'manual', status: 'change' });
    expect(by.H1!.current).toContain('Automatic');
    for (const id of ['H2', 'H3', 'H4', 'H5', 'H6'] as const)
      expect(by[id]).toMatchObject({ how: 'api', status: 'change' });
    for (const id of ['H7', 'H8'] as const) expect(by[id]).toMatchObject({ how: 'dsm_c', status: 'unknown' });
    expect(by.S1!.instructions!.join(' ')).toContain('Administration → System Settings → Updates');

    expect(hardenable(stack.agManager())).toEqual(before);
    const audit = await stack.audit.timeline(handle.workflowId);
    expect(audit.map((r) => r.type)).toEqual(['harden.started', 'harden.assessed', 'harden.ended']);
    expect(audit.at(-1)!.outcome).toBe('planned');
  });

  it('asks for approval stating what is lost, applies the automated items, waits for each manual item until a person confirms it, and verifies all', async () => {
    const handle = await stack.start('hardenWorkflow', 'harden-apply', { mode: 'apply' });
    await waitFor(handle, (v) => v.state === 'awaiting-approval');
    const mail = await firstCycleMail(stack, handle.workflowId, 'approval-request');
    expect(mail.subject).toContain('hardening');
    expect(mail.text).toContain('Ransomware is not detected at all.');
    expect(mail.text).toContain('H6 Behavior monitoring off');
    expect(hardenable(stack.agManager()).policies['1']!.webReputationState).toBe('on');

    await handle.executeUpdate(approveUpdate, { args: [{ by: 'approver@plant.example' }] });
    const atS1 = await waitFor(handle, (v) => v.waitingFor?.what === 'manual:S1');
    expect(atS1.waitingFor!.instructions!.join('\n')).toContain('https://localhost:4122');
    // Every automated item is already done while the person is asked for S1.
    let m = stack.agManager();
    expect(m.policies['1']!.webReputationState).toBe('off');
    expect(m.systemSettings.platformSettingSmartProtectionFeedbackEnabled).toBe('false');
    expect(m.antiMalwareConfigurations['1']).toMatchObject({
      memoryScanEnabled: false,
      machineLearningEnabled: false,
      behaviorMonitoringEnabled: false,
    });
    expect(m.configuration).toEqual({ enableCensusQuery: 'false', enableGridQuery: 'false' });

    // The manual item holds the run: nothing moves until S1 is confirmed, and only S1 is asked for.
    await new Promise((r) => setTimeout(r, 1000));
    const still = await handle.query(hardenStateQuery);
    expect(still.state).toBe('applying');
    expect(still.waitingFor?.what).toBe('manual:S1');
    expect(stack.agManager().systemSettings.platformSettingUpdateSecurityPrimarySourceMode).toBe(
      'Trend Micro ActiveUpdate Server',
    );
    const refused = await handle
      .executeUpdate(manualStepDoneUpdate, { args: [{ step: 'H1', by: 'operator@plant.example' }] })
      .then(
        () => 'accepted',
        (err: Error) => (err.cause as Error | undefined)?.message ?? err.message,
      );
    expect(refused).toContain('not waiting for the manual step "H1"');

    // The person does S1 in the console (here: through the simulated manager), then confirms.
    await stack.agApi.setSystemSettings({
      settings: {
        platformSettingUpdateSecurityPrimarySourceMode: SIM_OTHER_UPDATE_SOURCE_MODE,
        platformSettingUpdateSecurityPrimarySourceUrl: 'https://localhost:4122',
      },
    });
    await handle.executeUpdate(manualStepDoneUpdate, { args: [{ step: 'S1', by: 'operator@plant.example' }] });
    await waitFor(handle, (v) => v.waitingFor?.what === 'manual:H1');
    await stack.agApi.setPolicySetting({
      policyId: 1,
      name: 'antiMalwareSettingSmartScanState',
      value: SIM_SMART_SCAN_OFF,
    });
    await handle.executeUpdate(manualStepDoneUpdate, { args: [{ step: 'H1', by: 'operator@plant.example' }] });

    const result = (await handle.result()) as HardenResult;
    await recordHistory(handle, 'harden-applied');
    expect(result.state).toBe('completed');
    const outcomes = Object.fromEntries(result.items.map((i) => [i.id, i.outcome]));
    expect(outcomes).toEqual({
      S1: 'verified',
      H1: 'verified',
      H2: 'verified',
      H3: 'verified',
      H4: 'verified',
      H5: 'verified',
      H6: 'verified',
      H7: 'confirmed',
      H8: 'confirmed',
    });
    m = stack.agManager();
    expect(m.systemSettings.platformSettingUpdateSecurityPrimarySourceUrl).toBe('https://localhost:4122');
    expect(m.policies['1']!.settings.antiMalwareSettingSmartScanState).toBe(SIM_SMART_SCAN_OFF);

    const types = (await stack.audit.timeline(handle.workflowId)).map((r) => r.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'human.approved',
        'harden.item-applied',
        'human.manual-step-done',
        'harden.item-verified',
      ]),
    );
    expect(types.filter((t) => t === 'harden.item-applied')).toHaveLength(7);
    expect((await stack.audit.timeline(handle.workflowId)).at(-1)!.outcome).toBe('completed');
  });

  it('fails an item that a person confirmed while the manager still reports the old state', async () => {
    await stack.agApi.setSystemSettings({
      settings: { platformSettingUpdateSecurityPrimarySourceMode: 'Trend Micro ActiveUpdate Server' },
    });
    const handle = await stack.start('hardenWorkflow', 'harden-apply', { mode: 'apply' });
    await waitFor(handle, (v) => v.state === 'awaiting-approval');
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'second@plant.example' }] });
    await waitFor(handle, (v) => v.waitingFor?.what === 'manual:S1');
    await handle.executeUpdate(manualStepDoneUpdate, { args: [{ step: 'S1', by: 'operator@plant.example' }] });

    const result = (await handle.result()) as HardenResult;
    expect(result.state).toBe('failed');
    expect(result.reason).toContain('S1');
    const s1 = result.items.find((i) => i.id === 'S1')!;
    expect(s1.outcome).toBe('not-verified');
    expect(s1.detail).toContain('Trend Micro ActiveUpdate Server');
    expect(result.items.find((i) => i.id === 'H2')!.outcome).toBe('already');
  });
});

import { ConfigError, parseConfig } from '../../src/domain/config';
import { hardeningPlanFrom } from '../../src/domain/setup-plans';
import {
  ACTIVE_UPDATE_SOURCE,
  driftedItems,
  HARDENING_ITEM_IDS,
  hardeningApproval,
  itemsToApply,
  lossLines,
  planHardening,
  VENDOR_WARNING,
  verifyItem,
  type HardeningObservation,
  type HardeningSettings,
} from '../../src/domain/hardening';
import { minimalSiteDoc } from '../helpers/minimal-site';

const fresh: HardeningObservation = {
  updateSourceMode: ACTIVE_UPDATE_SOURCE,
  updateSourceUrl: '',
  smartFeedbackEnabled: 'true',
  policy: {
    id: 1,
    name: 'Base Policy',
    webReputationState: 'on',
    smartScanState: 'Automatic',
    realTimeScanConfigurationId: 1,
  },
  realTimeScan: {
    id: 1,
    name: 'Default Real-Time Scan Configuration',
    memoryScanEnabled: true,
    machineLearningEnabled: true,
    behaviorMonitoringEnabled: true,
  },
};

const hardened: HardeningObservation = {
  updateSourceMode: 'Other Update Source',
  updateSourceUrl: 'https://localhost:4122',
  smartFeedbackEnabled: 'false',
  policy: {
    id: 1,
    name: 'Base Policy',
    webReputationState: 'off',
    smartScanState: 'Off',
    realTimeScanConfigurationId: 1,
  },
  realTimeScan: {
    id: 1,
    name: 'Default Real-Time Scan Configuration',
    memoryScanEnabled: false,
    machineLearningEnabled: false,
    behaviorMonitoringEnabled: false,
  },
};

const defaults: HardeningSettings = {
  updateSourcePort: 4122,
  modes: {
    S1: 'manual',
    H1: 'manual',
    H2: 'automated',
    H3: 'automated',
    H4: 'automated',
    H5: 'automated',
    H6: 'automated',
    H7: 'automated',
    H8: 'automated',
  },
  dsmC: { host: 'ag-manager', taskQueue: 'airgap-host-ag-manager' },
};
const ctx = { console: 'https://dsm-ag:4119/', dsmCPath: '/opt/dsm/dsm_c' };
const byId = (items: ReturnType<typeof planHardening>) => Object.fromEntries(items.map((i) => [i.id, i]));

describe('the hardening plan', () => {
  test('lists S1 and H1–H8 in order, each with current, desired, how and what is lost', () => {
    const items = planHardening(defaults, fresh, ctx);
    expect(items.map((i) => i.id)).toEqual([...HARDENING_ITEM_IDS]);
    for (const item of items) {
      expect(item.current).not.toBe('');
      expect(item.desired).not.toBe('');
      expect(item.loses).not.toBe('');
      expect(item.instructions.length).toBeGreaterThan(1);
    }
  });

  test('makes the unverified values (S1 mode, Smart Scan "Off") manual steps by default, and says why', () => {
    const items = byId(planHardening(defaults, fresh, ctx));
    expect(items.S1).toMatchObject({ how: 'manual', status: 'change' });
    expect(items.S1!.change).toBeUndefined();
    expect(items.S1!.why).toContain('unverified');
    expect(items.S1!.instructions.join(' ')).toContain('"Other update source" and enter https://localhost:4122');
    expect(items.H1).toMatchObject({ how: 'manual', status: 'change' });
    expect(items.H1!.instructions.join(' ')).toContain('Anti-Malware → Smart Protection → Smart Scan');
  });

  test('automates the known settings through the API and Census/Grid through dsm_c', () => {
    const items = byId(planHardening(defaults, fresh, ctx));
    expect(items.H2!.change).toEqual({ kind: 'policy-module', policyId: 1, module: 'webReputation', state: 'off' });
    expect(items.H3!.change).toEqual({
      kind: 'system-settings',
      settings: { platformSettingSmartProtectionFeedbackEnabled: 'false' },
    });
    expect(items.H4!.change).toEqual({ kind: 'am-config', configurationId: 1, changes: { memoryScanEnabled: false } });
    expect(items.H5!.change).toEqual({
      kind: 'am-config',
      configurationId: 1,
      changes: { machineLearningEnabled: false },
    });
    expect(items.H6!.change).toEqual({
      kind: 'am-config',
      configurationId: 1,
      changes: { behaviorMonitoringEnabled: false },
    });
    expect(items.H7!.change).toEqual({
      kind: 'dsm_c',
      name: 'settings.configuration.enableCensusQuery',
      value: 'false',
    });
    expect(items.H8!).toMatchObject({ how: 'dsm_c', status: 'unknown' });
  });

  test('uses the configured values to automate S1 and H1', () => {
    const settings = {
      ...defaults,
      otherUpdateSourceMode: 'Other Update Source',
      smartScanOffValue: 'Off',
      updateSourcePort: 4443,
      modes: { ...defaults.modes, S1: 'automated' as const, H1: 'automated' as const },
    };
    const items = byId(planHardening(settings, fresh, ctx));
    expect(items.S1!.change).toEqual({
      kind: 'system-settings',
      settings: {
        platformSettingUpdateSecurityPrimarySourceMode: 'Other Update Source',
        platformSettingUpdateSecurityPrimarySourceUrl: 'https://localhost:4443',
      },
    });
    expect(items.H1!.change).toEqual({
      kind: 'policy-setting',
      policyId: 1,
      name: 'antiMalwareSettingSmartScanState',
      value: 'Off',
    });
  });

  test('falls back to manual steps for Census and Grid when no manager host runs dsm_c', () => {
    const { dsmC: _none, ...noHost } = defaults;
    const items = byId(planHardening(noHost, fresh, { console: ctx.console }));
    expect(items.H7).toMatchObject({ how: 'manual' });
    expect(items.H7!.why).toContain('airgapped.manager.host');
    expect(items.H7!.instructions).toContain(
      'dsm_c -action changesetting -name settings.configuration.enableCensusQuery -value false',
    );
  });

  test('finds nothing to change on a hardened site except what cannot be read', () => {
    const items = planHardening(defaults, hardened, ctx);
    expect(itemsToApply(items).map((i) => i.id)).toEqual(['H7', 'H8']);
    expect(driftedItems(items)).toEqual([]);
    expect(items.every((i) => i.change === undefined || i.how === 'dsm_c')).toBe(true);
  });

  test('reports a setting that was switched back on as drifted', () => {
    const drifted = {
      ...hardened,
      policy: { ...hardened.policy, webReputationState: 'on', smartScanState: 'Automatic' },
      realTimeScan: { ...hardened.realTimeScan!, machineLearningEnabled: true },
    };
    expect(driftedItems(planHardening(defaults, drifted, ctx)).map((i) => i.id)).toEqual(['H1', 'H2', 'H5']);
  });

  test('judges S1 by its URL and by leaving the ActiveUpdate default when the mode value is unknown', () => {
    const wrongPort = { ...hardened, updateSourceUrl: 'https://localhost:4119' };
    expect(byId(planHardening(defaults, wrongPort, ctx)).S1!.status).toBe('change');
    const backToDefault = { ...hardened, updateSourceMode: ACTIVE_UPDATE_SOURCE };
    expect(byId(planHardening(defaults, backToDefault, ctx)).S1!.status).toBe('change');
    expect(byId(planHardening(defaults, hardened, ctx)).S1!.note).toContain('unverified');
  });

  test('cannot judge the real-time scan items when the policy names no real-time configuration', () => {
    const { realTimeScan: _none, ...withoutRt } = fresh;
    const items = byId(planHardening(defaults, withoutRt, ctx));
    expect(items.H4).toMatchObject({ status: 'unknown', how: 'manual' });
    expect(items.H4!.change).toBeUndefined();
  });
});

describe('verifying an applied item', () => {
  test('is verified when the API reads the prescribed state back, confirmed when nothing can read it', () => {
    const after = byId(planHardening(defaults, hardened, ctx));
    expect(verifyItem(after.H2!).outcome).toBe('verified');
    expect(verifyItem(after.H7!)).toEqual({
      outcome: 'confirmed',
      detail: 'dsm_c reported success; no known interface reads the setting back',
    });
    const stillOn = byId(planHardening(defaults, fresh, ctx));
    expect(verifyItem(stillOn.S1!)).toMatchObject({ outcome: 'not-verified' });
    expect(verifyItem(stillOn.S1!).detail).toContain(ACTIVE_UPDATE_SOURCE);
  });
});

describe('what the approver is told', () => {
  test('states the vendor warning plainly, and per item what the site loses', () => {
    expect(VENDOR_WARNING.join(' ')).toMatch(/detection drops sharply/);
    expect(VENDOR_WARNING).toContain('Ransomware is not detected at all.');
    expect(VENDOR_WARNING).toContain('Process memory scan is affected.');
    const lines = lossLines(planHardening(defaults, fresh, ctx));
    expect(lines).toHaveLength(9);
    expect(lines.find((l) => l.startsWith('H6'))).toContain('ransomware');
  });

  test('needs at least one approval even when the site imports without approval, and the operators decide when no approver is listed', () => {
    const people = { operators: ['op@x.example'], escalation: [], approvers: [] };
    const rules = hardeningApproval({
      people,
      approval: { policy: 'none', required: 1, carrierMayApprove: false, approvers: [] },
    });
    expect(rules).toMatchObject({ policy: 'any', required: 1, approvers: ['op@x.example'] });
    const nOfM = hardeningApproval({
      people,
      approval: { policy: 'n-of-m', required: 2, carrierMayApprove: false, approvers: ['a@x.example', 'b@x.example'] },
    });
    expect(nOfM).toMatchObject({ required: 2, approvers: ['a@x.example', 'b@x.example'] });
  });
});

describe('the hardening configuration', () => {
  const site = minimalSiteDoc({ airgappedManager: { host: 'ag-manager', dsmCPath: '/opt/dsm/dsm_c' } });

  test('defaults to port 4122, S1 and H1 manual, the rest automated, and a daily drift check', () => {
    const config = parseConfig({ sites: [site] }, 'plant.yaml');
    const plan = hardeningPlanFrom(config.sites[0]!, 'airgap-control');
    expect(plan.settings.updateSourcePort).toBe(4122);
    expect(plan.settings.modes).toMatchObject({ S1: 'manual', H1: 'manual', H2: 'automated', H7: 'automated' });
    expect(plan.settings.dsmC).toEqual({ host: 'ag-manager', taskQueue: 'airgap-host-ag-manager' });
    expect(config.sites[0]!.hardening.driftCheck).toMatchObject({ enabled: true, cron: '30 5 * * *' });
  });

  test('refuses to automate S1 or H1 without the value the manager uses', () => {
    try {
      parseConfig({ sites: [{ ...site, hardening: { items: { S1: 'automated', H1: 'automated' } } }] }, 'plant.yaml');
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toContain('sites.0.hardening.items.S1: automated needs hardening.otherUpdateSourceMode');
      expect(problems).toContain('sites.0.hardening.items.H1: automated needs hardening.smartScanOffValue');
    }
  });
});

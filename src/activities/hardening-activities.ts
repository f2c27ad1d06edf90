/**
 * Manager API activities of the set-up and hardening (S1, H1–H6): read what the air-gapped manager
 * reports, and make one change that the pure plan (src/domain/hardening.ts) decided. They run where
 * the manager can be reached (control worker, or its zone's worker). dsm_c changes (H7, H8) run on
 * the manager host instead (manager-host-activities.ts).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { HardeningChange, HardeningObservation } from '../domain/hardening';
import { call, type ManagerDeps } from './manager-activities';

export interface ReadHardeningInput {
  site: string;
  /** The policy to read; absent: the policy of `relayComputerId`. */
  policyId?: number;
  relayComputerId: number;
}

export interface ApplyHardeningInput {
  site: string;
  change: Exclude<HardeningChange, { kind: 'dsm_c' }>;
}

export function createHardeningActivities(deps: ManagerDeps) {
  return {
    async readHardeningState(input: ReadHardeningInput): Promise<HardeningObservation> {
      const api = deps.api(input.site, 'airgapped');
      const on = `the air-gapped manager of ${input.site}`;
      let policyId = input.policyId;
      if (policyId === undefined) {
        const relay = await call(`reading computer ${input.relayComputerId} on ${on}`, () =>
          api.getComputer({ computerId: input.relayComputerId }),
        );
        policyId = relay.policyId;
        if (policyId === undefined) {
          throw ApplicationFailure.nonRetryable(
            `computer ${input.relayComputerId} on ${on} has no policy; set hardening.policyId`,
            'PermanentApiError',
          );
        }
      }
      const id = policyId;
      const system = (name: string) => call(`reading ${name} on ${on}`, () => api.getSystemSetting({ name }));
      const mode = await system('platformSettingUpdateSecurityPrimarySourceMode');
      const url = await system('platformSettingUpdateSecurityPrimarySourceUrl');
      const feedback = await system('platformSettingSmartProtectionFeedbackEnabled');
      const policy = await call(`reading policy ${id} on ${on}`, () => api.getPolicy({ policyId: id }));
      const smartScan = await call(`reading Smart Scan of policy ${id} on ${on}`, () =>
        api.getPolicySetting({ policyId: id, name: 'antiMalwareSettingSmartScanState' }),
      );
      const rtId = policy.realTimeScanConfigurationId;
      const rt =
        rtId === undefined
          ? undefined
          : await call(`reading anti-malware configuration ${rtId} on ${on}`, () =>
              api.getAntiMalwareConfiguration({ configurationId: rtId }),
            );
      return {
        updateSourceMode: mode.value,
        updateSourceUrl: url.value,
        smartFeedbackEnabled: feedback.value,
        policy: {
          id: policy.id,
          name: policy.name,
          smartScanState: smartScan.value,
          ...(policy.webReputationState !== undefined ? { webReputationState: policy.webReputationState } : {}),
          ...(rtId !== undefined ? { realTimeScanConfigurationId: rtId } : {}),
        },
        ...(rt ? { realTimeScan: { ...rt } } : {}),
      };
    },

    /** One change; idempotent (it sets a value), so a retry after a lost answer does no harm. */
    async applyHardeningChange(input: ApplyHardeningInput): Promise<{ applied: string }> {
      const api = deps.api(input.site, 'airgapped');
      const c = input.change;
      switch (c.kind) {
        case 'system-settings': {
          const held = await call('changing system settings', () => api.setSystemSettings({ settings: c.settings }));
          return {
            applied: Object.entries(held)
              .map(([k, v]) => `${k} = ${v}`)
              .join(', '),
          };
        }
        case 'policy-setting': {
          const held = await call(`changing ${c.name} of policy ${c.policyId}`, () =>
            api.setPolicySetting({ policyId: c.policyId, name: c.name, value: c.value }),
          );
          return { applied: `${c.name} = ${held.value} on policy ${c.policyId}` };
        }
        case 'policy-module': {
          const policy = await call(`switching ${c.module} ${c.state} on policy ${c.policyId}`, () =>
            api.setPolicyModuleState({ policyId: c.policyId, module: c.module, state: c.state }),
          );
          return { applied: `${c.module} ${policy.webReputationState ?? c.state} on policy ${c.policyId}` };
        }
        case 'am-config': {
          const config = await call(`changing anti-malware configuration ${c.configurationId}`, () =>
            api.modifyAntiMalwareConfiguration({ configurationId: c.configurationId, changes: c.changes }),
          );
          const fields = Object.keys(c.changes) as (keyof typeof c.changes)[];
          return { applied: `${fields.map((f) => `${f} = ${String(config[f])}`).join(', ')} on "${config.name}"` };
        }
      }
    },
  };
}

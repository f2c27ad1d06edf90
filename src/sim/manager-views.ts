/**
 * The JSON the simulated managers return, shaped like the Deep Security API v1 objects the
 * interfaces doc describes (computer with computerStatus/securityUpdates, policy, anti-malware
 * configuration, scheduled task). Fields the project does not use are left out.
 */
import { COMPONENTS, type ComponentSet } from './components';
import type { SimAntiMalwareConfiguration, SimComputer, SimPolicy, SimTask } from './state';

export const EXPANDABLE = ['computerStatus', 'securityUpdates', 'computerSettings'] as const;
export type Expand = (typeof EXPANDABLE)[number];

/** `expand` may repeat or hold a comma list; absent means `all` (the API's heavy default). */
export function parseExpand(query: URLSearchParams): Set<Expand> {
  const values = query.getAll('expand').flatMap((v) => v.split(','));
  if (values.length === 0 || values.includes('all')) return new Set(EXPANDABLE);
  return new Set(EXPANDABLE.filter((e) => values.includes(e)));
}

const PLATFORM = { linux: 'Red Hat Enterprise 8 (64 bit)', windows: 'Microsoft Windows Server 2019 (64 bit)' };

export function renderComputer(c: SimComputer, expand: Set<Expand>, latest: ComponentSet): Record<string, unknown> {
  const out: Record<string, unknown> = {
    hostName: c.hostName,
    displayName: '',
    description: c.role === 'relay' ? 'Simulated relay-enabled agent' : 'Simulated agent',
    platform: PLATFORM[c.os],
    policyID: c.policyId,
    relayListID: c.role === 'agent' ? 1 : 0,
    agentVersion: c.agentVersion,
    ID: c.id,
  };
  if (expand.has('computerStatus')) {
    out.computerStatus = c.online
      ? { agentStatus: 'active', agentStatusMessages: ['Managed (Online)'] }
      : { agentStatus: 'error', agentStatusMessages: ['Offline'] };
  }
  if (expand.has('securityUpdates')) {
    const item = (k: (typeof COMPONENTS)[number]) => ({
      name: k.name,
      version: c.components[k.key],
      latest: c.components[k.key] === latest[k.key],
      platform: PLATFORM[c.os],
      forUseBy: c.role === 'relay' ? 'Relay' : 'Agent',
    });
    out.securityUpdates = {
      lastChanged: c.lastChanged,
      updateStatus: { ...c.updateStatus },
      antiMalware: COMPONENTS.filter((k) => k.group === 'antiMalware').map(item),
      rules: COMPONENTS.filter((k) => k.group === 'rules').map(item),
    };
  }
  if (expand.has('computerSettings')) out.computerSettings = settingsObject(c.settings);
  return out;
}

export function settingsObject(settings: Record<string, string>): Record<string, { value: string }> {
  return Object.fromEntries(Object.entries(settings).map(([k, value]) => [k, { value }]));
}

export function renderPolicy(p: SimPolicy): Record<string, unknown> {
  return {
    name: p.name,
    parentID: 0,
    policySettings: settingsObject(p.settings),
    antiMalware: {
      state: p.antiMalwareState,
      realTimeScanConfigurationID: p.realTimeScanConfigurationId,
      manualScanConfigurationID: p.manualScanConfigurationId,
      scheduledScanConfigurationID: p.manualScanConfigurationId,
    },
    webReputation: { state: p.webReputationState },
    ID: p.id,
  };
}

export function renderAntiMalwareConfiguration(a: SimAntiMalwareConfiguration): Record<string, unknown> {
  return {
    name: a.name,
    description: '',
    scanType: a.scanType,
    memoryScanEnabled: a.memoryScanEnabled,
    machineLearningEnabled: a.machineLearningEnabled,
    behaviorMonitoringEnabled: a.behaviorMonitoringEnabled,
    ID: a.id,
  };
}

export function renderTask(t: SimTask): Record<string, unknown> {
  return {
    name: t.name,
    type: 'check-for-security-updates',
    scheduleDetails: {
      timeZone: 'UTC',
      recurrenceType: 'none',
      recurrenceCount: 1,
      onceOnlyScheduleParameters: { startTime: t.startTime },
    },
    enabled: true,
    checkForSecurityUpdatesTaskParameters: {
      computerFilter: { type: 'computer', computerID: t.computerId },
      timeout: t.timeout,
    },
    nextRunTime: t.startTime,
    ID: t.id,
  };
}

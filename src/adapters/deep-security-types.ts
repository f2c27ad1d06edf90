/**
 * Results of the Deep Security manager adapter: the parts of the API objects the project uses,
 * in the project's names (ids as `id`, camelCase). Vendor-defined strings whose values are not all
 * documented (agent status, update status) stay plain strings.
 */

/** Run-once task timeouts the API accepts (known). */
export const SECURITY_UPDATE_TIMEOUTS = ['never', 'one-hour', 'two-hours', 'four-hours', 'eight-hours'] as const;
export type SecurityUpdateTimeout = (typeof SECURITY_UPDATE_TIMEOUTS)[number];

export type ModuleState = 'inherited' | 'on' | 'off';

export interface ManagerVersion {
  /** The part of X-DSM-Version after the last "/", e.g. 20.0.877. */
  version: string;
  /** The header as sent. */
  header: string;
}

/** One security component a computer reports (pattern, engine, rule update…). */
export interface SecurityComponent {
  /** The securityUpdates list it came from: antiMalware, rules, other… */
  group: string;
  name: string;
  version: string;
  latest?: boolean;
  platform?: string;
  forUseBy?: string;
}

export interface SecurityUpdatesState {
  /** securityUpdates.updateStatus.status; its values are not documented. */
  status?: string;
  statusMessage?: string;
  /** ms since the epoch. */
  lastChanged?: number;
  components: SecurityComponent[];
}

export interface ComputerSummary {
  id: number;
  hostName: string;
  displayName?: string;
  /** "0.0.0.0" when no agent is installed. */
  agentVersion: string;
  policyId?: number;
  relayListId?: number;
  /** computerStatus.agentStatus: inactive|active|warning|error|not-supported. */
  agentStatus?: string;
  agentStatusMessages: string[];
  securityUpdates?: SecurityUpdatesState;
}

export interface ComputerState extends ComputerSummary {
  /** Computer setting platformSettingRelayState. */
  isRelay: boolean;
}

export interface ComputerPage {
  computers: ComputerSummary[];
  /** Pass as `afterId` for the next page; absent on the last page. */
  nextAfterId?: number;
}

export interface TriggeredSecurityUpdate {
  taskId: number;
  computerId: number;
  timeout: SecurityUpdateTimeout;
}

export interface Setting {
  name: string;
  value: string;
}

export interface PolicyState {
  id: number;
  name: string;
  antiMalwareState?: string;
  webReputationState?: string;
  /** policy.antiMalware.realTimeScanConfigurationID: where H4–H6 are switched off. */
  realTimeScanConfigurationId?: number;
}

export interface AntiMalwareConfiguration {
  id: number;
  name: string;
  scanType?: string;
  /** H4 */
  memoryScanEnabled?: boolean;
  /** H5 */
  machineLearningEnabled?: boolean;
  /** H6 */
  behaviorMonitoringEnabled?: boolean;
}

export type AntiMalwareChanges = Partial<
  Pick<AntiMalwareConfiguration, 'memoryScanEnabled' | 'machineLearningEnabled' | 'behaviorMonitoringEnabled'>
>;

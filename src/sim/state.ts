/**
 * Everything the simulator remembers, as one JSON document under <dataDir>/sim/state.json. It is
 * written whole and atomically (temp file + rename) after every change, so a restart keeps
 * versions, settings, bundles and pending work, and a crash never leaves half a file.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AppConfig, HostOs, RelayConfig } from '../domain/config';
import { initialInternetComponents, olderComponents, type ComponentSet } from './components';
import type { ActiveFault, ManagerRef } from './faults';

export type Side = ManagerRef['side'];

/** Simulator's own status vocabulary for securityUpdates.updateStatus.status (the real values are unverified). */
export type UpdateStatus = 'up-to-date' | 'out-of-date' | 'in-progress' | 'failed';

export interface SimComputer {
  id: number;
  hostName: string;
  role: 'relay' | 'agent';
  /** Agents: the relay they take updates from. */
  relayId?: number;
  /** Relays: the real folder standing in for the install dir. */
  installDir?: string;
  os: HostOs;
  policyId: number;
  agentVersion: string;
  online: boolean;
  settings: Record<string, string>;
  components: ComponentSet;
  updateStatus: { status: UpdateStatus; statusMessage: string };
  lastChanged: number;
  /** Relays: every bundle import that changed versions, so tests can prove "imported exactly once". */
  importLog?: { fileName: string; at: number }[];
}

export interface SimPolicy {
  id: number;
  name: string;
  antiMalwareState: ModuleState;
  webReputationState: ModuleState;
  realTimeScanConfigurationId: number;
  manualScanConfigurationId: number;
  settings: Record<string, string>;
}

export type ModuleState = 'inherited' | 'on' | 'off';

export interface SimAntiMalwareConfiguration {
  id: number;
  name: string;
  scanType: 'real-time' | 'on-demand';
  memoryScanEnabled: boolean;
  machineLearningEnabled: boolean;
  behaviorMonitoringEnabled: boolean;
}

export interface SimTask {
  id: number;
  name: string;
  computerId: number;
  timeout: string;
  startTime: number;
}

export interface SimManager {
  siteId: string;
  side: Side;
  version: string;
  systemSettings: Record<string, string>;
  /** What dsm_c -action changesetting changes (settings.configuration.<key>). */
  configuration: Record<string, string>;
  policies: Record<string, SimPolicy>;
  antiMalwareConfigurations: Record<string, SimAntiMalwareConfiguration>;
  computers: Record<string, SimComputer>;
  tasks: Record<string, SimTask>;
  nextTaskId: number;
  /** Rule updates imported through the console (R3), oldest first. */
  ruleImports?: { version: string; fileName: string; at: number }[];
}

/** A zip the simulated dsa_control produced; the relay trusts only these (name and digest). */
export interface BundleRecord {
  fileName: string;
  path: string;
  sha256: string;
  size: number;
  components: ComponentSet;
  createdAt: number;
  siteId: string;
  builtBy: string;
  /** Damaged on purpose by the corrupt-bundle fault. */
  corrupt: boolean;
}

/** A .dsru rule update the simulated DMZ manager exported (R1); the air-gapped manager trusts only these. */
export interface RuleFileRecord {
  fileName: string;
  path: string;
  version: string;
  sha256: string;
  size: number;
  siteId: string;
  exportedAt: number;
}

export type PendingJob =
  /** A relay looks for a bundle in its install dir and imports it. */
  | { kind: 'relay-import'; manager: string; computerId: number }
  /** A computer takes `components` (from its relay or the update server). */
  | { kind: 'apply-components'; manager: string; computerId: number; components: ComponentSet }
  /** A run-once scheduled task whose start time is in the future. */
  | { kind: 'run-task'; manager: string; taskId: number };

export interface SimState {
  format: 'airgap-sim-state/1';
  /** What the vendor's update server offers ("the internet"). */
  internet: { components: ComponentSet; publishedAt: number };
  managers: Record<string, SimManager>;
  bundles: BundleRecord[];
  /** .dsru files exported by the DMZ managers (absent in states saved before rule transfers existed). */
  ruleFiles?: RuleFileRecord[];
  pending: { id: string; dueAt: number; job: PendingJob }[];
  faults: ActiveFault[];
}

/** Thrown when the saved state cannot be read; names the file and deletes nothing. */
export class SimStateError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}. Nothing was deleted; move the file aside to start the simulator afresh.`);
    this.name = 'SimStateError';
  }
}

export function managerKey(ref: ManagerRef): string {
  return `${ref.siteId}/${ref.side}`;
}

const DEFAULT_MANAGER_VERSION = '20.0.877';
const DEFAULT_AGENT_VERSION = '20.0.0.8438';
const BASE_POLICY = 1;
const REAL_TIME_CONFIG = 1;
const MANUAL_CONFIG = 2;

export function loadState(file: string): SimState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SimStateError(file, (err as Error).message);
  }
  let state: SimState;
  try {
    state = JSON.parse(text) as SimState;
  } catch {
    throw new SimStateError(file, 'not valid JSON');
  }
  if (state.format !== 'airgap-sim-state/1') throw new SimStateError(file, `unknown format ${String(state.format)}`);
  return state;
}

export function saveState(file: string, state: SimState): void {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 1), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function emptyState(now: number): SimState {
  return {
    format: 'airgap-sim-state/1',
    internet: { components: initialInternetComponents(now), publishedAt: now },
    managers: {},
    bundles: [],
    pending: [],
    faults: [],
  };
}

/**
 * Adds what the configuration has and the state lacks (a new site, relay or agents) and updates
 * install dirs; keeps everything else, so editing the config never resets the simulated world.
 */
export function reconcile(state: SimState, config: AppConfig, agentsPerRelay: number, now: number): void {
  const internet = state.internet.components;
  for (const site of config.sites) {
    const dmz = ensureManager(state, { siteId: site.id, side: 'dmz' });
    upsertRelay(dmz, site.dmz.relay, internet, now);
    const airgapped = ensureManager(state, { siteId: site.id, side: 'airgapped' });
    const behind = olderComponents(internet, 2);
    for (const relay of site.airgapped.relays) {
      upsertRelay(airgapped, relay, behind, now);
      const mine = Object.values(airgapped.computers).filter((c) => c.relayId === relay.computerId);
      for (let n = mine.length + 1; n <= agentsPerRelay; n++) {
        const id = nextComputerId(airgapped, config, site.id);
        airgapped.computers[id] = {
          id,
          hostName: `${relay.name}-agent-${n}`,
          role: 'agent',
          relayId: relay.computerId,
          os: 'linux',
          policyId: BASE_POLICY,
          agentVersion: DEFAULT_AGENT_VERSION,
          online: true,
          settings: { platformSettingRelayState: 'false' },
          components: { ...behind },
          updateStatus: { status: 'up-to-date', statusMessage: 'Security Update: Up-to-date' },
          lastChanged: now,
        };
      }
    }
  }
}

function ensureManager(state: SimState, ref: ManagerRef): SimManager {
  const key = managerKey(ref);
  state.managers[key] ??= {
    ...ref,
    version: DEFAULT_MANAGER_VERSION,
    systemSettings: {
      platformSettingUpdateSecurityPrimarySourceMode: 'Trend Micro ActiveUpdate Server',
      platformSettingUpdateSecurityPrimarySourceUrl: '',
      platformSettingSmartProtectionFeedbackEnabled: 'true',
    },
    configuration: { enableCensusQuery: 'true', enableGridQuery: 'true' },
    policies: {
      [BASE_POLICY]: {
        id: BASE_POLICY,
        name: 'Base Policy',
        antiMalwareState: 'on',
        webReputationState: 'on',
        realTimeScanConfigurationId: REAL_TIME_CONFIG,
        manualScanConfigurationId: MANUAL_CONFIG,
        settings: { antiMalwareSettingSmartScanState: 'Automatic' },
      },
    },
    antiMalwareConfigurations: {
      [REAL_TIME_CONFIG]: amConfig(REAL_TIME_CONFIG, 'Default Real-Time Scan Configuration', 'real-time'),
      [MANUAL_CONFIG]: amConfig(MANUAL_CONFIG, 'Default Manual Scan Configuration', 'on-demand'),
    },
    computers: {},
    tasks: {},
    nextTaskId: 1,
  };
  return state.managers[key];
}

function amConfig(id: number, name: string, scanType: SimAntiMalwareConfiguration['scanType']) {
  return { id, name, scanType, memoryScanEnabled: true, machineLearningEnabled: true, behaviorMonitoringEnabled: true };
}

function upsertRelay(manager: SimManager, relay: RelayConfig, components: ComponentSet, now: number): void {
  const existing = manager.computers[relay.computerId];
  if (existing) {
    existing.installDir = relay.installDir;
    existing.os = relay.os;
    existing.hostName = relay.name;
    return;
  }
  manager.computers[relay.computerId] = {
    id: relay.computerId,
    hostName: relay.name,
    role: 'relay',
    installDir: relay.installDir,
    os: relay.os,
    policyId: BASE_POLICY,
    agentVersion: DEFAULT_AGENT_VERSION,
    online: true,
    settings: { platformSettingRelayState: 'true' },
    components: { ...components },
    updateStatus: { status: 'up-to-date', statusMessage: 'Security Update: Up-to-date' },
    lastChanged: now,
  };
}

/** Simulated agents never take an id that a relay of this site uses, now or in the config. */
function nextComputerId(manager: SimManager, config: AppConfig, siteId: string): number {
  const site = config.sites.find((s) => s.id === siteId)!;
  const taken = [...Object.keys(manager.computers).map(Number), ...site.airgapped.relays.map((r) => r.computerId)];
  return Math.max(100, ...taken) + 1;
}

export function simDir(dataDir: string): string {
  return path.join(dataDir, 'sim');
}

/**
 * What a running cycle needs to know about its site, taken from the configuration once when the
 * cycle starts. Frozen into the workflow's history, so a config change never alters a cycle that
 * is already waiting for a person, and the audit shows what the cycle was told.
 */
import type { ApprovalRules } from './cycle';
import {
  hostTaskQueue,
  installDirOf,
  zoneTaskQueue,
  type HostOs,
  type SiteConfig,
  type StepMode,
  type UpgradeSettings,
} from './config';
import type { WaitPolicy } from './human-wait';

export interface PlannedHost {
  name: string;
  os: HostOs;
  installDir: string;
  computerId: number;
  /** The queue that host's worker polls. */
  taskQueue: string;
}

export interface SitePlan {
  site: string;
  name: string;
  dmzRelay: PlannedHost;
  relays: PlannedHost[];
  people: { operators: string[]; escalation: string[]; approvers: string[] };
  waits: WaitPolicy & { importTimeout: number; pollInterval: number };
  approval: ApprovalRules;
  steps: { bundle: StepMode; import: StepMode; relayCleanup: StepMode };
  retention: { dmzBundle: 'delete' | 'archive'; archiveDir?: string };
  /** Where each manager's API activities run (control queue, or a zone's worker). */
  queues: { dmzManager: string; airgappedManager: string };
  /** The deployment's control queue: scopes the per-site lock (see workflows/site-lock.ts). */
  controlQueue: string;
  /** How the site's upgrade rollouts (U1–U5) run; absent in plans recorded before rollouts existed. */
  upgrade?: UpgradeSettings;
}

function planHost(host: SiteConfig['dmz']['relay']): PlannedHost {
  return {
    name: host.name,
    os: host.os,
    installDir: installDirOf(host),
    computerId: host.computerId,
    taskQueue: hostTaskQueue(host.name),
  };
}

/** `controlQueue` serves the managers that have no zone of their own. */
export function sitePlanFrom(site: SiteConfig, controlQueue: string): SitePlan {
  const queueOf = (m: SiteConfig['dmz']['manager']) => (m.zone ? zoneTaskQueue(m.zone) : controlQueue);
  return {
    site: site.id,
    name: site.name ?? site.id,
    dmzRelay: planHost(site.dmz.relay),
    relays: site.airgapped.relays.map(planHost),
    people: { ...site.people },
    waits: { ...site.waits },
    approval: { ...site.approval, approvers: [...site.people.approvers] },
    steps: { ...site.steps },
    retention: { dmzBundle: site.retention.dmzBundle, archiveDir: site.retention.archiveDir },
    queues: { dmzManager: queueOf(site.dmz.manager), airgappedManager: queueOf(site.airgapped.manager) },
    upgrade: structuredClone(site.upgrade),
    controlQueue,
  };
}

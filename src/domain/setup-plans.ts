/**
 * What a rule transfer and a hardening run take from the configuration when they start (the
 * control worker's activities call these). Kept apart from rules.ts and hardening.ts so that the
 * workflows, which import those, do not pull the configuration schema into their sandbox.
 */
import { hostTaskQueue, rulesHostOf, zoneTaskQueue, type SiteConfig } from './config';
import type { HardeningPlan } from './hardening';
import { consoleUrlOf, type RulesPlan } from './rules';

export function rulesPlanFrom(site: SiteConfig, controlQueue: string): RulesPlan {
  const queueOf = (m: SiteConfig['dmz']['manager']) => (m.zone ? zoneTaskQueue(m.zone) : controlQueue);
  const host = rulesHostOf(site);
  const folder = site.rules.importFolder;
  return {
    site: site.id,
    name: site.name ?? site.id,
    people: { ...site.people },
    waits: { ...site.waits },
    approval: { ...site.approval, approvers: [...site.people.approvers] },
    queues: { dmzManager: queueOf(site.dmz.manager), airgappedManager: queueOf(site.airgapped.manager) },
    dmzComputerIds: [site.dmz.relay.computerId],
    airgappedComputerIds: site.airgapped.relays.map((r) => r.computerId),
    consoles: { dmz: consoleUrlOf(site.dmz.manager.url), airgapped: consoleUrlOf(site.airgapped.manager.url) },
    ...(host && folder ? { importFolder: { host, os: site.rules.os, folder, taskQueue: hostTaskQueue(host) } } : {}),
  };
}

export function hardeningPlanFrom(site: SiteConfig, controlQueue: string): HardeningPlan {
  const manager = site.airgapped.manager;
  const h = site.hardening;
  const dsmC =
    manager.host && manager.dsmCPath ? { host: manager.host, taskQueue: hostTaskQueue(manager.host) } : undefined;
  return {
    site: site.id,
    name: site.name ?? site.id,
    people: { ...site.people },
    waits: {
      reminderEvery: site.waits.reminderEvery,
      escalateAfter: site.waits.escalateAfter,
      deadline: site.waits.deadline,
    },
    approval: { ...site.approval, approvers: [...site.people.approvers] },
    managerQueue: manager.zone ? zoneTaskQueue(manager.zone) : controlQueue,
    relayComputerId: site.airgapped.relays[0]!.computerId,
    console: consoleUrlOf(manager.url),
    ...(manager.dsmCPath ? { dsmCPath: manager.dsmCPath } : {}),
    settings: {
      updateSourcePort: h.updateSourcePort,
      ...(h.otherUpdateSourceMode ? { otherUpdateSourceMode: h.otherUpdateSourceMode } : {}),
      ...(h.smartScanOffValue ? { smartScanOffValue: h.smartScanOffValue } : {}),
      ...(h.policyId ? { policyId: h.policyId } : {}),
      modes: { ...h.items },
      ...(dsmC ? { dsmC } : {}),
    },
  };
}

/**
 * Which side of an isolated site this installation is, and what follows from it: the workflow a
 * schedule starts, the hosts and zones this side's workers may reach, the id of an intake run.
 * Pure, no Node built-ins: workflow code may import it.
 */
import type { SiteConfig } from './config';
import { cycleFileStem } from './transfer-refusal';

export const CONNECTED_CYCLE_WORKFLOW = 'cycleWorkflow';
export const ISOLATED_DMZ_CYCLE_WORKFLOW = 'isolatedDmzCycleWorkflow';
export const ISOLATED_INTAKE_WORKFLOW = 'isolatedIntakeWorkflow';

export type SiteSide = 'connected' | 'dmz' | 'airgapped';

export function sideOf(site: Pick<SiteConfig, 'mode' | 'isolated'>): SiteSide {
  return site.mode === 'isolated' && site.isolated ? site.isolated.side : 'connected';
}

/**
 * The workflow type a site's cycle runs as on this installation; undefined on the air-gapped side
 * of an isolated site, where cycles start from the intake of a transfer package, not a schedule.
 */
export function cycleWorkflowTypeOf(site: Pick<SiteConfig, 'mode' | 'isolated'>): string | undefined {
  switch (sideOf(site)) {
    case 'connected':
      return CONNECTED_CYCLE_WORKFLOW;
    case 'dmz':
      return ISOLATED_DMZ_CYCLE_WORKFLOW;
    case 'airgapped':
      return undefined;
  }
}

/**
 * The id of the intake run of a package folder (`airgap-package-<stem>`): derived from the cycle,
 * so the same package taken in twice while the first intake runs cannot start a second import.
 */
export function intakeWorkflowIdOf(packageFolderName: string): string {
  const stem = packageFolderName.replace(/^airgap-package-/, '');
  return `intake-${cycleFileStem(stem)}`;
}

/**
 * The hosts and manager zones a site's workers on this installation serve: an isolated side
 * reaches only its own side (the other side's hosts have no network path to it).
 */
export function siteReach(site: SiteConfig): { hosts: string[]; zones: (string | undefined)[] } {
  const dmz = { hosts: [site.dmz.relay.name], zones: [site.dmz.manager.zone] };
  const airgapped = {
    hosts: [...site.airgapped.relays.map((r) => r.name), site.airgapped.manager.host, site.rules.host].filter(
      (h): h is string => !!h,
    ),
    zones: [site.airgapped.manager.zone],
  };
  switch (sideOf(site)) {
    case 'dmz':
      return dmz;
    case 'airgapped':
      return airgapped;
    case 'connected':
      return { hosts: [...dmz.hosts, ...airgapped.hosts], zones: [...dmz.zones, ...airgapped.zones] };
  }
}

/**
 * `airgap sim carry` and `airgap sim carry-back` for an isolated site: where the simulated medium
 * is mounted on each side. The DMZ installation's configuration names its outbound folder; the
 * air-gapped installation's intake folder is in the air-gapped configuration, which the demo names
 * under `simulator.airgappedConfig` (or the operator gives the folder with --to / --from).
 */
import fs from 'node:fs';
import type { AppConfig, SiteConfig } from '../domain/config';
import { packageFolderOf, receiptFolderOf } from '../adapters/transfer-medium';
import { loadConfig } from '../runtime/load-config';
import { CliError } from './context';

/** The two mount points of one isolated site's medium. */
export interface MediumEnds {
  site: string;
  /** The DMZ installation's outbound folder. */
  outbound: string;
  /** The air-gapped installation's intake folder. */
  intake: string;
}

const isolatedDmzSites = (config: AppConfig): SiteConfig[] =>
  config.sites.filter((s) => s.mode === 'isolated' && s.isolated?.side === 'dmz' && s.isolated.outboundFolder);

/**
 * The isolated DMZ-side site a cycle id belongs to: by the id's site part ("cycle-<site>-…",
 * scheduled "airgap-cycle-<site>-…"), else by which outbound folder holds its package or receipt.
 * Undefined when the cycle is not an isolated site's (a connected cycle).
 */
export function isolatedSiteOfCycle(config: AppConfig, cycleId: string): SiteConfig | undefined {
  const sites = isolatedDmzSites(config);
  // The longest site id that prefixes the cycle id: "demo-iso" over "demo" for "cycle-demo-iso-…".
  const byId = config.sites
    .filter((s) => cycleId.startsWith(`cycle-${s.id}-`) || cycleId.startsWith(`airgap-cycle-${s.id}-`))
    .sort((a, b) => b.id.length - a.id.length)[0];
  if (byId) return sites.includes(byId) ? byId : undefined;
  return sites.find((s) =>
    [packageFolderOf, receiptFolderOf].some((f) => fs.existsSync(f(s.isolated!.outboundFolder!, cycleId))),
  );
}

/** The intake folder of `site` in the air-gapped configuration `file`. */
function intakeFromPeerConfig(file: string, siteId: string): string {
  const peer = loadConfig(file).config;
  const site = peer.sites.find((s) => s.id === siteId);
  if (!site || site.isolated?.side !== 'airgapped' || !site.isolated.intakeFolder) {
    throw new CliError(
      `simulator.airgappedConfig ${file} has no air-gapped side of site ${siteId} with an isolated.intakeFolder`,
    );
  }
  return site.isolated.intakeFolder;
}

/** Both ends of the medium of `site`; `intakeFlag` (--to / --from) wins over simulator.airgappedConfig. */
export function mediumEndsOf(config: AppConfig, site: SiteConfig, intakeFlag: string | undefined): MediumEnds {
  const outbound = site.isolated!.outboundFolder!;
  if (intakeFlag) return { site: site.id, outbound, intake: intakeFlag };
  const peer = config.simulator.airgappedConfig;
  if (!peer) {
    throw new CliError(
      `site ${site.id} is isolated: say where the air-gapped installation's intake folder is ` +
        '(--to / --from <folder>, or simulator.airgappedConfig in this configuration)',
    );
  }
  return { site: site.id, outbound, intake: intakeFromPeerConfig(peer, site.id) };
}

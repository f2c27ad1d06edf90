/**
 * The worker roles a configuration describes. Apart from src/worker.ts (which loads the worker
 * SDK) so that `airgap start` can check the configuration's files before it loads the SDK.
 */
import type { AppConfig } from './config';
import { siteReach } from './isolated';

export interface WorkerRoles {
  control: boolean;
  hosts: string[];
  zones: string[];
}

/**
 * Every role the configuration describes: what the embedded default runs. An isolated site's
 * installation serves only its own side's hosts and zones.
 */
export function allRoles(config: AppConfig): WorkerRoles {
  const reach = config.sites.map(siteReach);
  const hosts = reach.flatMap((r) => r.hosts);
  const zones = reach.flatMap((r) => r.zones).filter((z): z is string => !!z);
  return { control: true, hosts: [...new Set(hosts)], zones: [...new Set(zones)] };
}

/**
 * The worker roles a configuration describes. Apart from src/worker.ts (which loads the worker
 * SDK) so that `airgap start` can check the configuration's files before it loads the SDK.
 */
import { managerHostNames, type AppConfig } from './config';

export interface WorkerRoles {
  control: boolean;
  hosts: string[];
  zones: string[];
}

/** Every role the configuration describes: what the embedded default runs. */
export function allRoles(config: AppConfig): WorkerRoles {
  const hosts = [
    ...config.sites.flatMap((s) => [s.dmz.relay.name, ...s.airgapped.relays.map((r) => r.name)]),
    ...managerHostNames(config),
  ];
  const zones = config.sites
    .flatMap((s) => [s.dmz.manager.zone, s.airgapped.manager.zone])
    .filter((z): z is string => !!z);
  return { control: true, hosts: [...new Set(hosts)], zones: [...new Set(zones)] };
}

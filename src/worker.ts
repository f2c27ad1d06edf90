/**
 * Composition root of the workers. One process can play any set of roles:
 *  - control: the workflows, the site plan, mail and audit, and the API of managers without a zone;
 *  - host <name>: the commands and files of one relay host (its own task queue), or of the
 *    air-gapped manager's host (dsm_c, the .dsru import folder);
 *  - zone <zone>: the API of the managers configured in that zone, from inside it.
 * The embedded default plays every role in one process; a real deployment runs a host worker on
 * each relay and zone workers where only they can reach a manager.
 */
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import type { AuditStore } from './adapters/audit-store';
import { openAuditStore } from './adapters/audit-store-open';
import { createDeepSecurityApi, type DeepSecurityApi } from './adapters/deep-security-api';
import { createHostOps } from './adapters/host-ops';
import { createMailer, type Mailer } from './adapters/mailer';
import { createAuditMaintenanceActivities } from './activities/audit-activities';
import { createControlActivities } from './activities/control-activities';
import { createHostActivities } from './activities/host-activities';
import { createHardeningActivities } from './activities/hardening-activities';
import { createIsolatedActivities } from './activities/isolated-activities';
import { createManagerActivities } from './activities/manager-activities';
import { createManagerHostActivities } from './activities/manager-host-activities';
import { createRulesActivities } from './activities/rules-activities';
import { createSetupActivities } from './activities/setup-activities';
import { createUpgradeActivities } from './activities/upgrade-activities';
import type { ManagerSide } from './activities/types';
import {
  hostTaskQueue,
  installDirOf,
  managerHostNames,
  publicUrlOf,
  rulesHostOf,
  zoneTaskQueue,
  type AppConfig,
} from './domain/config';
import type { WorkerRoles } from './domain/worker-roles';
import { declareActivityOnlyQueue } from './runtime/logging';
import {
  isolatedKeySecrets,
  managerKeyOf,
  managersOf,
  requiredLinkKeys,
  resolveSecrets,
  type Secrets,
  type SecretsWanted,
} from './runtime/secrets';
import { cachedWorkflowBundle } from './runtime/workflow-bundle';

/** Where, under the data folder, the control worker keeps its workflow bundle. */
export const WORKFLOW_BUNDLE_FOLDER = 'workflow-bundle';

/**
 * A host or zone queue: its worker runs activities only, by design, so the SDK's "No workflows
 * registered" warning for it says nothing to an operator (runtime/logging.ts drops it).
 */
function activityOnly(taskQueue: string): string {
  declareActivityOnlyQueue(taskQueue);
  return taskQueue;
}

export { allRoles, type WorkerRoles } from './domain/worker-roles';

/** The SDK's default activity slots: what the control worker keeps for its work besides the waits. */
const ACTIVITY_SLOTS_FOR_WORK = 100;
/**
 * Waits a site can be expected to hold at once: its cycle (or isolated DMZ cycle; one at a time
 * under the site lock), a rules transfer and an upgrade rollout, each waiting for people one wait
 * at a time; one spare. More at once (two rollouts of one site both waiting) narrows the room left
 * for the work, it does not stop it until the waits reach the work's 100 as well.
 */
const WAITS_PER_SITE = 4;

/**
 * The control worker's activity slots. A wait for people (a copy, an approval, a manual upgrade
 * step) holds one for as long as it waits, days: its reminders are one `remindPeople` activity
 * (workflows/run-kit.ts). With the SDK's default of 100, a hundred waiting runs held every slot and
 * no other control activity started: bench/cycle-scale.ts with 500 cycles saw the 101st and later
 * cycles wait 15 minutes for their first activity, their site plan, until the bench gave up. So
 * the slots are 100 for the work plus room for every wait the configuration's sites can hold at
 * once. A waiting `remindPeople` is a sleeping promise that heartbeats, not work in progress.
 */
export function controlActivitySlots(config: AppConfig): number {
  return ACTIVITY_SLOTS_FOR_WORK + WAITS_PER_SITE * config.sites.length;
}

/**
 * The secrets a set of roles uses: the control role signs links, sends mail and calls the managers
 * without a zone and opens the audit (unless the caller opened it); a zone role calls its zone's
 * managers; a host role needs none.
 */
export function secretsWantedBy(
  config: AppConfig,
  roles: WorkerRoles,
  options: { mail?: boolean; audit?: boolean } = {},
): SecretsWanted {
  const served = (zone: string | undefined): boolean =>
    zone === undefined ? roles.control : roles.zones.includes(zone);
  return {
    links: roles.control,
    mail: roles.control && options.mail !== false,
    audit: roles.control && options.audit !== false,
    managers: managersOf(config)
      .map((m) => m.manager)
      .filter((m) => served(m.zone)),
  };
}

/** Manager API clients, built once per manager and shared by the activities. */
function managerApis(config: AppConfig, secrets: Secrets, zone: string | undefined) {
  const cache = new Map<string, DeepSecurityApi>();
  return (site: string, side: ManagerSide): DeepSecurityApi => {
    const key = `${site}/${side}`;
    let api = cache.get(key);
    if (!api) {
      const siteConfig = config.sites.find((s) => s.id === site);
      if (!siteConfig) throw new Error(`unknown site "${site}"`);
      const manager = side === 'dmz' ? siteConfig.dmz.manager : siteConfig.airgapped.manager;
      if (manager.zone !== zone) {
        throw new Error(
          `the ${side} manager of ${site} is served by ${manager.zone ? `zone ${manager.zone}` : 'the control worker'}`,
        );
      }
      api = createDeepSecurityApi(manager, managerKeyOf(secrets, manager));
      cache.set(key, api);
    }
    return api;
  };
}

export interface WorkerSetOptions {
  config: AppConfig;
  connection: NativeConnection;
  namespace: string;
  roles: WorkerRoles;
  /** Where the roles' secrets are read when `secrets` is not given; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Secrets resolved by the caller at start (the embedded default resolves every one once). */
  secrets?: Secrets;
  /**
   * A prebuilt workflow bundle (tests share one); otherwise the one cached in
   * <dataDir>/workflow-bundle, bundled from the workflows when their code changed.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Replaces the configured mailer (tests). */
  mailer?: Mailer;
  audit?: AuditStore;
  /** The control role's client for audit reconciliation (Temporal's visibility). */
  client?: Client;
}

export interface WorkerSet {
  workers: Worker[];
  /** Runs every worker until shutdown() (or one fails); closes what the set opened. */
  run(): Promise<void>;
  shutdown(): void;
}

export async function createWorkerSet(options: WorkerSetOptions): Promise<WorkerSet> {
  const { config, connection, namespace, roles } = options;
  // Resolved before any worker is built: a missing secret stops the start naming its setting.
  const secrets =
    options.secrets ??
    resolveSecrets(
      config,
      options.env ?? process.env,
      secretsWantedBy(config, roles, { mail: !options.mailer, audit: !options.audit }),
    );
  // Created side by side (each is a round trip to the server, the control worker also loads its
  // workflow bundle into the worker threads): a start waits for the slowest, not the sum (issue 16).
  const creating: Promise<Worker>[] = [];
  const closers: (() => Promise<void>)[] = [];

  if (roles.control) {
    // An isolated site's keys are read before anything opens: a missing key stops the start naming its setting.
    const isolatedActivities = config.sites.some((s) => s.mode === 'isolated')
      ? createIsolatedActivities({
          config,
          secretsOf: (iso) => isolatedKeySecrets(iso, options.env ?? process.env),
        })
      : {};
    const audit = options.audit ?? (await openAuditStore(config, { postgresUrl: secrets.auditUrl }));
    if (!options.audit) closers.push(() => audit.close());
    const mailer = options.mailer ?? createMailer(config, secrets.smtpAuth);
    if (!options.mailer) closers.push(() => mailer.close());
    const controlActivities = createControlActivities({
      config,
      audit,
      mailer,
      linkKeys: requiredLinkKeys(secrets),
      publicUrl: publicUrlOf(config),
      linkTtl: config.links.ttl,
      now: () => Date.now(),
    });
    const apis = managerApis(config, secrets, undefined);
    const managers = { ...createManagerActivities({ api: apis }), ...createUpgradeActivities({ api: apis }) };
    creating.push(
      Worker.create({
        connection,
        namespace,
        taskQueue: config.temporal.taskQueue,
        maxConcurrentActivityTaskExecutions: controlActivitySlots(config),
        workflowBundle:
          options.workflowBundle ??
          (await cachedWorkflowBundle({
            workflowsPath: require.resolve('./workflows'),
            cacheDir: path.join(config.dataDir, WORKFLOW_BUNDLE_FOLDER),
          })),
        activities: {
          ...controlActivities,
          ...createSetupActivities({ config }),
          ...managers,
          ...createRulesActivities({ api: apis }),
          ...createHardeningActivities({ api: apis }),
          ...isolatedActivities,
          ...(options.client
            ? createAuditMaintenanceActivities({
                config,
                audit,
                client: options.client,
                notify: (n) => controlActivities.notify(n),
              })
            : {}),
        },
      }),
    );
  }

  for (const zone of roles.zones) {
    const api = managerApis(config, secrets, zone);
    creating.push(
      Worker.create({
        connection,
        namespace,
        taskQueue: activityOnly(zoneTaskQueue(zone)),
        activities: {
          ...createManagerActivities({ api }),
          ...createUpgradeActivities({ api }),
          ...createRulesActivities({ api }),
          ...createHardeningActivities({ api }),
        },
      }),
    );
  }

  for (const name of roles.hosts) {
    const host = config.sites.flatMap((s) => [s.dmz.relay, ...s.airgapped.relays]).find((h) => h.name === name);
    if (!host && managerHostNames(config).includes(name)) {
      creating.push(managerHostWorker(config, connection, namespace, name));
      continue;
    }
    if (!host) throw new Error(`no host named "${name}" in the configuration`);
    const site = config.sites.find(
      (s) => s.dmz.relay.name === name || s.airgapped.relays.some((r) => r.name === name),
    )!;
    const archiveDir = site.retention.archiveDir;
    creating.push(
      Worker.create({
        connection,
        namespace,
        taskQueue: activityOnly(hostTaskQueue(name)),
        activities: createHostActivities(
          createHostOps({ name: host.name, os: host.os, installDir: installDirOf(host) }, { archiveDir }),
        ),
      }),
    );
  }

  const created = await Promise.allSettled(creating);
  const workers = created.flatMap((c) => (c.status === 'fulfilled' ? [c.value] : []));
  const failure = created.find((c): c is PromiseRejectedResult => c.status === 'rejected');
  if (failure) {
    for (const close of closers) await close().catch(() => undefined);
    throw failure.reason;
  }

  let running: Promise<void> | undefined;
  return {
    workers,
    run() {
      running ??= (async () => {
        try {
          await Promise.all(workers.map((w) => w.run()));
        } finally {
          for (const close of closers) await close().catch(() => undefined);
        }
      })();
      return running;
    },
    shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}

/** The worker on an air-gapped manager-side host: dsm_c (H7/H8) and the .dsru import folder (R2). */
async function managerHostWorker(
  config: AppConfig,
  connection: NativeConnection,
  namespace: string,
  name: string,
): Promise<Worker> {
  const managed = config.sites.find((s) => s.airgapped.manager.host === name);
  const rules = config.sites.find((s) => rulesHostOf(s) === name && s.rules.importFolder);
  const dsmCPath = managed?.airgapped.manager.dsmCPath;
  const importFolder = rules?.rules.importFolder;
  const os = rules?.rules.os ?? 'linux';
  // HostOps resolves relative paths against its folder: the import folder, else dsm_c's folder.
  const folder = importFolder ?? (dsmCPath ? dsmCPath.replace(/[\\/][^\\/]*$/, '') : '/');
  return Worker.create({
    connection,
    namespace,
    taskQueue: activityOnly(hostTaskQueue(name)),
    activities: createManagerHostActivities(createHostOps({ name, os, installDir: folder }), {
      ...(importFolder ? { importFolder } : {}),
      ...(dsmCPath ? { dsmCPath } : {}),
    }),
  });
}

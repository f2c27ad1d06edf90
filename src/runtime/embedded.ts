/**
 * The embedded default: `npm start` brings up the whole stack in one process tree — the Temporal
 * dev server (a child process, SQLite in WAL mode under <dataDir>/temporal), the namespace and
 * search attributes, the schedules, every worker role, the web app, and the Deep Security
 * simulator when the configuration enables it. Ctrl-C stops it all in reverse order; the next
 * start resumes the same state.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as TemporalClient from '@temporalio/client';
import type * as TemporalWorker from '@temporalio/worker';
import { rulesHostOf, type AppConfig } from '../domain/config';
import type * as SimModule from '../sim';
import { checkConfigFiles, type LoadedConfig } from './load-config';
import { assertPortFree } from '../adapters/ports';
import { startDevServer, type DevServer } from './dev-server';
import { ensureLocalSecret } from './local-secrets';
import { openConfiguredAuditStore } from './audit-open';
import {
  ensureIsolatedDemoKeys,
  ensureMediumFolders,
  loadIsolatedDemo,
  startChildInstallation,
  type ChildInstallation,
  type IsolatedDemo,
} from './demo-isolated';
import { resolveSecrets } from './secrets';
import type * as LoggingModule from './logging';
import type * as SchedulesModule from './schedules';
import type * as TemporalSetupModule from './temporal-setup';
import type * as WorkerModule from '../worker';
import type { WorkerSet } from '../worker';
import { allRoles } from '../domain/worker-roles';
import type * as WebServerModule from './web-server';
import type * as IntakePollerModule from './intake-poller';
import type { RunningWeb } from './web-server';

/**
 * The modules that load the Temporal SDK, webpack's loader, the web app and the simulator: about
 * 0.7 s of loading (issue 16, start to ready). They are required only once the dev server's
 * process is spawned, so the two overlap instead of adding up.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
function loadStackModules() {
  return {
    client: require('@temporalio/client') as typeof TemporalClient,
    worker: require('@temporalio/worker') as typeof TemporalWorker,
    logging: require('./logging') as typeof LoggingModule,
    sim: require('../sim') as typeof SimModule,
    schedules: require('./schedules') as typeof SchedulesModule,
    setup: require('./temporal-setup') as typeof TemporalSetupModule,
    workers: require('../worker') as typeof WorkerModule,
    web: require('./web-server') as typeof WebServerModule,
  };
}

/** Only an installation with an isolated site watches a medium. */
const intakePoller = () => require('./intake-poller') as typeof IntakePollerModule;
/* eslint-enable @typescript-eslint/no-require-imports */

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

/** Ports the embedded stack opens, with the setting that moves each; with an isolated demo, its child's too. */
function portsOf(config: AppConfig, demo?: IsolatedDemo): { port: number; host: string; setting: string }[] {
  const ports = [
    { port: config.temporal.embedded.port, host: '127.0.0.1', setting: 'temporal.embedded.port' },
    { port: config.temporal.embedded.uiPort, host: '127.0.0.1', setting: 'temporal.embedded.uiPort' },
    { port: config.web.port, host: config.web.host, setting: 'web.port' },
  ];
  if (config.simulator.enabled) {
    config.sites.forEach((site, i) => {
      for (const [side, manager] of [
        ['dmz', site.dmz.manager],
        ['airgapped', site.airgapped.manager],
      ] as const) {
        const url = new URL(manager.url);
        ports.push({ port: Number(url.port || 443), host: url.hostname, setting: `sites.${i}.${side}.manager.url` });
      }
    });
  }
  if (demo) {
    const peer = demo.peer.config;
    const where = ` in ${demo.peer.path}`;
    ports.push(
      { port: peer.temporal.embedded.port, host: '127.0.0.1', setting: `temporal.embedded.port${where}` },
      { port: peer.temporal.embedded.uiPort, host: '127.0.0.1', setting: `temporal.embedded.uiPort${where}` },
      { port: peer.web.port, host: peer.web.host, setting: `web.port${where}` },
    );
  }
  return ports;
}

/**
 * The folders the embedded default owns and makes before anything uses them: the data folder,
 * each site's rule import folder (its host worker runs here), and with the simulator the
 * simulated relays' install dirs. A real relay's install dir is the agent's and is never made.
 */
export function ensureEmbeddedFolders(config: AppConfig): string[] {
  const folders = [config.dataDir];
  for (const site of config.sites) {
    if (site.rules.importFolder && rulesHostOf(site)) folders.push(site.rules.importFolder);
    if (config.simulator.enabled) {
      for (const relay of [site.dmz.relay, ...site.airgapped.relays]) {
        if (relay.installDir && path.isAbsolute(relay.installDir)) folders.push(relay.installDir);
      }
    }
  }
  for (const folder of folders) fs.mkdirSync(folder, { recursive: true });
  return folders;
}

export interface EmbeddedStack {
  stop(): Promise<void>;
  /** Resolves when a part fails on its own (a worker crash, the dev server exiting). */
  failed: Promise<Error>;
}

export async function startEmbedded(loaded: LoadedConfig, log: (line: string) => void): Promise<EmbeddedStack> {
  const { config } = loaded;
  const started: Stoppable[] = [];
  const stopAll = async () => {
    for (const part of started.reverse()) {
      await part.stop().catch((err: Error) => log(`  ${part.name} did not stop cleanly: ${err.message}`));
    }
  };
  let failWith: (err: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (failWith = resolve));

  try {
    // The isolated demo site's keys and medium are made before the files are checked: on the
    // first start they do not exist yet.
    const isolatedDemo = loadIsolatedDemo(config);
    if (isolatedDemo) {
      const made = ensureIsolatedDemoKeys(isolatedDemo);
      if (made.length) log(`  made the isolated demo site's signing keys: ${made.join(', ')}`);
      ensureMediumFolders(isolatedDemo);
    }
    // Refuse early, before anything starts, when a file the configuration names is missing or
    // a port is taken.
    checkConfigFiles(loaded, { ...allRoles(config), embedded: true });
    const seen = new Set<number>();
    for (const p of portsOf(config, isolatedDemo)) {
      if (seen.has(p.port)) continue;
      seen.add(p.port);
      await assertPortFree(p.port, p.host, p.setting);
    }
    ensureEmbeddedFolders(config);
    const env = process.env;
    ensureLocalSecret(config.dataDir, config.links.keyEnv, env);
    if (config.web.auth.mode === 'shared-secret') ensureLocalSecret(config.dataDir, config.web.auth.secretEnv, env);
    // The audit first: a PostgreSQL audit that cannot be reached stops the start before anything runs.
    const audit = await openConfiguredAuditStore(config, {}, env);
    started.push({ name: 'audit store', stop: () => audit.close() });

    // The dev server's process is spawned first (startDevServer spawns it once the CLI is found,
    // in its first turn: setImmediate runs after that), and the SDK and the rest load while it
    // comes up (issue 16, start to ready).
    const serverStarting = startDevServer({
      dbFile: path.join(config.dataDir, 'temporal', 'temporal.db'),
      port: config.temporal.embedded.port,
      uiPort: config.temporal.embedded.uiPort,
      logFile: path.join(config.dataDir, 'temporal', 'server.log'),
    });
    serverStarting.catch(() => undefined); // awaited below, after the modules load
    started.push({
      name: 'Temporal dev server',
      stop: async () => (await serverStarting.catch(() => undefined))?.stop(),
    });
    await new Promise((resolve) => setImmediate(resolve));
    const m = loadStackModules();
    m.logging.installWorkerLogging();

    if (config.simulator.enabled) m.sim.ensureSimulatorKeys(config, config.dataDir, env);
    // Every part runs here: every secret, read once; a missing one stops the start naming its setting.
    const secrets = resolveSecrets(config, env);
    if (config.simulator.enabled) {
      // The simulator serves every manager of the configuration, also the other side's of an
      // isolated site (which this installation's own parts never call).
      const served = resolveSecrets(config, env, {
        managers: config.sites.flatMap((s) => [s.dmz.manager, s.airgapped.manager]),
      });
      const running = await m.sim.startSimulator({ config, dataDir: config.dataDir, apiKeys: served.managerKeys });
      started.push({ name: 'Deep Security simulator', stop: () => running.stop() });
      log(`  simulator        ${config.sites.map((s) => `${s.dmz.manager.url} ${s.airgapped.manager.url}`).join(' ')}`);
      log(`  simulator control ${running.controlUrl}`);
    }

    const server: DevServer = await serverStarting;
    server.process.once('exit', (code) => failWith(new Error(`the Temporal dev server exited (code ${code})`)));
    // The isolated demo site's air-gapped installation: it reaches the simulated air-gapped
    // manager this process serves, with the CA this process's simulator made. It starts once this
    // installation's dev server is up (two dev servers starting at once can race for the free
    // ports of their internal services), and comes up beside this installation's workers and web app.
    let child: ChildInstallation | undefined;
    if (isolatedDemo) {
      log(`  starting the air-gapped installation (${isolatedDemo.peer.path})…`);
      const starting = startChildInstallation(isolatedDemo.peer.path, log);
      child = starting;
      started.push({ name: 'air-gapped installation', stop: () => starting.stop() });
    }

    // Both connections at once; the workers' one does not need the namespace to exist yet.
    const [connection, workerConnection] = await Promise.all([
      m.client.Connection.connect({ address: server.address }),
      m.worker.NativeConnection.connect({ address: server.address }),
    ]);
    started.push({ name: 'Temporal client', stop: () => connection.close() });
    started.push({ name: 'worker connection', stop: () => workerConnection.close() });
    await m.setup.ensureNamespace(connection, config.temporal.namespace, config.temporal.retention);
    const client = new m.client.Client({ connection, namespace: config.temporal.namespace });
    const scheduleAudit = m.schedules.scheduleAuditIn(config, m.schedules.configurationActor('airgap start'));
    // The schedules are round trips to the server, the workers mostly the worker threads' work
    // (loading the workflow bundle), the web app neither: done side by side they take the longest
    // of the three, not the sum (issue 16, start to ready). All settle before a failure stops what
    // started.
    const ensuringSchedules = (async () => {
      const [schedules, driftChecks] = await Promise.all([
        m.schedules.ensureSchedules(client, config, scheduleAudit),
        m.schedules.ensureDriftCheckSchedules(client, config, scheduleAudit),
      ]);
      return { schedules, driftChecks };
    })();
    const startingWorkers = (async () => {
      const workers: WorkerSet = await m.workers.createWorkerSet({
        config,
        connection: workerConnection,
        namespace: config.temporal.namespace,
        roles: allRoles(config),
        client,
        audit,
        secrets,
      });
      const running = workers.run();
      running.catch((err: Error) => failWith(err));
      started.push({
        name: 'workers',
        stop: async () => {
          workers.shutdown();
          await running.catch(() => undefined);
        },
      });
    })();
    const startingWeb = (async () => {
      const web: RunningWeb = await m.web.startWebServer({ config, client, secrets });
      started.push({ name: 'web app', stop: () => web.close() });
      return web;
    })();
    const [scheduled, workersStarted, webStarted] = await Promise.allSettled([
      ensuringSchedules,
      startingWorkers,
      startingWeb,
    ]);
    if (scheduled.status === 'rejected') throw scheduled.reason;
    if (workersStarted.status === 'rejected') throw workersStarted.reason;
    if (webStarted.status === 'rejected') throw webStarted.reason;
    const { schedules, driftChecks } = scheduled.value;
    const web = webStarted.value;

    // An isolated site's medium is watched as `airgap worker`'s control role does: packages on
    // the air-gapped side, receipts on the DMZ side (runtime/intake-poller.ts).
    if (config.sites.some((s) => s.mode === 'isolated')) {
      const poller = intakePoller().startIntakePoller({
        client,
        config,
        onOutcome: (o) => log(`  intake: ${o.kind} ${path.basename(o.folder)}: ${o.status}: ${o.message}`),
        onError: (err) => log(`  intake: the pass failed: ${(err as Error).message}`),
        onHandledBefore: (h) => log(`  ${intakePoller().handledBeforeLine(h)}`),
      });
      started.push({ name: 'intake poller', stop: () => poller.stop() });
    }

    // Started beside this installation's own workers and web app: ready by now, or soon.
    if (child) {
      await child.ready;
      void child.exited.then((err) => failWith(err));
    }

    log('airgap-orchestrator is running (embedded default).');
    log(`  config           ${loaded.path}`);
    log(`  data folder      ${config.dataDir}`);
    log(`  Temporal         ${server.address}  namespace ${config.temporal.namespace}`);
    log(`  Temporal UI      ${server.uiUrl}/namespaces/${config.temporal.namespace}/workflows`);
    log(`  web app          ${web.url}  (outbox: ${web.url}/outbox)`);
    log(
      `  schedules        ${[...schedules.created, ...driftChecks.created]
        .map((s) => `${s} (created)`)
        .concat(schedules.updated, driftChecks.updated)
        .join(', ')}`,
    );
    log(`  workers          control + ${allRoles(config).hosts.length} host queue(s)`);
    if (isolatedDemo) {
      const peer = isolatedDemo.peer.config;
      log(`  air-gapped side  ${isolatedDemo.peer.path}`);
      log(`    data folder    ${peer.dataDir}`);
      log(`    web app        http://${peer.web.host}:${peer.web.port}`);
      for (const pair of isolatedDemo.pairs) {
        log(
          `    medium         ${pair.siteId}: ${pair.dmz.outboundFolder} → ${pair.airgapped.intakeFolder} (airgap sim carry <cycle>)`,
        );
      }
    }
    log('Press Ctrl-C to stop.');
    return { stop: stopAll, failed };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

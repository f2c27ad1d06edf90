/**
 * The long-running parts: `airgap start` (the embedded default), and for real deployments
 * `airgap setup`, `airgap worker` and `airgap web` against the cluster named by TEMPORAL_ADDRESS.
 */
import type { Connection } from '@temporalio/client';
import type { Command } from 'commander';
import type * as IntakeModule from '../runtime/intake-poller';
import type * as EmbeddedModule from '../runtime/embedded';
import { checkConfigFiles } from '../runtime/load-config';
import type * as LoggingModule from '../runtime/logging';
import type * as SchedulesModule from '../runtime/schedules';
import type * as TemporalSetupModule from '../runtime/temporal-setup';
import type * as ConnectionModule from '../runtime/temporal-connection';
import type * as WebServerModule from '../runtime/web-server';
import type * as WorkerModule from '../worker';
import { allRoles, type WorkerRoles } from '../domain/worker-roles';
import { openConfiguredAuditStore } from '../runtime/audit-open';
import { CliError, type CliContext } from './context';

/*
 * Each command requires what it runs when it runs: `airgap start` spawns the dev server before the
 * Temporal SDK loads (runtime/embedded.ts), so nothing here may load it at import.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const embedded = () => require('../runtime/embedded') as typeof EmbeddedModule;
const logging = () => require('../runtime/logging') as typeof LoggingModule;
const schedules = () => require('../runtime/schedules') as typeof SchedulesModule;
const temporalSetup = () => require('../runtime/temporal-setup') as typeof TemporalSetupModule;
const connections = () => require('../runtime/temporal-connection') as typeof ConnectionModule;
const webServer = () => require('../runtime/web-server') as typeof WebServerModule;
const workerSet = () => require('../worker') as typeof WorkerModule;
const intake = () => require('../runtime/intake-poller') as typeof IntakeModule;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Resolves on the first SIGINT/SIGTERM. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('start')
    .description('run the embedded default: Temporal dev server, workers, web app and (if configured) the simulator')
    .action(async () => {
      const loaded = ctx.config();
      if (process.env.TEMPORAL_ADDRESS) {
        throw new CliError(
          'TEMPORAL_ADDRESS is set, so nothing embedded starts: run "airgap setup", "airgap worker" and "airgap web" against that cluster',
        );
      }
      const log = (line: string) => process.stderr.write(`${line}\n`);
      // startEmbedded installs the SDK's logging once the dev server is spawned.
      const stack = await embedded().startEmbedded(loaded, log);
      const why = await Promise.race([untilSignal(), stack.failed.then((err) => `failure: ${err.message}`)]);
      log(`stopping (${why})…`);
      await stack.stop();
      log('stopped.');
      if (why.startsWith('failure')) throw new CliError(why);
    });

  program
    .command('setup')
    .description('create or update the namespace (retention) and register the search attributes on the target cluster')
    .action(async () => {
      const { config } = ctx.config();
      const client = await ctx.client();
      await temporalSetup().ensureNamespace(
        client.connection as Connection,
        config.temporal.namespace,
        config.temporal.retention,
      );
      const { configurationActor, ensureDriftCheckSchedules, ensureSchedules, scheduleAuditIn } = schedules();
      const scheduleAudit = scheduleAuditIn(config, configurationActor('airgap setup'));
      const cycleSchedules = await ensureSchedules(client, config, scheduleAudit);
      const driftChecks = await ensureDriftCheckSchedules(client, config, scheduleAudit);
      const ids = [
        ...cycleSchedules.created,
        ...cycleSchedules.updated,
        ...driftChecks.created,
        ...driftChecks.updated,
      ];
      ctx.result(`namespace ${config.temporal.namespace} ready; schedules ${ids.join(', ')}`, {
        namespace: config.temporal.namespace,
        schedules: cycleSchedules,
        driftChecks,
      });
    });

  program
    .command('worker')
    .description(
      'run worker roles against the cluster: --control, --host <relay> (repeatable), --zone <zone> (repeatable); all roles by default',
    )
    .option('--control', 'workflows, mail, audit and the API of managers without a zone')
    .option('--host <name>', 'a relay host whose commands and files this process serves', collect, [])
    .option('--zone <zone>', 'a zone whose managers this process calls', collect, [])
    .action(async (opts: { control?: boolean; host: string[]; zone: string[] }) => {
      const { config } = ctx.config();
      const { connectClient, connectWorker, temporalTarget } = connections();
      const target = temporalTarget(config);
      const roles: WorkerRoles =
        opts.control || opts.host.length || opts.zone.length
          ? { control: Boolean(opts.control), hosts: opts.host, zones: opts.zone }
          : allRoles(config);
      checkConfigFiles(ctx.config(), roles);
      logging().installWorkerLogging();
      // The audit before Temporal: a PostgreSQL audit that cannot be reached stops here, nothing started.
      const audit = roles.control ? await openConfiguredAuditStore(config) : undefined;
      const connection = await connectWorker(target);
      const client = await connectClient(target);
      if (target.external) {
        const problems = await temporalSetup().checkNamespace(client.connection as Connection, target.namespace);
        if (problems.length) throw new CliError(`the cluster is not set up: ${problems.join('; ')}`);
      }
      const set = await workerSet().createWorkerSet({
        config,
        connection,
        namespace: target.namespace,
        roles,
        client,
        ...(audit ? { audit } : {}),
      });
      ctx.info(
        `worker running on ${target.connectionOptions.address} (${target.namespace}): ` +
          `${roles.control ? 'control' : ''} ${roles.hosts.map((h) => `host ${h}`).join(' ')} ${roles.zones.map((z) => `zone ${z}`).join(' ')}`,
      );
      const running = set.run();
      // An isolated site's control worker also watches the medium (packages or receipts, by side).
      const poller =
        roles.control && config.sites.some((s) => s.mode === 'isolated')
          ? intake().startIntakePoller({
              client,
              config,
              onOutcome: (o) => ctx.info(`intake: ${o.kind} ${o.folder}: ${o.status}: ${o.message}`),
              onError: (err) => ctx.info(`intake: the pass failed: ${(err as Error).message}`),
              onHandledBefore: (h) => ctx.info(intake().handledBeforeLine(h)),
            })
          : undefined;
      const why = await Promise.race([untilSignal(), running.then(() => 'workers stopped')]);
      ctx.info(`stopping (${why})…`);
      await poller?.stop();
      set.shutdown();
      await running;
      await audit?.close();
      await connection.close();
      await client.connection.close();
    });

  program
    .command('web')
    .description('run the web app (dashboard, outbox, approval links) against the cluster')
    .action(async () => {
      const { config } = ctx.config();
      // The audit before Temporal: a PostgreSQL audit that cannot be reached stops here, nothing started.
      const audit = await openConfiguredAuditStore(config);
      const web = await webServer()
        .startWebServer({ config, client: await ctx.client(), audit })
        .catch(async (err: unknown) => {
          await audit.close();
          throw err;
        });
      ctx.info(`web app on ${web.url}`);
      await untilSignal();
      await web.close();
    });

  program
    .command('health')
    .description('exit 0 when Temporal answers and (with --worker) the control queue has a poller')
    .option('--worker', 'also require a worker polling the control task queue')
    .action(async (opts: { worker?: boolean }) => {
      const { config } = ctx.config();
      const client = await ctx.client();
      await (client.connection as Connection).healthService.check({});
      if (opts.worker) {
        const described = await client.connection.workflowService.describeTaskQueue({
          namespace: client.options.namespace,
          taskQueue: { name: config.temporal.taskQueue },
        });
        if (!described.pollers?.length) throw new CliError(`no worker polls ${config.temporal.taskQueue}`);
      }
      ctx.result('healthy', { healthy: true });
    });
}

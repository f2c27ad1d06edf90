/**
 * A whole site for upgrade-rollout tests: the same simulated site, outbox, audit and real workers
 * as the cycle stack (its configuration document is reused), plus the site's `upgrade` block, more
 * agents, and "a person" who performs upgrades through the simulator's SimControl.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { stringify as stringifyYaml } from 'yaml';
import { SqliteAuditStore } from '../../src/adapters/audit-store';
import { OutboxMailer } from '../../src/adapters/outbox';
import { parseConfig, type AppConfig, type SiteConfig } from '../../src/domain/config';
import { targetsFrom, type UpgradeTargets } from '../../src/domain/upgrade-stages';
import { startSimulator, type RunningSimulator } from '../../src/sim';
import { allRoles, createWorkerSet, type WorkerSet } from '../../src/worker';
import {
  confirmStageUpdate,
  upgradeStateQuery,
  type RolloutInput,
  type UpgradeView,
} from '../../src/workflows/upgrade-messages';
import type { upgradeRolloutWorkflow } from '../../src/workflows/upgrade-rollout';
import { testConfigDocument, type StackOptions } from './cycle-stack';
import { pollQuery } from './poll-query';
import { TEST_NAMESPACE, testTemporalAddress, testWorkflowBundlePath } from './env';

export interface UpgradeStackOptions extends Pick<StackOptions, 'relays' | 'approvers' | 'waits' | 'mail'> {
  agentsPerRelay?: number;
  /** The site's `upgrade` block, as an operator writes it. */
  upgrade?: Record<string, unknown>;
}

export type Rollout = WorkflowHandle<typeof upgradeRolloutWorkflow>;

export interface UpgradeStack {
  dir: string;
  tag: string;
  configFile: string;
  config: AppConfig;
  site: SiteConfig;
  env: NodeJS.ProcessEnv;
  sim: RunningSimulator;
  client: Client;
  outbox: OutboxMailer;
  audit: SqliteAuditStore;
  /** Air-gapped agent ids, in id order. */
  agentIds(): number[];
  /** `workflowId`: a fixed id, e.g. for a history recorded under its file name. */
  start(targets: Parameters<typeof targetsFrom>[0], by?: string, workflowId?: string): Promise<Rollout>;
  view(handle: WorkflowHandle): Promise<UpgradeView>;
  waitFor(handle: WorkflowHandle, test: (v: UpgradeView) => boolean, timeoutMs?: number): Promise<UpgradeView>;
  /** Waits until the rollout asks a person for the manual step `step` (e.g. "U1-upgrade"). */
  waitForStep(handle: WorkflowHandle, step: string, timeoutMs?: number): Promise<UpgradeView>;
  confirm(handle: WorkflowHandle, stage: string, by?: string): Promise<string>;
  /** The refusal's reason, or "accepted" when the Update was accepted. */
  attempt(handle: WorkflowHandle, run: (h: WorkflowHandle) => Promise<unknown>): Promise<string>;
  /** The person (or tool) who performs upgrades, in the simulated world. */
  person: {
    upgradeManager(side: 'dmz' | 'airgapped', version: string): void;
    upgradeComputers(side: 'dmz' | 'airgapped', ids: number[], version: string): void;
    /** Everything of the site to these targets (a site already upgraded by hand). */
    upgradeAll(targets: UpgradeTargets, except?: number[]): void;
  };
  startWorkers(): Promise<void>;
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

export async function startUpgradeStack(options: UpgradeStackOptions = {}): Promise<UpgradeStack> {
  const tag = `u${randomBytes(4).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `airgap-${tag}-`));
  const document = await testConfigDocument(dir, tag, options);
  const siteDoc = (document.sites as Record<string, unknown>[])[0]!;
  if (options.upgrade) siteDoc.upgrade = options.upgrade;
  const config = parseConfig(document, `test config ${tag}`);
  const configFile = path.join(dir, 'airgap.yaml');
  fs.writeFileSync(configFile, stringifyYaml(document));
  const env: NodeJS.ProcessEnv = {
    T_DMZ_KEY: `dmz-${randomBytes(12).toString('hex')}`,
    T_AG_KEY: `ag-${randomBytes(12).toString('hex')}`,
    AIRGAP_LINK_KEY: randomBytes(32).toString('hex'),
  };
  const sim = await startSimulator({
    config,
    dataDir: dir,
    apiKeys: env,
    importDelayMs: 200,
    agentsPerRelay: options.agentsPerRelay ?? 3,
    // Polls every few hundred ms in tests: the vendor's rate limit is not what is under test here.
    rateLimitPerMinute: 100_000,
  });
  const connection = await Connection.connect({ address: testTemporalAddress() });
  const client = new Client({ connection, namespace: TEST_NAMESPACE });
  const outbox = OutboxMailer.inDataDir(dir, config.mail.from);
  const audit = new SqliteAuditStore(path.join(dir, 'audit.sqlite'));
  const site = config.sites[0]!;
  let workers: WorkerSet | undefined;
  let workerConnection: NativeConnection | undefined;
  let running: Promise<void> | undefined;
  let started = 0;

  const stack: UpgradeStack = {
    dir,
    tag,
    configFile,
    config,
    site,
    env,
    sim,
    client,
    outbox,
    audit,
    agentIds() {
      const computers = Object.values(sim.control.snapshot().managers[`${site.id}/airgapped`]!.computers);
      return computers
        .filter((c) => c.role === 'agent')
        .map((c) => c.id)
        .sort((a, b) => a - b);
    },
    start(targets, by = 'lead@plant.example', workflowId?: string) {
      const input: RolloutInput = {
        site: site.id,
        targets: targetsFrom(targets),
        trigger: { who: by, channel: 'cli' },
      };
      return client.workflow.start<typeof upgradeRolloutWorkflow>('upgradeRolloutWorkflow', {
        taskQueue: config.temporal.taskQueue,
        workflowId: workflowId ?? `upgrade-plant-${tag}-${++started}`,
        args: [input],
      });
    },
    view: (handle) => handle.query(upgradeStateQuery),
    waitFor: (handle, test, timeoutMs) => pollQuery(handle, upgradeStateQuery, test, timeoutMs),
    waitForStep: (handle, step, timeoutMs) =>
      stack.waitFor(handle, (v) => v.waitingFor?.what === `manual:${step}`, timeoutMs),
    async confirm(handle, stage, by = 'operator@plant.example') {
      const answer = await handle.executeUpdate(confirmStageUpdate, { args: [{ stage, by }] });
      return answer.message;
    },
    async attempt(handle, run) {
      try {
        await run(handle);
        return 'accepted';
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) return (err.cause as Error).message;
        throw err;
      }
    },
    person: {
      upgradeManager: (side, version) => sim.control.setManagerVersion({ siteId: site.id, side, version }),
      upgradeComputers: (side, ids, version) =>
        sim.control.setAgentVersions({ siteId: site.id, side, computerIds: ids, version }),
      upgradeAll(targets, except = []) {
        stack.person.upgradeManager('dmz', targets.manager);
        stack.person.upgradeManager('airgapped', targets.manager);
        stack.person.upgradeComputers('dmz', [site.dmz.relay.computerId], targets.relay);
        stack.person.upgradeComputers(
          'airgapped',
          site.airgapped.relays.map((r) => r.computerId),
          targets.relay,
        );
        stack.person.upgradeComputers(
          'airgapped',
          stack.agentIds().filter((a) => !except.includes(a)),
          targets.agent,
        );
      },
    },
    async startWorkers() {
      workerConnection = await NativeConnection.connect({ address: testTemporalAddress() });
      workers = await createWorkerSet({
        config,
        connection: workerConnection,
        namespace: TEST_NAMESPACE,
        roles: allRoles(config),
        env,
        workflowBundle: { codePath: testWorkflowBundlePath() },
        // With `mail.smtp` the workers mail through a real SMTP server (the config's SmtpMailer).
        mailer: options.mail?.smtp ? undefined : outbox,
        audit,
      });
      running = workers.run();
    },
    async stopWorkers() {
      if (!workers) return;
      workers.shutdown();
      await running;
      await workerConnection?.close();
      workers = undefined;
    },
    async close() {
      await stack.stopWorkers().catch(() => undefined);
      await sim.stop();
      await outbox.close();
      await audit.close();
      await connection.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await stack.startWorkers();
  return stack;
}

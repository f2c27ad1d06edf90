/**
 * A whole site for workflow tests: the simulator over real HTTPS on free ports, real host folders,
 * the outbox and the audit store on disk, and real workers on the test run's Temporal dev server.
 * Every stack has its own task queues and host names, so runs left over by one test file can
 * never be served by another's workers.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { SqliteAuditStore, type AuditStore } from '../../src/adapters/audit-store';
import { OutboxMailer } from '../../src/adapters/outbox';
import { stringify as stringifyYaml } from 'yaml';
import { parseConfig, type AppConfig, type SiteConfig } from '../../src/domain/config';
import { freePort } from '../../src/runtime/dev-server';
import { startSimulator, type RunningSimulator, type SimState } from '../../src/sim';
import { allRoles, createWorkerSet, type WorkerSet } from '../../src/worker';
import { cycleStateQuery, type CycleInput, type CycleView } from '../../src/workflows/cycle-messages';
import { pollQuery } from './poll-query';
import { TEST_NAMESPACE, testTemporalAddress, testWorkflowBundlePath } from './env';

export interface StackOptions {
  relays?: number;
  approval?: Record<string, unknown>;
  approvers?: string[];
  steps?: Record<string, unknown>;
  waits?: Record<string, unknown>;
  importDelayMs?: number;
  /** false: no in-process workers (the test runs them, e.g. in child processes). */
  workers?: boolean;
  /**
   * The config's `mail` block. With `mail.smtp` the workers send through the SmtpMailer the config
   * describes (createWorkerSet builds it) instead of the stack's outbox.
   */
  mail?: Record<string, unknown>;
  /** Adds to or changes the site's raw document (e.g. rules, hardening, the manager host) before validation. */
  editSite?: (site: Record<string, unknown>, stack: { tag: string; dir: string }) => void;
  /** The audit store the workers write (e.g. PostgreSQL); default a SQLite file in the stack's folder. */
  audit?: AuditStore;
}

export interface CycleStack {
  dir: string;
  /** The same configuration as a YAML file, for `airgap … --config`. */
  configFile: string;
  config: AppConfig;
  site: SiteConfig;
  env: NodeJS.ProcessEnv;
  sim: RunningSimulator;
  client: Client;
  outbox: OutboxMailer;
  audit: AuditStore;
  workers: WorkerSet;
  startCycle(input?: Partial<CycleInput>): Promise<WorkflowHandle>;
  view(handle: WorkflowHandle): Promise<CycleView>;
  /** Polls the cycle until `test(view)` holds. */
  waitFor(handle: WorkflowHandle, test: (v: CycleView) => boolean, timeoutMs?: number): Promise<CycleView>;
  /** Stops the simulator, lets `edit` change its saved state (a site changed by hand), starts it again. */
  restartSim(edit?: (state: SimState) => void): Promise<void>;
  startWorkers(): Promise<void>;
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

export async function buildTestConfig(dir: string, tag: string, options: StackOptions = {}): Promise<AppConfig> {
  return parseConfig(await testConfigDocument(dir, tag, options), `test config ${tag}`);
}

/** The configuration as an operator would write it (YAML-able), for workers in child processes. */
export async function testConfigDocument(
  dir: string,
  tag: string,
  options: StackOptions = {},
): Promise<Record<string, unknown>> {
  const [dmzPort, airgapPort, webPort] = [await freePort(), await freePort(), await freePort()];
  const host = (name: string) => path.join(dir, 'hosts', name, 'opt', 'ds_agent');
  const relays = Array.from({ length: options.relays ?? 1 }, (_, i) => ({
    name: `${tag}-ag-relay-${i + 1}`,
    computerId: 21 + i,
    installDir: host(`${tag}-ag-relay-${i + 1}`),
  }));
  const document = {
    dataDir: dir,
    temporal: { namespace: TEST_NAMESPACE, taskQueue: `${tag}-control` },
    web: { port: webPort, publicUrl: `http://127.0.0.1:${webPort}` },
    ...(options.mail ? { mail: options.mail } : {}),
    sites: [
      {
        id: 'plant',
        name: 'Plant (test)',
        dmz: {
          manager: {
            url: `https://127.0.0.1:${dmzPort}/api`,
            apiKeyEnv: 'T_DMZ_KEY',
            caFile: path.join(dir, 'sim/tls/ca.pem'),
            requestTimeout: '5s',
          },
          relay: { name: `${tag}-dmz-relay`, computerId: 11, installDir: host(`${tag}-dmz-relay`) },
        },
        airgapped: {
          manager: {
            url: `https://127.0.0.1:${airgapPort}/api`,
            apiKeyEnv: 'T_AG_KEY',
            caFile: path.join(dir, 'sim/tls/ca.pem'),
            requestTimeout: '5s',
          },
          relays,
        },
        people: {
          operators: ['operator@plant.example'],
          escalation: ['lead@plant.example'],
          approvers: options.approvers ?? ['approver@plant.example', 'second@plant.example'],
        },
        waits: {
          reminderEvery: '1h',
          escalateAfter: '2h',
          deadline: '1d',
          importTimeout: '30s',
          pollInterval: '200ms',
          ...options.waits,
        },
        approval: { policy: 'none', ...options.approval },
        steps: { import: 'automated', ...options.steps },
      } as Record<string, unknown>,
    ],
  };
  options.editSite?.(document.sites[0]!, { tag, dir });
  return document;
}

export async function startCycleStack(options: StackOptions = {}): Promise<CycleStack> {
  const tag = `t${randomBytes(4).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `airgap-${tag}-`));
  const document = await testConfigDocument(dir, tag, options);
  const config = parseConfig(document, `test config ${tag}`);
  const configFile = path.join(dir, 'airgap.yaml');
  fs.writeFileSync(configFile, stringifyYaml(document));
  const env: NodeJS.ProcessEnv = {
    T_DMZ_KEY: `dmz-${randomBytes(12).toString('hex')}`,
    T_AG_KEY: `ag-${randomBytes(12).toString('hex')}`,
    AIRGAP_LINK_KEY: randomBytes(32).toString('hex'),
  };
  const startSim = () =>
    startSimulator({ config, dataDir: dir, apiKeys: env, importDelayMs: options.importDelayMs ?? 200 });
  const sim = await startSim();
  const connection = await Connection.connect({ address: testTemporalAddress() });
  const client = new Client({ connection, namespace: TEST_NAMESPACE });
  const outbox = OutboxMailer.inDataDir(dir, config.mail.from);
  const audit = options.audit ?? new SqliteAuditStore(path.join(dir, 'audit.sqlite'));
  let workerConnection: NativeConnection | undefined;
  let running: Promise<void> | undefined;

  const stack: CycleStack = {
    dir,
    configFile,
    config,
    site: config.sites[0]!,
    env,
    sim,
    client,
    outbox,
    audit,
    workers: undefined as unknown as WorkerSet,
    async restartSim(edit) {
      await stack.sim.stop();
      if (edit) {
        const file = path.join(dir, 'sim', 'state.json');
        const state = JSON.parse(fs.readFileSync(file, 'utf8')) as SimState;
        edit(state);
        fs.writeFileSync(file, JSON.stringify(state));
      }
      stack.sim = await startSim();
    },
    async startWorkers() {
      workerConnection = await NativeConnection.connect({ address: testTemporalAddress() });
      stack.workers = await createWorkerSet({
        config,
        connection: workerConnection,
        namespace: TEST_NAMESPACE,
        roles: allRoles(config),
        env,
        workflowBundle: { codePath: testWorkflowBundlePath() },
        mailer: options.mail?.smtp ? undefined : outbox,
        audit,
        client,
      });
      running = stack.workers.run();
    },
    async stopWorkers() {
      if (!stack.workers) return;
      stack.workers.shutdown();
      await running;
      await workerConnection?.close();
    },
    startCycle(input = {}) {
      return client.workflow.start('cycleWorkflow', {
        taskQueue: config.temporal.taskQueue,
        workflowId: `cycle-plant-${tag}-${randomBytes(3).toString('hex')}`,
        args: [{ site: 'plant', trigger: { who: 'test@plant.example', channel: 'cli' }, ...input }],
      });
    },
    view: (handle) => handle.query(cycleStateQuery),
    waitFor: (handle, test, timeoutMs) => pollQuery(handle, cycleStateQuery, test, timeoutMs),
    async close() {
      await stack.stopWorkers().catch(() => undefined);
      await stack.sim.stop();
      await outbox.close();
      await audit.close();
      await connection.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  if (options.workers !== false) await stack.startWorkers();
  return stack;
}

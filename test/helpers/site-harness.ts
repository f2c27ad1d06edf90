/**
 * One simulated site, the way the workflow tests and the cycle benchmarks both set it up: a
 * configuration written like an operator's (also saved as YAML for `airgap … --config`), the
 * managers' API keys and the link key, the Deep Security simulator over real HTTPS on free ports,
 * real host folders, the audit store and the outbox on disk — and, for the tests, real workers on
 * a Temporal server. Every site has its own tag in its task queues and host names, so runs left
 * over by one test file can never be served by another's workers.
 *
 * No jest here: bench/cycle-kit.ts compiles and runs it with plain Node.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { stringify as stringifyYaml } from 'yaml';
import { SqliteAuditStore, type AuditStore } from '../../src/adapters/audit-store';
import { freePort } from '../../src/adapters/ports';
import { OutboxMailer } from '../../src/adapters/outbox';
import { parseConfig, type AppConfig, type SiteConfig } from '../../src/domain/config';
import { startSimulator, type RunningSimulator, type SimState, type SimulatorOptions } from '../../src/sim';
import { allRoles, createWorkerSet, type WorkerSet } from '../../src/worker';

/** What shapes the site's configuration document. */
export interface SiteDocumentOptions {
  /** The Temporal namespace the configuration names. */
  namespace: string;
  /** The site's display name. Default "Plant (test)". */
  name?: string;
  relays?: number;
  approval?: Record<string, unknown>;
  approvers?: string[];
  steps?: Record<string, unknown>;
  waits?: Record<string, unknown>;
  /** The managers' API request timeout. Default 5s. */
  requestTimeout?: string;
  /** The config's `mail` block (e.g. `mail.smtp`). */
  mail?: Record<string, unknown>;
  /** The site's `upgrade` block, as an operator writes it. */
  upgrade?: Record<string, unknown>;
  /** Adds to or changes the site's raw document (e.g. rules, hardening, the manager host) before validation. */
  editSite?: (site: Record<string, unknown>, stack: { tag: string; dir: string }) => void;
}

/** The managers' key variables every simulated site's configuration names. */
export const SITE_KEY_ENV = { dmz: 'T_DMZ_KEY', airgapped: 'T_AG_KEY' } as const;

/** The configuration as an operator would write it (YAML-able), on free ports, with host folders under `dir`. */
export async function siteConfigDocument(
  dir: string,
  tag: string,
  options: SiteDocumentOptions,
): Promise<Record<string, unknown>> {
  const [dmzPort, airgapPort, webPort] = [await freePort(), await freePort(), await freePort()];
  const host = (name: string) => path.join(dir, 'hosts', name, 'opt', 'ds_agent');
  const manager = (port: number, apiKeyEnv: string) => ({
    url: `https://127.0.0.1:${port}/api`,
    apiKeyEnv,
    caFile: path.join(dir, 'sim/tls/ca.pem'),
    requestTimeout: options.requestTimeout ?? '5s',
  });
  const relays = Array.from({ length: options.relays ?? 1 }, (_, i) => ({
    name: `${tag}-ag-relay-${i + 1}`,
    computerId: 21 + i,
    installDir: host(`${tag}-ag-relay-${i + 1}`),
  }));
  const site: Record<string, unknown> = {
    id: 'plant',
    name: options.name ?? 'Plant (test)',
    dmz: {
      manager: manager(dmzPort, SITE_KEY_ENV.dmz),
      relay: { name: `${tag}-dmz-relay`, computerId: 11, installDir: host(`${tag}-dmz-relay`) },
    },
    airgapped: { manager: manager(airgapPort, SITE_KEY_ENV.airgapped), relays },
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
    // Test sites accept a plain `--by` (unproven) besides the default proofs, so tests about other
    // things approve as before; the proof tests set approval.proofs themselves (issue 14).
    approval: { policy: 'none', proofs: ['mail-link', 'web-session', 'cli-code', 'unproven'], ...options.approval },
    steps: { import: 'automated', ...options.steps },
    ...(options.upgrade ? { upgrade: options.upgrade } : {}),
  };
  options.editSite?.(site, { tag, dir });
  return {
    dataDir: dir,
    temporal: { namespace: options.namespace, taskQueue: `${tag}-control` },
    web: { port: webPort, publicUrl: `http://127.0.0.1:${webPort}` },
    ...(options.mail ? { mail: options.mail } : {}),
    sites: [site],
  };
}

export interface SimulatedSiteOptions<A extends AuditStore> extends SiteDocumentOptions {
  /** First letter of the tag: t (cycle tests), u (upgrade tests), b (benchmarks). */
  tagPrefix: string;
  /** The simulator's own options (import delay, agents, rate limit…). */
  simulator?: Omit<SimulatorOptions, 'config' | 'dataDir' | 'apiKeys'>;
  /** The audit store; default a SQLite file in the site's folder. */
  audit?: A;
}

export interface SimulatedSite<A extends AuditStore = AuditStore> {
  tag: string;
  dir: string;
  /** The same configuration as a YAML file, for `airgap … --config`. */
  configFile: string;
  config: AppConfig;
  site: SiteConfig;
  /** The secrets the configuration names: the managers' API keys and the link key. */
  env: NodeJS.ProcessEnv;
  sim: RunningSimulator;
  audit: A;
  /** The outbox the workers mail to, unless `mail.smtp` is configured. */
  outbox: OutboxMailer;
  /** Stops the simulator, lets `edit` change its saved state (a site changed by hand), starts it again. */
  restartSim(edit?: (state: SimState) => void): Promise<void>;
  /** Stops the simulator, closes the outbox and the audit, removes the folder. */
  close(): Promise<void>;
}

/** A simulated site in a new temporary folder: configuration, secrets, simulator, audit and outbox. */
export async function startSimulatedSite<A extends AuditStore = SqliteAuditStore>(
  options: SimulatedSiteOptions<A>,
): Promise<SimulatedSite<A>> {
  const tag = `${options.tagPrefix}${randomBytes(4).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `airgap-${tag}-`));
  const document = await siteConfigDocument(dir, tag, options);
  const config = parseConfig(document, `test config ${tag}`);
  const configFile = path.join(dir, 'airgap.yaml');
  fs.writeFileSync(configFile, stringifyYaml(document));
  const env: NodeJS.ProcessEnv = {
    [SITE_KEY_ENV.dmz]: `dmz-${randomBytes(12).toString('hex')}`,
    [SITE_KEY_ENV.airgapped]: `ag-${randomBytes(12).toString('hex')}`,
    [config.links.keyEnv]: randomBytes(32).toString('hex'),
  };
  const startSim = () =>
    startSimulator({ importDelayMs: 200, ...options.simulator, config, dataDir: dir, apiKeys: env });
  const site: SimulatedSite<A> = {
    tag,
    dir,
    configFile,
    config,
    site: config.sites[0]!,
    env,
    sim: await startSim(),
    audit: options.audit ?? (new SqliteAuditStore(path.join(dir, 'audit.sqlite')) as AuditStore as A),
    outbox: OutboxMailer.inDataDir(dir, config.mail.from),
    async restartSim(edit) {
      await site.sim.stop();
      if (edit) {
        const file = path.join(dir, 'sim', 'state.json');
        const state = JSON.parse(fs.readFileSync(file, 'utf8')) as SimState;
        edit(state);
        fs.writeFileSync(file, JSON.stringify(state));
      }
      site.sim = await startSim();
    },
    async close() {
      await site.sim.stop();
      await site.outbox.close();
      await site.audit.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return site;
}

export interface SiteOnTemporalOptions<A extends AuditStore> extends SimulatedSiteOptions<A> {
  /** The Temporal server's address. */
  address: string;
  /** The workflow bundle the workers load. */
  workflowBundlePath: string;
  /** false: no in-process workers (the test runs them, e.g. in child processes). */
  workers?: boolean;
  /** Give the workers the client, so the control role also runs the audit maintenance activities. */
  auditMaintenance?: boolean;
}

/** A simulated site with a Temporal client and the site's workers (every role) in this process. */
export interface SiteOnTemporal<A extends AuditStore = AuditStore> extends SimulatedSite<A> {
  client: Client;
  /** The running worker set; undefined before startWorkers() and after stopWorkers(). */
  workers: WorkerSet;
  startWorkers(): Promise<void>;
  stopWorkers(): Promise<void>;
}

export async function startSiteOnTemporal<A extends AuditStore = SqliteAuditStore>(
  options: SiteOnTemporalOptions<A>,
): Promise<SiteOnTemporal<A>> {
  const simulated = await startSimulatedSite(options);
  const connection = await Connection.connect({ address: options.address });
  const client = new Client({ connection, namespace: options.namespace });
  let workerConnection: NativeConnection | undefined;
  let running: Promise<void> | undefined;
  const closeSite = simulated.close;
  const site: SiteOnTemporal<A> = Object.assign(simulated, {
    client,
    workers: undefined as unknown as WorkerSet,
    async startWorkers() {
      workerConnection = await NativeConnection.connect({ address: options.address });
      site.workers = await createWorkerSet({
        config: site.config,
        connection: workerConnection,
        namespace: options.namespace,
        roles: allRoles(site.config),
        env: site.env,
        workflowBundle: { codePath: options.workflowBundlePath },
        // With `mail.smtp` the workers mail through a real SMTP server (the config's SmtpMailer).
        mailer: options.mail?.smtp ? undefined : site.outbox,
        audit: site.audit,
        ...(options.auditMaintenance ? { client } : {}),
      });
      running = site.workers.run();
    },
    async stopWorkers() {
      if (!site.workers) return;
      site.workers.shutdown();
      await running;
      await workerConnection?.close();
      site.workers = undefined as unknown as WorkerSet;
    },
    async close() {
      await site.stopWorkers().catch(() => undefined);
      await closeSite();
      await connection.close();
    },
  });
  if (options.workers !== false) await site.startWorkers();
  return site;
}

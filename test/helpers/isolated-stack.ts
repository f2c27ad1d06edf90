/**
 * An isolated site for workflow tests: ONE simulated Deep Security site (both managers, real
 * HTTPS) and TWO installations of airgap-orchestrator over it — the DMZ side and the air-gapped
 * side — each with its own configuration, key pair, control task queue, data folder, audit and
 * outbox, sharing nothing but the medium folder. Both run on the test run's Temporal dev server
 * (different task queues); each side's workers serve only its own side's hosts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { SqliteAuditStore } from '../../src/adapters/audit-store';
import { OutboxMailer } from '../../src/adapters/outbox';
import { generateSigningKeyPair } from '../../src/adapters/signing';
import { parseConfig, type AppConfig } from '../../src/domain/config';
import { intakePass } from '../../src/runtime/intake-poller';
import { allRoles, createWorkerSet, type WorkerSet } from '../../src/worker';
import { TEST_NAMESPACE, testTemporalAddress, testWorkflowBundlePath } from './env';
import { SITE_KEY_ENV, startSimulatedSite, type SimulatedSite, type SiteDocumentOptions } from './site-harness';

export interface Side {
  config: AppConfig;
  configFile: string;
  audit: SqliteAuditStore;
  outbox: OutboxMailer;
  workers?: WorkerSet;
  running?: Promise<void>;
}

export interface IsolatedStack {
  sim: SimulatedSite;
  client: Client;
  medium: string;
  dmz: Side;
  airgapped: Side;
  keys: { dir: string; dmzPublic: string; airgappedPublic: string; dmzPrivate: string; airgappedPrivate: string };
  /** Builds a side's worker set (rejects when its keys cannot be read). */
  workersFor(config: AppConfig, side: Side): Promise<WorkerSet>;
  close(): Promise<void>;
}

export interface IsolatedStackOptions extends Omit<SiteDocumentOptions, 'namespace'> {
  /**
   * The relays' host workers run apart (the test starts them, e.g. in processes of their own):
   * each side's in-process workers serve its control and zone roles only.
   */
  relaysApart?: boolean;
  /** Extra settings of the air-gapped side's `isolated` block (placement …). */
  airgappedIsolated?: Record<string, unknown>;
}

export async function startIsolatedStack(options: IsolatedStackOptions = {}): Promise<IsolatedStack> {
  const sim = await startSimulatedSite({ ...options, tagPrefix: 'i', namespace: TEST_NAMESPACE });
  const keyDir = path.join(sim.dir, 'keys');
  fs.mkdirSync(keyDir, { recursive: true });
  const pair = (name: string) => {
    const p = generateSigningKeyPair();
    const priv = path.join(keyDir, `${name}.key.pem`);
    const pub = path.join(keyDir, `${name}.pub.pem`);
    fs.writeFileSync(priv, p.privateKeyPem, { mode: 0o600 });
    fs.writeFileSync(pub, p.publicKeyPem);
    return { priv, pub };
  };
  const dmzKeys = pair('dmz');
  const agKeys = pair('airgapped');
  const medium = path.join(sim.dir, 'medium');
  fs.mkdirSync(medium, { recursive: true });
  const base = parseYaml(fs.readFileSync(sim.configFile, 'utf8')) as Record<string, unknown>;

  const sideConfig = (side: 'dmz' | 'airgapped'): { config: AppConfig; configFile: string } => {
    const doc = structuredClone(base) as {
      dataDir: string;
      temporal: Record<string, unknown>;
      web: Record<string, unknown>;
      sites: Record<string, unknown>[];
    };
    const dataDir = path.join(sim.dir, side);
    fs.mkdirSync(dataDir, { recursive: true });
    doc.dataDir = dataDir;
    doc.temporal = { ...doc.temporal, taskQueue: `${sim.tag}-${side}-control` };
    const site = doc.sites[0]!;
    site.mode = 'isolated';
    site.isolated = {
      side,
      installationId: `${side === 'dmz' ? 'dmz' : 'ag'}-${sim.tag}`,
      ...(side === 'dmz' ? { outboundFolder: medium } : { intakeFolder: medium }),
      keyFile: side === 'dmz' ? dmzKeys.priv : agKeys.priv,
      trust: [{ publicKeyFile: side === 'dmz' ? agKeys.pub : dmzKeys.pub }],
      ...(side === 'airgapped' ? options.airgappedIsolated : {}),
    };
    const configFile = path.join(dataDir, 'airgap.yaml');
    fs.writeFileSync(configFile, stringifyYaml(doc));
    return { config: parseConfig(doc, configFile), configFile };
  };

  const connection = await Connection.connect({ address: testTemporalAddress() });
  const client = new Client({ connection, namespace: TEST_NAMESPACE });
  const workerConnection = await NativeConnection.connect({ address: testTemporalAddress() });
  const makeSide = (side: 'dmz' | 'airgapped'): Side => {
    const { config, configFile } = sideConfig(side);
    return {
      config,
      configFile,
      audit: new SqliteAuditStore(path.join(config.dataDir, 'audit.sqlite')),
      outbox: OutboxMailer.inDataDir(config.dataDir, config.mail.from),
    };
  };
  const dmz = makeSide('dmz');
  const airgapped = makeSide('airgapped');
  const workersFor = (config: AppConfig, side: Side) =>
    createWorkerSet({
      config,
      connection: workerConnection,
      namespace: TEST_NAMESPACE,
      roles: options.relaysApart ? { ...allRoles(config), hosts: [] } : allRoles(config),
      // Each side holds only its own manager's API key (and its own link key): the other side's is out of reach.
      env: {
        [config.links.keyEnv]: sim.env[config.links.keyEnv],
        ...(config.sites[0]!.isolated!.side === 'dmz'
          ? { [SITE_KEY_ENV.dmz]: sim.env[SITE_KEY_ENV.dmz] }
          : { [SITE_KEY_ENV.airgapped]: sim.env[SITE_KEY_ENV.airgapped] }),
      },
      workflowBundle: { codePath: testWorkflowBundlePath() },
      mailer: side.outbox,
      audit: side.audit,
    });
  for (const side of [dmz, airgapped]) {
    side.workers = await workersFor(side.config, side);
    side.running = side.workers.run();
  }
  return {
    sim,
    client,
    medium,
    dmz,
    airgapped,
    keys: {
      dir: keyDir,
      dmzPublic: dmzKeys.pub,
      airgappedPublic: agKeys.pub,
      dmzPrivate: dmzKeys.priv,
      airgappedPrivate: agKeys.priv,
    },
    workersFor,
    async close() {
      for (const side of [dmz, airgapped]) {
        side.workers?.shutdown();
        await side.running?.catch(() => undefined);
      }
      await workerConnection.close();
      for (const side of [dmz, airgapped]) {
        await side.outbox.close();
        await side.audit.close();
      }
      await connection.close();
      await sim.close();
    },
  };
}

/**
 * The air-gapped side's intake of the one package folder `folder`, offered as the courier; the
 * handle of the intake run it started (a test fails here when the package was not taken in).
 */
export async function offerPackage(
  s: IsolatedStack,
  folder: string,
  config: AppConfig = s.airgapped.config,
): Promise<WorkflowHandle> {
  const [o] = await intakePass({ client: s.client, config, skip: (f) => f !== folder, by: 'courier@plant.example' });
  expect(o).toMatchObject({ kind: 'package', status: 'started' });
  return s.client.workflow.getHandle(o!.workflowId!);
}

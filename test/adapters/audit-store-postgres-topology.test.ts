/**
 * The production topology, each part its own process: the test run's Temporal dev server standing
 * in for the cluster, TWO `airgap worker --control`, one `airgap worker --host <relay>` per
 * relay, one `airgap web`, the simulator, and the audit in PostgreSQL. A cycle is driven by its
 * mail link; the control worker that holds the cycle's workflow task is killed with SIGKILL while
 * the import is polled. The cycle completes on the other, with one import, every audit event
 * once, a verified chain, and the web app showing the run from PostgreSQL.
 * Workers and web run from dist/ (build first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ParsedMail } from 'mailparser';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { PostgresAuditStore } from '../../src/adapters/audit-store-postgres';
import { carryBundle } from '../../src/sim';
import { relayImports } from '../helpers/cycle-assert';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';
import { LinkClient } from '../helpers/link-client';
import { startPostgres, type PostgresCluster } from '../helpers/postgres';
import { actionUrl } from '../helpers/smtp-catcher';

jest.setTimeout(180_000);

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'airgap.js');

interface Child {
  name: string;
  process: ChildProcess;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

let cluster: PostgresCluster;
let stack: CycleStack;
let audit: PostgresAuditStore;
let configFile: string;
let env: NodeJS.ProcessEnv;
const children: Child[] = [];

function start(name: string, args: string[]): Child {
  let output = '';
  const child = spawn(process.execPath, [BIN, '--config', configFile, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const c: Child = {
    name,
    process: child,
    output: () => output,
    kill: (signal) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
  children.push(c);
  return c;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) {
      throw new Error(
        `${what} did not happen in ${timeoutMs} ms\n${children.map((c) => `--- ${c.name}\n${c.output()}`).join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  cluster = await startPostgres();
  const db = cluster.createDatabase();
  audit = await PostgresAuditStore.open({ url: db.url });
  stack = await startCycleStack({ workers: false, importDelayMs: 4000, waits: { pollInterval: '500ms' }, audit });
  const document = parseYaml(fs.readFileSync(stack.configFile, 'utf8')) as Record<string, unknown>;
  document.audit = { store: 'postgres', postgres: { urlEnv: 'AIRGAP_AUDIT_DATABASE_URL' } };
  configFile = path.join(stack.dir, 'topology.yaml');
  fs.writeFileSync(configFile, stringifyYaml(document));
  env = {
    ...stack.env,
    AIRGAP_AUDIT_DATABASE_URL: db.url,
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_NAMESPACE: TEST_NAMESPACE,
  };
}, 90_000);

afterAll(async () => {
  for (const c of children) await c.kill('SIGTERM');
  await stack?.close();
  cluster?.remove();
});

describe('every part its own process, the audit in PostgreSQL', () => {
  it('completes a cycle by mail link across a control worker killed during the import poll', async () => {
    const control = [start('control-1', ['worker', '--control']), start('control-2', ['worker', '--control'])];
    const relays = [stack.site.dmz.relay, ...stack.site.airgapped.relays];
    for (const relay of relays) start(`host ${relay.name}`, ['worker', '--host', relay.name]);
    start('web', ['web']);
    const webUrl = `http://127.0.0.1:${stack.config.web.port}`;
    await until('the web app answering', async () => ((await fetch(`${webUrl}/healthz`)).ok ? true : undefined));
    await until('every worker polling', async () =>
      children.filter((c) => c.name !== 'web').every((c) => /worker running/.test(c.output())) ? true : undefined,
    );

    stack.sim.control.publishUpdate();
    const handle = await stack.startCycle();
    const view = await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer', 60_000);
    const mail = await until('the transfer mail', async () => {
      const found = (await stack.outbox.list()).find(
        (m) => m.workflowId === handle.workflowId && m.purpose === 'transfer-instructions',
      );
      return found && stack.outbox.get(found.id);
    });
    const copiedUrl = actionUrl({ text: mail.text, subject: mail.subject } as ParsedMail, 'File copied');
    await carryBundle({ bundlePath: view.bundle!.path, relays: stack.site.airgapped.relays });
    const operator = new LinkClient();
    const { csrf } = await operator.formOf(copiedUrl);
    expect((await operator.post(copiedUrl, { csrf, sha256: view.bundle!.sha256 })).heading).toBe('Done');

    // In the import poll: which control worker completed the cycle's last workflow task?
    await stack.waitFor(handle, (v) => v.timeline.some((e) => e.type === 'import.triggered'));
    const history = await handle.fetchHistory();
    const identities = (history.events ?? [])
      .map((e) => e.workflowTaskCompletedEventAttributes?.identity)
      .filter((id): id is string => !!id);
    const holderPid = Number(identities.at(-1)!.split('@')[0]);
    const holder = control.find((c) => c.process.pid === holderPid);
    expect(holder).toBeDefined();
    await holder!.kill('SIGKILL');

    const result = await handle.result();
    expect(result.state).toBe('completed');
    expect(relayImports(stack)).toEqual({ [stack.site.airgapped.relays[0]!.name]: 1 });
    const after = await handle.fetchHistory();
    const later = (after.events ?? [])
      .map((e) => e.workflowTaskCompletedEventAttributes?.identity)
      .filter((id): id is string => !!id);
    expect(later.at(-1)).not.toBe(identities.at(-1)); // finished by the other control worker

    const timeline = await audit.timeline(handle.workflowId);
    expect(new Set(timeline.map((r) => r.id)).size).toBe(timeline.length);
    for (const once of ['cycle.started', 'bundle.built', 'human.file-copied', 'import.completed', 'cycle.ended']) {
      expect(timeline.filter((r) => r.type === once).map((r) => r.type)).toEqual([once]);
    }
    expect(timeline.find((r) => r.type === 'human.file-copied')?.actor?.channel).toBe('link');
    expect(await audit.verify()).toMatchObject({ ok: true });

    const page = await fetch(`${webUrl}/history`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(handle.workflowId);
    expect(fs.existsSync(path.join(stack.dir, 'audit.sqlite'))).toBe(false);
  });
});

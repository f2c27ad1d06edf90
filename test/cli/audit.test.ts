import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { Client, Connection } from '@temporalio/client';
import type { AuditEvent } from '../../src/domain/audit';
import { recordsFromCsv, recordsFromJson } from '../../src/domain/audit-format';
import { auditStoreFile, SqliteAuditStore } from '../../src/adapters/audit-store';
import { main } from '../../src/cli/main';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';

const DAY = 86_400_000;
let dir: string;
let configFile: string;
let storeFile: string;

function writeConfig(extra = ''): void {
  const site = (id: string, threshold: string) => `
  - id: ${id}
    protectionAgeThreshold: ${threshold}
    dmz:
      manager: { url: 'https://dmz-${id}.example:4119/api', apiKeyEnv: DMZ_KEY }
      relay: { name: ${id}-dmz-relay, computerId: 1 }
    airgapped:
      manager: { url: 'https://ag-${id}.example:4119/api', apiKeyEnv: AG_KEY }
      relays: [{ name: ${id}-ag-relay, computerId: 2 }]
    people: { operators: [ops@${id}.example] }`;
  fs.writeFileSync(configFile, `dataDir: ./data\n${extra}sites:${site('north', '8d')}${site('south', '8d')}\n`);
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-cli-'));
  configFile = path.join(dir, 'airgap.yaml');
  storeFile = auditStoreFile(path.join(dir, 'data'));
  writeConfig();
});

afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `airgap --config <file> …args` in-process; returns exit code and what it printed. */
async function airgap(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  try {
    const code = await main(['node', 'airgap', '--config', configFile, ...args]);
    return { code, stdout, stderr };
  } finally {
    jest.restoreAllMocks();
  }
}

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

async function record(events: Partial<AuditEvent>[]): Promise<void> {
  const store = new SqliteAuditStore(storeFile);
  try {
    for (const [i, e] of events.entries()) {
      await store.append({
        id: `${e.workflowId}/${e.type}/${i}`,
        workflowId: 'wf',
        site: 'north',
        kind: 'cycle',
        type: 'step.done',
        at: ago(DAY),
        ...e,
      } as AuditEvent);
    }
  } finally {
    await store.close();
  }
}

/** North imported 2 days ago; south's last import is 10 days old; an upgrade is still open. */
async function history(): Promise<void> {
  await record([
    { workflowId: 'cycle-north-1', type: 'cycle.started', at: ago(2 * DAY + 3_600_000) },
    {
      workflowId: 'cycle-north-1',
      type: 'bundle.built',
      at: ago(2 * DAY + 1_800_000),
      data: { sha256: 'ab'.repeat(32) },
    },
    { workflowId: 'cycle-north-1', type: 'import.completed', at: ago(2 * DAY) },
    { workflowId: 'cycle-north-1', type: 'cycle.ended', at: ago(2 * DAY), outcome: 'completed' },
    { workflowId: 'cycle-south-1', site: 'south', type: 'cycle.started', at: ago(10 * DAY + 60_000) },
    { workflowId: 'cycle-south-1', site: 'south', type: 'cycle.ended', at: ago(10 * DAY), outcome: 'completed' },
    { workflowId: 'cycle-south-2', site: 'south', type: 'cycle.started', at: ago(DAY + 60_000) },
    { workflowId: 'cycle-south-2', site: 'south', type: 'cycle.ended', at: ago(DAY), outcome: 'failed' },
    { workflowId: 'upgrade-north-1', kind: 'upgrade', type: 'upgrade.started', at: ago(3_600_000) },
  ]);
}

describe('airgap audit list', () => {
  it('shows runs newest first and each site’s protection age, with a notice past its threshold', async () => {
    await history();
    const { code, stdout } = await airgap('audit', 'list');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^STARTED\s+SITE\s+KIND\s+OUTCOME\s+ENDED\s+BUNDLE\s+LAST EVENT\s+WORKFLOW$/);
    expect(lines.slice(1, 5).map((l) => l.split(/\s+/).pop())).toEqual([
      'upgrade-north-1',
      'cycle-south-2',
      'cycle-north-1',
      'cycle-south-1',
    ]);
    expect(lines[1]).toContain(' open ');
    expect(lines[3]).toContain('abababababab');
    expect(stdout).toMatch(/north\s+2d\s+last import \S+ \(cycle-north-1\)\n/);
    expect(stdout).toMatch(/south\s+10d\s+last import \S+ \(cycle-south-1\)\s+NOTICE: over the 8d threshold/);
  });

  it('says when a site has no successful import at all', async () => {
    await record([{ workflowId: 'cycle-north-1', type: 'cycle.started' }]);
    const { stdout } = await airgap('audit', 'list', '--site', 'south');
    expect(stdout).toContain('No runs match.');
    expect(stdout).toMatch(/south\s+-\s+NOTICE: no successful import recorded/);
    expect(stdout).not.toMatch(/^north/m);
  });

  it('filters by site, kind, outcome and start time', async () => {
    await history();
    const ids = async (...flags: string[]) => {
      const { stdout } = await airgap('audit', 'list', '--format', 'json', ...flags);
      return (JSON.parse(stdout) as { runs: { workflowId: string }[] }).runs.map((r) => r.workflowId);
    };
    expect(await ids('--site', 'south')).toEqual(['cycle-south-2', 'cycle-south-1']);
    expect(await ids('--kind', 'upgrade')).toEqual(['upgrade-north-1']);
    expect(await ids('--outcome', 'failed')).toEqual(['cycle-south-2']);
    expect(await ids('--outcome', 'open')).toEqual(['upgrade-north-1']);
    expect(await ids('--since', '5d', '--until', '1d')).toEqual(['cycle-south-2', 'cycle-north-1']);
    expect(await ids('--since', ago(20 * DAY).slice(0, 10), '--limit', '1')).toEqual(['upgrade-north-1']);
  });

  it('gives machines JSON with --json and CSV with --format csv', async () => {
    await history();
    const json = JSON.parse((await airgap('--json', 'audit', 'list')).stdout) as {
      runs: unknown[];
      protection: { site: string; over: boolean }[];
    };
    expect(json.runs).toHaveLength(4);
    expect(json.protection.map((p) => [p.site, p.over])).toEqual([
      ['north', false],
      ['south', true],
    ]);
    const csv = (await airgap('audit', 'list', '--format', 'csv')).stdout.trimEnd().split('\r\n');
    expect(csv[0]).toBe('workflowId,runId,site,kind,started,ended,outcome,sha256,lastSeq,lastType,lastAt,events');
    expect(csv).toHaveLength(5);
  });

  it.each([
    [['--kind', 'deploy'], '--kind: "deploy" is not one of cycle, upgrade, rules, harden'],
    [['--since', 'yesterday'], '--since: "yesterday" is not a date'],
    [['--until', '2025-13-45'], '--until: "2025-13-45" is not a date'],
    [['--since', '2025-05-01T06:00:00'], '--since: "2025-05-01T06:00:00" is not a date'],
    [['--since', '1d', '--until', '2d'], '--since 1d is not before --until 2d'],
    [['--format', 'xml'], '--format: "xml" is not one of table, json, csv'],
    [['--limit', '0'], '--limit: "0" is not a positive whole number'],
  ])('refuses %j with exit 1 and a message naming the flag', async (flags, message) => {
    const { code, stderr } = await airgap('audit', 'list', ...flags);
    expect(code).toBe(1);
    expect(stderr).toContain(message);
  });

  it('reads an absent store as empty without creating one', async () => {
    const { code, stdout, stderr } = await airgap('audit', 'list');
    expect(code).toBe(0);
    expect(stdout).toContain('No runs match.');
    expect(stderr).toContain('no audit store at');
    expect(fs.existsSync(storeFile)).toBe(false);
  });
});

describe('airgap audit show', () => {
  it('prints the timeline of one workflow with actors and data', async () => {
    await history();
    await record([
      {
        workflowId: 'cycle-north-1',
        type: 'human.file-copied',
        actor: { who: 'ann@north.example', channel: 'link', address: '10.1.2.3' },
        data: { relays: ['north-ag-relay'] },
      },
    ]);
    const { code, stdout } = await airgap('audit', 'show', 'cycle-north-1');
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^cycle-north-1 {2}site north {2}cycle {2}started \S+ {2}ended \S+ completed {2}bundle (ab){32}/,
    );
    expect(stdout).toMatch(
      /human\.file-copied\s+ann@north\.example \(link 10\.1\.2\.3\)\s+\{"relays":\["north-ag-relay"\]\}/,
    );
    expect(stdout.trimEnd().split('\n')).toHaveLength(7);
  });

  it('fails naming a workflow that has no records', async () => {
    await history();
    const { code, stderr } = await airgap('audit', 'show', 'cycle-nowhere');
    expect(code).toBe(1);
    expect(stderr).toContain('no audit records for workflow "cycle-nowhere"');
  });
});

describe('airgap audit export and verify', () => {
  it('exports to a file that reads back as the store’s records and verifies on its own', async () => {
    await history();
    const out = path.join(dir, 'audit.csv');
    const exported = await airgap('audit', 'export', '--format', 'csv', '--out', out);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/^exported 9 audit records to .*audit\.csv; head 9:[0-9a-f]{64}\n$/);
    const store = new SqliteAuditStore(storeFile);
    const stored = [];
    for await (const r of store.export()) stored.push(r);
    await store.close();
    expect(recordsFromCsv(fs.readFileSync(out, 'utf8'))).toEqual(stored);
    expect(fs.existsSync(`${out}.partial`)).toBe(false);

    const viaStdout = await airgap('audit', 'export');
    expect(recordsFromJson(viaStdout.stdout)).toEqual(stored);

    const offline = await airgap('audit', 'verify', '--file', out);
    expect(offline.stdout).toContain(`${out} ok: 9 records`);
  });

  it('prints the head to keep elsewhere, and later fails naming the first record cut after it', async () => {
    await history();
    const ok = await airgap('audit', 'verify');
    expect(ok.code).toBe(0);
    const head = /head (\d+:[0-9a-f]{64})/.exec(ok.stdout)![1]!;
    expect(head.startsWith('9:')).toBe(true);
    expect(ok.stdout).toContain(`airgap audit verify --expect-head ${head}`);

    // Cut the tail and the in-file anchor together: only the kept head still tells.
    const db = new Database(storeFile);
    db.exec(`DROP TRIGGER audit_records_no_delete; DELETE FROM audit_records WHERE seq > 7;`);
    db.prepare('UPDATE audit_head SET seq = 7, hash = (SELECT hash FROM audit_records WHERE seq = 7)').run();
    db.close();
    const cut = await airgap('audit', 'verify', '--expect-head', head);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toContain('broken at record 8 (truncated)');
  });

  it('fails with exit 1 naming the first changed record, and with --json says so on stdout too', async () => {
    await history();
    const db = new Database(storeFile);
    db.exec(`DROP TRIGGER audit_records_no_update; UPDATE audit_records SET outcome = 'completed' WHERE seq = 8;`);
    db.close();
    const { code, stdout, stderr } = await airgap('--json', 'audit', 'verify');
    expect(code).toBe(1);
    expect(stderr).toContain('audit chain is broken at record 8 (changed)');
    expect(JSON.parse(stdout)).toMatchObject({ details: { ok: false, firstBad: { seq: 8, reason: 'changed' } } });
  });

  it('refuses a malformed --expect-head, naming the flag and value', async () => {
    const { code, stderr } = await airgap('audit', 'verify', '--expect-head', 'abc');
    expect(code).toBe(1);
    expect(stderr).toContain('--expect-head: "abc" is not an audit head');
  });
});

describe('airgap audit reconcile', () => {
  it('records the end of a run terminated in Temporal', async () => {
    const [host, port] = testTemporalAddress().split(':');
    expect(host).toBe('127.0.0.1');
    writeConfig(`temporal: { namespace: ${TEST_NAMESPACE}, embedded: { port: ${port} } }\n`);
    const connection = await Connection.connect({ address: testTemporalAddress() });
    const saved = process.env.TEMPORAL_ADDRESS;
    delete process.env.TEMPORAL_ADDRESS;
    try {
      const client = new Client({ connection, namespace: TEST_NAMESPACE });
      const workflowId = `audit-cli-${randomUUID()}`;
      const handle = await client.workflow.start('auditProbe', { taskQueue: `audit-cli-${randomUUID()}`, workflowId });
      await record([{ workflowId, runId: handle.firstExecutionRunId, type: 'cycle.started' }]);
      await handle.terminate('from the UI');
      const { code, stdout } = await airgap('audit', 'reconcile');
      expect(code).toBe(0);
      expect(stdout).toBe(`${workflowId}: recorded cycle.ended terminated\n`);
    } finally {
      if (saved !== undefined) process.env.TEMPORAL_ADDRESS = saved;
      await connection.close();
    }
  });
});

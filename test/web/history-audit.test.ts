/**
 * The web app over a real audit store: the History Kind filter offers exactly the kinds the audit
 * records (each of which can match), and a link action refused by the run is audited with who,
 * the link channel, the address and the reason.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { SqliteAuditStore } from '../../src/adapters/audit-store';
import { AUDIT_KINDS, type AuditKind } from '../../src/domain/audit';
import { createApp } from '../../src/web/app';
import { noAuth } from '../../src/web/auth';
import { createTemporalActionGateway } from '../../src/web/temporal-gateway';
import { createHistoryProvider } from '../../src/web/temporal-providers';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';
import { KEYS, NOW, payloadFor, RecordingGateway } from './support';

let dir: string;
let store: SqliteAuditStore;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'web-history-'));
  store = new SqliteAuditStore(path.join(dir, 'audit.sqlite'));
  const at = new Date(NOW - 86_400_000).toISOString();
  for (const kind of AUDIT_KINDS) {
    await store.append({
      id: `${kind}/1`,
      workflowId: `${kind}-demo-1`,
      site: 'demo',
      kind,
      type: `${kind}.started`,
      at,
    });
    await store.append({
      id: `${kind}/2`,
      workflowId: `${kind}-demo-1`,
      site: 'demo',
      kind,
      type: `${kind}.ended`,
      at,
      outcome: 'completed',
    });
  }
  await store.append({
    id: 'open/1',
    workflowId: 'cycle-demo-open',
    site: 'demo',
    kind: 'cycle',
    type: 'cycle.started',
    at,
  });
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function app() {
  return createApp({
    actions: new RecordingGateway(),
    keys: KEYS,
    auth: noAuth(),
    now: () => NOW,
    history: createHistoryProvider(store),
    sites: [{ id: 'demo', name: 'Demo' }],
  });
}

async function page(url: string): Promise<string> {
  const res = await app().request(url);
  expect(res.status).toBe(200);
  return res.text();
}

describe('History', () => {
  it('offers exactly the kinds the audit holds in its Kind filter, and each one finds its runs', async () => {
    const select = /<select id="f-kind" name="kind">([\s\S]*?)<\/select>/.exec(await page('/history'))![1]!;
    const offered = [...select.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]).filter(Boolean);
    const held = [...new Set((await store.list()).map((r) => r.kind))].sort();
    expect([...offered].sort()).toEqual(held);
    expect(offered).toEqual(AUDIT_KINDS);
    for (const kind of offered as AuditKind[]) {
      const body = await page(`/history?kind=${kind}`);
      expect(body).toContain(`${kind}-demo-1`);
      expect(body).not.toContain('No run matches');
    }
  });

  it('finds the runs without an end under the outcome "running"', async () => {
    const body = await page('/history?outcome=running');
    expect(body).toContain('cycle-demo-open');
    expect(body).not.toContain('cycle-demo-1');
  });
});

describe('a refused link action', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await Connection.connect({ address: testTemporalAddress() });
  });
  afterAll(() => connection.close());

  it('is audited with who, the link channel, the address and the reason', async () => {
    const workflowId = `cycle-demo-${randomUUID()}`;
    await store.append({
      id: `${workflowId}/1`,
      workflowId,
      site: 'demo',
      kind: 'cycle',
      type: 'cycle.started',
      at: new Date(NOW).toISOString(),
    });
    const gateway = createTemporalActionGateway(new Client({ connection, namespace: TEST_NAMESPACE }), {
      audit: store,
    });
    const payload = payloadFor('file-copied', { workflowId });
    const outcome = await gateway.perform(payload, {
      tokenId: randomUUID(),
      confirmedSha256: 'ab'.repeat(32),
      address: '10.0.0.9',
    });
    expect(outcome.outcome).toBe('refused');
    const refused = (await store.timeline(workflowId)).filter((r) => r.type === 'action.refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]!.actor).toEqual({ who: payload.recipient, channel: 'link', address: '10.0.0.9' });
    expect(refused[0]!.data).toMatchObject({ action: 'file-copied', reason: outcome.message });
    // The refusal's code is recorded as data beside the sentence.
    expect(outcome.code).toBe('ended');
    expect(refused[0]!.data).toMatchObject({ code: 'ended' });
    expect((await store.verify()).ok).toBe(true);
  });
});

describe('a link to a run whose worker is down', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await Connection.connect({ address: testTemporalAddress() });
  });
  afterAll(() => connection.close());

  it('is answered "Temporal did not answer" within the query deadline instead of hanging', async () => {
    const client = new Client({ connection, namespace: TEST_NAMESPACE });
    const orphan = await client.workflow.start('cycleWorkflow', {
      taskQueue: `nobody-polls-${randomUUID()}`,
      workflowId: `cycle-demo-orphan-${randomUUID()}`,
      args: [{ site: 'demo' }],
    });
    try {
      const gateway = createTemporalActionGateway(client, { audit: store });
      await expect(
        gateway.describe(payloadFor('file-copied', { workflowId: orphan.workflowId }), randomUUID()),
      ).rejects.toThrow(/Temporal did not answer/);
    } finally {
      await orphan.terminate('test over');
    }
  }, 30_000);
});

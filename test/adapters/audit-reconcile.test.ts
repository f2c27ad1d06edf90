import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { AuditEvent } from '../../src/domain/audit';
import { SqliteAuditStore } from '../../src/adapters/audit-store';
import { describeWithTemporal, reconcileTerminated, type DescribeRun } from '../../src/adapters/audit-reconcile';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';

let dir: string;
let store: SqliteAuditStore;
const now = new Date('2025-06-01T12:00:00.000Z');

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-reconcile-'));
  store = new SqliteAuditStore(path.join(dir, 'audit.sqlite'));
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const started = (workflowId: string, runId?: string, kind: AuditEvent['kind'] = 'cycle'): AuditEvent => ({
  id: `${workflowId}/1`,
  workflowId,
  runId,
  site: 'north',
  kind,
  type: `${kind}.started`,
  at: '2025-06-01T06:00:00Z',
});

describe('reconciling runs that ended without a record', () => {
  it('records how Temporal says each closed run ended, and leaves running ones open', async () => {
    for (const id of ['terminated', 'timed-out', 'completed', 'running', 'forgotten']) {
      await store.append(started(id, `run-${id}`, id === 'timed-out' ? 'upgrade' : 'cycle'));
    }
    const closeTime = new Date('2025-06-01T07:00:00.000Z');
    const describe: DescribeRun = async (workflowId, runId) => {
      expect(runId).toBe(`run-${workflowId}`);
      return (
        {
          terminated: { status: 'TERMINATED', closeTime },
          'timed-out': { status: 'TIMED_OUT', closeTime },
          completed: { status: 'COMPLETED', closeTime },
          running: { status: 'RUNNING' },
        } as const
      )[workflowId as 'running'];
    };
    const appended = await reconcileTerminated(store, describe, now);
    expect(appended.map((r) => [r.workflowId, r.type, r.outcome, r.at])).toEqual([
      ['completed', 'cycle.ended', 'unrecorded', closeTime.toISOString()],
      ['forgotten', 'cycle.ended', 'not-found', now.toISOString()],
      ['terminated', 'cycle.ended', 'terminated', closeTime.toISOString()],
      ['timed-out', 'upgrade.ended', 'timed-out', closeTime.toISOString()],
    ]);
    expect(appended[2]).toMatchObject({
      runId: 'run-terminated',
      actor: { who: 'reconciler', channel: 'system' },
      data: { temporalStatus: 'TERMINATED', reconciledAt: now.toISOString(), lastEvent: 'cycle.started' },
    });
    expect(await store.openRunsWithoutEnd()).toEqual(['running']);
    // A run Temporal completed without its own end record proves no import.
    expect(await store.lastSuccessfulImport('north')).toBeUndefined();
  });

  it('does nothing on a second pass, and its records are part of the verified chain', async () => {
    await store.append(started('wf'));
    const describe: DescribeRun = async () => ({ status: 'TERMINATED', closeTime: now });
    expect(await reconcileTerminated(store, describe, now)).toHaveLength(1);
    expect(await reconcileTerminated(store, describe, now)).toEqual([]);
    expect(await store.verify()).toMatchObject({ ok: true, count: 2 });
  });
});

describe('reconciling against a real Temporal server', () => {
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    connection = await Connection.connect({ address: testTemporalAddress() });
    client = new Client({ connection, namespace: TEST_NAMESPACE });
  });

  afterAll(async () => {
    await connection.close();
  });

  it('closes the run terminated from outside and keeps the one still running open', async () => {
    // No worker polls this queue: the runs simply stay open until terminated.
    const taskQueue = `audit-reconcile-${randomUUID()}`;
    const [gone, alive] = [`audit-terminated-${randomUUID()}`, `audit-running-${randomUUID()}`];
    const handles = await Promise.all(
      [gone, alive].map((workflowId) => client.workflow.start('auditProbe', { taskQueue, workflowId })),
    );
    for (const h of handles) await store.append(started(h.workflowId, h.firstExecutionRunId));
    await handles[0]!.terminate('operator terminated it from the UI');
    try {
      const appended = await reconcileTerminated(store, describeWithTemporal(client), now);
      const closeTime = (await handles[0]!.describe()).closeTime!;
      expect(appended.map((r) => [r.workflowId, r.outcome, r.at])).toEqual([
        [gone, 'terminated', closeTime.toISOString()],
      ]);
      expect(await store.openRunsWithoutEnd()).toEqual([alive]);
    } finally {
      await handles[1]!.terminate('test over');
    }
  });

  it('reports a workflow Temporal never knew (or has forgotten) as not found', async () => {
    const describe = describeWithTemporal(client);
    expect(await describe(`audit-never-${randomUUID()}`)).toBeUndefined();
  });
});

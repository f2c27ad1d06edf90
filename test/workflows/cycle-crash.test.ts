/**
 * Faults a cycle must survive: its worker killed in the middle of the import, and (in its own
 * dev server) the Temporal server restarted while the cycle waits for a person.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startDevServer, freePort } from '../../src/runtime/dev-server';
import { ensureNamespace } from '../../src/runtime/temporal-setup';
import { carryBundle } from '../../src/sim';
import { allRoles, createWorkerSet } from '../../src/worker';
import { cycleStateQuery, fileCopiedUpdate } from '../../src/workflows/cycle-messages';
import { relayImports } from '../helpers/cycle-assert';
import { spawnWorker } from '../helpers/child-worker';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { TEST_NAMESPACE, testWorkflowBundlePath } from '../helpers/env';

jest.setTimeout(120_000);

describe('a worker killed during the import', () => {
  let stack: CycleStack;
  beforeAll(async () => {
    stack = await startCycleStack({ workers: false, importDelayMs: 3000, waits: { pollInterval: '500ms' } });
  });
  afterAll(() => stack.close());

  it('resumes on a new worker and the relay imports exactly once', async () => {
    const first = spawnWorker(stack.configFile, stack.env);
    stack.sim.control.publishUpdate();
    const handle = await stack.startCycle();
    const view = await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer', 60_000);
    await carryBundle({ bundlePath: view.bundle!.path, relays: stack.site.airgapped.relays });
    await handle.executeUpdate(fileCopiedUpdate, { args: [{ by: 'op@plant.example', sha256: view.bundle!.sha256 }] });
    await stack.waitFor(handle, (v) => v.timeline.some((e) => e.type === 'import.triggered'));
    await first.kill('SIGKILL');

    const second = spawnWorker(stack.configFile, stack.env);
    try {
      const result = await handle.result();
      expect(result.state).toBe('completed');
    } finally {
      await second.kill('SIGTERM');
    }
    expect(Object.values(relayImports(stack))).toEqual([1]);
    const records = await stack.audit.timeline(handle.workflowId);
    expect(records.filter((r) => r.type === 'import.completed')).toHaveLength(1);
    expect(records.filter((r) => r.type === 'cycle.ended')).toHaveLength(1);
  });
});

describe('the Temporal server restarted while a cycle waits for a person', () => {
  it('keeps the cycle waiting across the restart, then completes it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-restart-'));
    const port = await freePort();
    const serverOptions = { dbFile: path.join(dir, 'temporal.db'), port, logFile: path.join(dir, 'server.log') };
    let server = await startDevServer(serverOptions);
    const stack = await startCycleStack({ workers: false });
    const address = server.address;
    const admin = await Connection.connect({ address });
    await ensureNamespace(admin, TEST_NAMESPACE, 30 * 86_400_000);
    await admin.close();
    const workerConnection = await NativeConnection.connect({ address });
    const workers = await createWorkerSet({
      config: stack.config,
      connection: workerConnection,
      namespace: TEST_NAMESPACE,
      roles: allRoles(stack.config),
      env: stack.env,
      workflowBundle: { codePath: testWorkflowBundlePath() },
      mailer: stack.outbox,
      audit: stack.audit,
    });
    const running = workers.run();
    try {
      let connection = await Connection.connect({ address });
      let client = new Client({ connection, namespace: TEST_NAMESPACE });
      stack.sim.control.publishUpdate();
      const handle = await client.workflow.start('cycleWorkflow', {
        taskQueue: stack.config.temporal.taskQueue,
        workflowId: `cycle-restart-${Date.now()}`,
        args: [{ site: 'plant' }],
      });
      const waitState = async (c: Client, state: string) => {
        for (let i = 0; i < 300; i++) {
          const v = await c.workflow
            .getHandle(handle.workflowId)
            .query(cycleStateQuery)
            .catch(() => undefined);
          if (v?.state === state) return v;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`cycle never reached ${state}`);
      };
      const view = await waitState(client, 'awaiting-transfer');
      await connection.close();

      await server.stop();
      server = await startDevServer(serverOptions);
      connection = await Connection.connect({ address });
      client = new Client({ connection, namespace: TEST_NAMESPACE });
      const after = await waitState(client, 'awaiting-transfer');
      expect(after.bundle!.sha256).toBe(view.bundle!.sha256);

      await carryBundle({ bundlePath: view.bundle!.path, relays: stack.site.airgapped.relays });
      await client.workflow
        .getHandle(handle.workflowId)
        .executeUpdate(fileCopiedUpdate, { args: [{ by: 'op@plant.example', sha256: view.bundle!.sha256 }] });
      const result = await client.workflow.getHandle(handle.workflowId).result();
      expect(result.state).toBe('completed');
      await connection.close();
    } finally {
      workers.shutdown();
      await running.catch(() => undefined);
      await workerConnection.close();
      await stack.close();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

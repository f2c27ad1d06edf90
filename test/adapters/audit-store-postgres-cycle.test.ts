/**
 * A whole update cycle writing its audit to PostgreSQL, with the database restarted in the middle:
 * the workflow's audit writes (a local activity retried with back-off) wait for it and continue,
 * and because an append is idempotent by the event's id nothing is lost or written twice.
 * Real Temporal (the run's dev server), real workers, the simulator, a real PostgreSQL.
 */
import { PostgresAuditStore } from '../../src/adapters/audit-store-postgres';
import { carryBundle } from '../../src/sim';
import { fileCopiedUpdate } from '../../src/workflows/cycle-messages';
import { digestPrefix, relayImports } from '../helpers/cycle-assert';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { startPostgres, type PostgresCluster } from '../helpers/postgres';

let cluster: PostgresCluster;
let stack: CycleStack;

beforeAll(async () => {
  cluster = await startPostgres();
  const audit = await PostgresAuditStore.open({ url: cluster.createDatabase().url });
  stack = await startCycleStack({ audit });
}, 90_000);

afterAll(async () => {
  await stack?.close();
  cluster?.remove();
});

describe('a cycle whose audit is in PostgreSQL', () => {
  it('waits while PostgreSQL restarts mid-cycle, then completes with every audit event exactly once', async () => {
    stack.sim.control.publishUpdate();
    const handle = await stack.startCycle();
    const waiting = await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer');
    const before = await stack.audit.timeline(handle.workflowId);
    expect(before.map((r) => r.type)).toContain('bundle.built');

    cluster.stop();
    let restarted = false;
    try {
      await carryBundle({ bundlePath: waiting.bundle!.path, relays: stack.site.airgapped.relays });
      // The person's confirmation arrives while the audit cannot be written.
      const confirming = handle.executeUpdate(fileCopiedUpdate, {
        args: [{ by: 'carrier@plant.example', sha256: digestPrefix(waiting.bundle!.sha256) }],
      });
      let confirmedAt = 0;
      void confirming.then(() => (confirmedAt = Date.now())).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 3000));
      const restartedAt = Date.now();
      cluster.start();
      restarted = true;
      expect((await confirming).accepted).toBe(true);
      // The premise: the confirmation's audit record waited for the database.
      expect(confirmedAt).toBeGreaterThanOrEqual(restartedAt);
    } finally {
      if (!restarted) cluster.start();
    }

    const result = await handle.result();
    expect(result.state).toBe('completed');
    expect(relayImports(stack)).toEqual({ [stack.site.airgapped.relays[0]!.name]: 1 });

    const timeline = await stack.audit.timeline(handle.workflowId);
    const types = timeline.map((r) => r.type);
    for (const once of ['cycle.started', 'bundle.built', 'human.file-copied', 'import.completed', 'cycle.ended']) {
      expect(types.filter((t) => t === once)).toEqual([once]);
    }
    expect(new Set(timeline.map((r) => r.id)).size).toBe(timeline.length);
    expect(timeline.at(-1)).toMatchObject({ type: 'cycle.ended', outcome: 'completed' });
    expect(await stack.audit.verify()).toMatchObject({ ok: true });
    expect((await stack.audit.run(handle.workflowId))?.outcome).toBe('completed');
  });
});

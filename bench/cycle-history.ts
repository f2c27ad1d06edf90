/**
 * Cycle benchmark 3 (bench/README.md, "Cycle"): history events (and bytes) of one cycle, against
 * Temporal's own limits — it warns at 10,240 events or 10 MiB of history and terminates a run at
 * 51,200 events or 50 MiB.
 *
 * Two cycles on two simulated sites of one Temporal server, both with an approval:
 *  - a full cycle where the people answer at once;
 *  - a cycle whose transfer waits a simulated week with reminders every 4 h and an escalation after
 *    a day (42 reminders, 1 escalation), time compressed 14,400 times: one reminder a second, the
 *    escalation after 6 s, the deadline after 48 s (8 simulated days); the copy is confirmed once
 *    the 42nd reminder has gone out.
 *
 *   node /tmp/bench-build/bench/cycle-history.js     (build: see bench/README.md)
 */
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { carryBundle } from '../src/sim';
import { allRoles, createWorkerSet, type WorkerSet } from '../src/worker';
import { approveUpdate, fileCopiedUpdate } from '../src/workflows/cycle-messages';
import { describeMachine, NAMESPACE, runBench, startBenchSite, startBenchTemporal, type BenchSite } from './cycle-kit';

const WARN_EVENTS = 10_240;
const WARN_BYTES = 10 * 1024 * 1024;
const REMINDERS = 42; // 7 days / 4 h
const EventType = temporal.api.enums.v1.EventType;
const percent = (ours: number, limit: number) => `${((100 * ours) / limit).toFixed(2)} %`;

async function runCycle(
  site: BenchSite,
  waitBeforeCopy: (handle: WorkflowHandle) => Promise<void>,
): Promise<{ events: number; bytes: number; byType: Map<string, number>; state: string; reminders: number }> {
  site.sim.control.publishUpdate();
  const handle = await site.startCycle();
  const waiting = await site.waitFor(handle, (v) => v.state === 'awaiting-transfer');
  await waitBeforeCopy(handle);
  await carryBundle({ bundlePath: waiting.bundle!.path, relays: site.site.airgapped.relays });
  await handle.executeUpdate(fileCopiedUpdate, {
    args: [{ by: 'operator@plant.example', sha256: waiting.bundle!.sha256 }],
  });
  await site.waitFor(handle, (v) => v.state === 'awaiting-approval');
  await handle.executeUpdate(approveUpdate, { args: [{ by: 'approver@plant.example' }] });
  const result = (await handle.result()) as { state: string };
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const byType = new Map<string, number>();
  for (const e of events) {
    const name = EventType[e.eventType ?? 0]!.replace(/^EVENT_TYPE_/, '');
    byType.set(name, (byType.get(name) ?? 0) + 1);
  }
  const timeline = (await site.audit.timeline(handle.workflowId)).map((r) => r.type);
  return {
    events: events.length,
    bytes: temporal.api.history.v1.History.encode(history).finish().length,
    byType,
    state: result.state,
    reminders: timeline.filter((t) => t === 'wait.reminder' || t === 'wait.escalation').length,
  };
}

runBench(async () => {
  console.log(`cycle history bench: ${describeMachine()}`);
  const dev = await startBenchTemporal('history-bench');
  const quick = await startBenchSite(dev, { approval: { policy: 'any' } });
  const week = await startBenchSite(dev, {
    approval: { policy: 'any' },
    waits: { reminderEvery: '1s', escalateAfter: '6s', deadline: '48s' },
  });
  const connection = await NativeConnection.connect({ address: dev.address });
  const sets: WorkerSet[] = [];
  for (const site of [quick, week]) {
    sets.push(
      await createWorkerSet({
        config: site.config,
        connection,
        namespace: NAMESPACE,
        roles: allRoles(site.config),
        env: site.env,
        workflowBundle: { codePath: dev.bundlePath },
        audit: site.audit,
      }),
    );
  }
  const running = Promise.all(sets.map((s) => s.run()));
  try {
    const [full, waited] = await Promise.all([
      runCycle(quick, async () => undefined),
      runCycle(week, async (handle) => {
        // Reminders are audited by the control worker's reminder activity (not noted in the timeline).
        const sent = async () =>
          (await week.audit.timeline(handle.workflowId)).filter((r) => r.type === 'wait.reminder').length;
        for (let i = 0; (await sent()) < REMINDERS && i < 1200; i++) await new Promise((r) => setTimeout(r, 100));
      }),
    ]);

    console.log(
      '\n| cycle | ended | events | history | events / 10,240 (warning) | bytes / 10 MiB (warning) |\n|---|---|---|---|---|---|',
    );
    for (const [name, r] of [
      ['full cycle, people answer at once', full],
      [`transfer waits a week: ${REMINDERS} reminders + 1 escalation`, waited],
    ] as const) {
      console.log(
        `| ${name} | ${r.state} | ${r.events} | ${(r.bytes / 1024).toFixed(1)} KiB | ${percent(r.events, WARN_EVENTS)} | ${percent(r.bytes, WARN_BYTES)} |`,
      );
    }
    const extra = waited.events - full.events;
    console.log(
      `\nthe week's ${waited.reminders} reminder/escalation notices cost ${extra} events: ${(extra / waited.reminders).toFixed(1)} per notice`,
    );
    const types = [...new Set([...full.byType.keys(), ...waited.byType.keys()])].sort(
      (a, b) => (waited.byType.get(b) ?? 0) - (waited.byType.get(a) ?? 0),
    );
    console.log('\n| event type | full cycle | week-long wait |\n|---|---|---|');
    for (const t of types) console.log(`| ${t} | ${full.byType.get(t) ?? 0} | ${waited.byType.get(t) ?? 0} |`);
  } finally {
    for (const s of sets) s.shutdown();
    await running.catch(() => undefined);
    await connection.close();
    await quick.close();
    await week.close();
    await dev.stop();
  }
});

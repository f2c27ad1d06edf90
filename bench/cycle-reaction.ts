/**
 * Cycle benchmark 1 (bench/README.md, "Cycle"): how soon verification starts after a "file copied"
 * Update is accepted, against a bare Query round trip to the same waiting cycle in the same run.
 *
 * One cycle on a simulated site; each sample is one "file copied" Update while nothing has arrived
 * on the relay, so the verification finds the file missing and the cycle waits for the transfer
 * again, ready for the next sample. "Verification starts" is the moment the air-gapped relay's
 * worker begins `inspectArrival` (its activities are wrapped to note the time; client and workers
 * share this process and its clock).
 *
 *   node /tmp/bench-build/bench/cycle-reaction.js [samples]     (build: see bench/README.md)
 */
import { performance } from 'node:perf_hooks';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createHostActivities } from '../src/activities/host-activities';
import { createHostOps } from '../src/adapters/host-ops';
import { hostTaskQueue, installDirOf } from '../src/domain/config';
import { carryBundle } from '../src/sim';
import { createWorkerSet } from '../src/worker';
import { fileCopiedUpdate, runStateQuery } from '../src/workflows/cycle-messages';
import {
  describeMachine,
  median,
  ms,
  NAMESPACE,
  percentile,
  ratio,
  runBench,
  startBenchSite,
  startBenchTemporal,
} from './cycle-kit';

const SAMPLES = Number(process.argv[2] ?? 50);
const WARMUP = 5;
const PAUSE_MS = Number(process.env.PAUSE_MS ?? 1000);

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const timeOf = (e: HistoryEvent) => Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6;

/**
 * Per "file copied" Update, from the history's own timestamps: how long the workflow task that took
 * it ran, and how long from the Update's acceptance until a relay worker started inspectArrival.
 */
function serverSide(events: HistoryEvent[]): { workflowTask: number; toStarted: number }[] {
  const out: { workflowTask: number; toStarted: number }[] = [];
  let taskStarted = 0;
  let taskMs = 0;
  let acceptedAt: number | undefined;
  const pending = new Map<string, { acceptedAt: number; workflowTask: number }>();
  for (const e of events) {
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        taskStarted = timeOf(e);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        taskMs = timeOf(e) - taskStarted;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        acceptedAt = timeOf(e);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        if (
          acceptedAt !== undefined &&
          e.activityTaskScheduledEventAttributes?.activityType?.name === 'inspectArrival'
        ) {
          pending.set(String(e.eventId), { acceptedAt, workflowTask: taskMs });
          acceptedAt = undefined;
        }
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const sample = pending.get(String(e.activityTaskStartedEventAttributes?.scheduledEventId));
        if (sample) out.push({ workflowTask: sample.workflowTask, toStarted: timeOf(e) - sample.acceptedAt });
        break;
      }
    }
  }
  return out;
}

runBench(async () => {
  console.log(`cycle reaction bench: ${SAMPLES} samples after ${WARMUP} warm-up, ${describeMachine()}`);
  const dev = await startBenchTemporal('reaction-bench');
  const site = await startBenchSite(dev);
  const relay = site.site.airgapped.relays[0]!;
  const connection = await NativeConnection.connect({ address: dev.address });
  const control = await createWorkerSet({
    config: site.config,
    connection,
    namespace: NAMESPACE,
    roles: { control: true, hosts: [site.site.dmz.relay.name], zones: [] },
    env: site.env,
    workflowBundle: { codePath: dev.bundlePath },
    audit: site.audit,
  });
  const verificationStarts: number[] = [];
  const hostActivities = createHostActivities(
    createHostOps({ name: relay.name, os: relay.os, installDir: installDirOf(relay) }),
  );
  const agRelay = await Worker.create({
    connection,
    namespace: NAMESPACE,
    taskQueue: hostTaskQueue(relay.name),
    activities: {
      ...hostActivities,
      inspectArrival(input: Parameters<typeof hostActivities.inspectArrival>[0]) {
        verificationStarts.push(performance.now());
        return hostActivities.inspectArrival(input);
      },
    },
  });
  const running = Promise.all([control.run(), agRelay.run()]);

  try {
    const handle = await site.startCycle();
    const waiting = await site.waitFor(handle, (v) => v.state === 'awaiting-transfer');
    const sha256 = waiting.bundle!.sha256;
    const queries: number[] = [];
    const accepted: number[] = [];
    const reactions: number[] = [];
    const total: number[] = [];

    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      // A person's "file copied" comes after hours of quiet, not right after the last verification.
      await new Promise((r) => setTimeout(r, PAUSE_MS));
      // Baseline first, on the same cycle in the same state: a Query to the worker and back.
      let t = performance.now();
      await handle.query(runStateQuery);
      const queryMs = performance.now() - t;

      const seen = verificationStarts.length;
      t = performance.now();
      await handle.executeUpdate(fileCopiedUpdate, { args: [{ by: 'operator@plant.example', sha256 }] });
      const acceptedAt = performance.now();
      while (verificationStarts.length === seen) await new Promise((r) => setImmediate(r));
      const startedAt = verificationStarts[seen]!;
      if (i >= WARMUP) {
        queries.push(queryMs);
        accepted.push(acceptedAt - t);
        reactions.push(startedAt - acceptedAt);
        total.push(startedAt - t);
      }
      // Nothing arrived: the cycle reports the copy missing and waits for the transfer again.
      await site.waitFor(
        handle,
        (v) => v.state === 'awaiting-transfer' && v.relays.every((r) => r.status === 'mismatch'),
      );
    }

    await carryBundle({ bundlePath: waiting.bundle!.path, relays: site.site.airgapped.relays });
    await handle.executeUpdate(fileCopiedUpdate, { args: [{ by: 'operator@plant.example', sha256 }] });
    const result = (await handle.result()) as { state: string };
    const history = await handle.fetchHistory();
    const events = history.events?.length ?? 0;
    // The same samples as the server recorded them; the last Update (the real copy) is left out.
    const server = serverSide(history.events ?? []).slice(WARMUP, WARMUP + SAMPLES);

    const row = (name: string, s: number[]) =>
      `| ${name} | ${ms(median(s))} | ${ms(percentile(s, 95))} | ${ratio(median(s), median(queries))} | ${ratio(percentile(s, 95), percentile(queries, 95))} |`;
    console.log('\n| measured | p50 | p95 | p50 / query p50 | p95 / query p95 |\n|---|---|---|---|---|');
    console.log(row('baseline: Query round trip (runState)', queries));
    console.log(row('"file copied" Update, sent → accepted', accepted));
    console.log(row('accepted → inspectArrival starts on the relay worker', reactions));
    console.log(row('sent → inspectArrival starts', total));
    console.log(
      row(
        'server: workflow task that takes the Update (handler, audit, scheduling)',
        server.map((x) => x.workflowTask),
      ),
    );
    console.log(
      row(
        'server: Update accepted → inspectArrival started',
        server.map((x) => x.toStarted),
      ),
    );
    console.log(
      `\ncycle ended ${result.state} after ${WARMUP + SAMPLES + 1} "file copied" Updates; history: ${events} events`,
    );
  } finally {
    control.shutdown();
    agRelay.shutdown();
    await running.catch(() => undefined);
    await connection.close();
    await site.close();
    await dev.stop();
  }
});

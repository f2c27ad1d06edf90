/**
 * Cycle benchmark 2 (bench/README.md, "Cycle"): many cycles waiting for the transfer at once on one
 * worker process, the memory that costs, and how long they take to drain once they are all told
 * "file copied".
 *
 * The workers (control, DMZ relay, air-gapped relay: createWorkerSet with every role) run in a
 * child process of their own, so its memory is theirs alone; the simulator, the client and the
 * Temporal dev server are elsewhere.
 *
 * A lighter config than 500 simulated sites: the workers' config holds the one simulated site under
 * 500 more ids (the cycle's site lock is per site id, so each id can have its cycle open). They
 * share the simulated managers and relays, which a real config refuses (relay host names are unique
 * per site) and which is what keeps this to 3 workers and 2 simulated managers. Each cycle builds
 * its own bundle (its own zip name), so no two cycles share a file. Baselines from the same run:
 * the worker process idle, one cycle alone from "file copied" to completion, and as many one-activity
 * workflows (bench/baseline-workflows.ts: wait for a signal, run one control activity) drained the
 * same way on the same workers after the cycles.
 *
 *   node /tmp/bench-build/bench/cycle-scale.js [cycles]     (build: see bench/README.md)
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import type { AppConfig } from '../src/domain/config';
import { installWorkerLogging } from '../src/runtime/logging';
import { carryBundle } from '../src/sim';
import { allRoles, createWorkerSet } from '../src/worker';
import { cycleStateQuery, fileCopiedSignal, type CycleView } from '../src/workflows/cycle-messages';
import {
  describeMachine,
  inBatches,
  median,
  mib,
  ms,
  NAMESPACE,
  ratio,
  runBench,
  startBenchSite,
  startBenchTemporal,
  type BenchTemporal,
} from './cycle-kit';

const CYCLES = Number(process.argv[2] ?? 500);

/** The names bench/baseline-workflows.ts defines (not imported: that module is workflow code). */
const BASELINE = {
  workflow: 'oneActivityBaselineWorkflow',
  signal: 'benchBaselineGo',
  query: 'benchBaselineWaiting',
};

interface WorkerJob {
  address: string;
  namespace: string;
  bundlePath: string;
  config: AppConfig;
  env: NodeJS.ProcessEnv;
}

interface Memory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** Peak RSS of the process so far (VmHWM). */
  peakRss: number;
  maxCachedWorkflows: number;
}

// ---- the child: the worker process ---------------------------------------------------------------

async function workerProcess(jobFile: string): Promise<void> {
  const job = JSON.parse(fs.readFileSync(jobFile, 'utf8')) as WorkerJob;
  installWorkerLogging({ AIRGAP_LOG_LEVEL: 'ERROR' });
  const connection = await NativeConnection.connect({ address: job.address });
  const set = await createWorkerSet({
    config: job.config,
    connection,
    namespace: job.namespace,
    roles: allRoles(job.config),
    env: job.env,
    workflowBundle: { codePath: job.bundlePath },
  });
  const running = set.run();
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', (message) => {
    if (message === 'memory') {
      gc?.();
      const usage = process.memoryUsage();
      const peak = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
      const memory: Memory = {
        rss: usage.rss,
        heapUsed: usage.heapUsed,
        heapTotal: usage.heapTotal,
        external: usage.external,
        peakRss: peak ? Number(peak[1]) * 1024 : usage.rss,
        maxCachedWorkflows: set.workers[0]!.options.maxCachedWorkflows,
      };
      process.send!(memory);
    } else if (message === 'stop') {
      set.shutdown();
    }
  });
  process.send!('ready');
  await running;
  await connection.close();
  process.exit(0);
}

// ---- the parent: the bench -----------------------------------------------------------------------

const EventType = temporal.api.enums.v1.EventType;
const timeOf = (e: temporal.api.history.v1.IHistoryEvent) =>
  Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6;

/** The history events from the first signal named `signal` on (all of them without a name). */
async function eventsFrom(handle: WorkflowHandle, signal?: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  if (!signal) return events;
  const at = events.findIndex(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED &&
      e.workflowExecutionSignaledEventAttributes?.signalName === signal,
  );
  if (at < 0) throw new Error(`${handle.workflowId} has no "${signal}" signal in its history`);
  return events.slice(at);
}

/**
 * Where a drained workflow's time went, from its history: per activity type, how long tasks waited
 * in their queue (scheduled → started) and ran (started → completed); medians over the sampled
 * workflows. With `signal`, only what came after that signal (the drain).
 */
async function activityBreakdown(handles: WorkflowHandle[], signal?: string): Promise<string[]> {
  const queued = new Map<string, number[]>();
  const ran = new Map<string, number[]>();
  for (const handle of handles) {
    const events = await eventsFrom(handle, signal);
    const scheduled = new Map<string, { type: string; at: number }>();
    const started = new Map<string, number>();
    for (const e of events) {
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        const type = e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
        scheduled.set(String(e.eventId), { type, at: timeOf(e) });
      } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
        started.set(String(e.activityTaskStartedEventAttributes?.scheduledEventId), timeOf(e));
      } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const id = String(e.activityTaskCompletedEventAttributes?.scheduledEventId);
        const s = scheduled.get(id);
        const st = started.get(id);
        if (!s || st === undefined) continue;
        (queued.get(s.type) ?? queued.set(s.type, []).get(s.type)!).push(st - s.at);
        (ran.get(s.type) ?? ran.set(s.type, []).get(s.type)!).push(timeOf(e) - st);
      }
    }
  }
  return [...queued.keys()].map(
    (type) =>
      `| ${type} | ${queued.get(type)!.length / handles.length} | ${ms(median(queued.get(type)!))} | ${ms(median(ran.get(type)!))} |`,
  );
}

/**
 * What one drained workflow costs the server and the workers from `signal` to its end, medians over
 * the sampled ones: history events, workflow tasks, activities, local activities and timers (markers
 * and timers started), child workflows and signals to other workflows.
 */
async function drainCost(handles: WorkflowHandle[], signal: string): Promise<string> {
  const count = (events: temporal.api.history.v1.IHistoryEvent[], ...types: number[]) =>
    events.filter((e) => types.includes(e.eventType as number)).length;
  const rows: number[][] = [];
  for (const handle of handles) {
    const events = await eventsFrom(handle, signal);
    rows.push([
      events.length,
      count(events, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
      count(events, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
      count(events, EventType.EVENT_TYPE_MARKER_RECORDED),
      count(events, EventType.EVENT_TYPE_TIMER_STARTED),
      count(events, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED),
      count(events, EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED),
    ]);
  }
  return rows[0]!.map((_, i) => String(median(rows.map((r) => r[i]!)))).join(' | ');
}

function startWorkerProcess(job: WorkerJob, dir: string): Promise<ChildProcess> {
  const jobFile = path.join(dir, 'worker-job.json');
  fs.writeFileSync(jobFile, JSON.stringify(job));
  const child = fork(__filename, ['--worker', jobFile], { execArgv: ['--expose-gc'], stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve(child) : reject(new Error(`worker said ${String(m)}`))));
    child.once('exit', (code) => reject(new Error(`the worker process exited with ${code} while starting`)));
  });
}

function memoryOf(child: ChildProcess): Promise<Memory> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as Memory));
    child.send('memory');
  });
}

async function settled(child: ChildProcess): Promise<Memory> {
  await new Promise((r) => setTimeout(r, 3000));
  return memoryOf(child);
}

/** Waits until every cycle is awaiting the transfer; returns their views. */
async function allWaiting(handles: WorkflowHandle[], timeoutMs: number): Promise<CycleView[]> {
  const views = new Map<string, CycleView>();
  const until = Date.now() + timeoutMs;
  while (views.size < handles.length) {
    if (Date.now() > until) throw new Error(`only ${views.size} of ${handles.length} cycles waiting`);
    await inBatches(
      handles.filter((h) => !views.has(h.workflowId)),
      25,
      async (h) => {
        const v = await h.query(cycleStateQuery).catch(() => undefined);
        if (v?.state === 'awaiting-transfer') views.set(h.workflowId, v);
        else if (v && v.state !== 'bundling') throw new Error(`${h.workflowId} is ${v.state}: ${v.outcome?.reason}`);
      },
    );
    if (views.size < handles.length) await new Promise((r) => setTimeout(r, 1000));
  }
  return handles.map((h) => views.get(h.workflowId)!);
}

/** "File copied", fire-and-forget, as a script on a transfer station would say it. */
function signalCopied(handle: WorkflowHandle, view: CycleView): Promise<void> {
  return handle.signal(fileCopiedSignal, { by: 'operator@plant.example', sha256: view.bundle!.sha256 });
}

/**
 * The one-activity baseline (bench/baseline-workflows.ts): as many workflows as cycles, each waiting
 * for one signal, then drained the way the cycles are: all signalled, 50 at a time, and timed until
 * every one has completed.
 */
async function drainBaseline(
  dev: BenchTemporal,
  taskQueue: string,
  siteIds: string[],
  label: string,
): Promise<{ drainMs: number; signalledMs: number; handles: WorkflowHandle[] }> {
  const handles = await inBatches(siteIds, 25, (id) =>
    dev.client.workflow.start(BASELINE.workflow, {
      taskQueue,
      workflowId: `baseline-${label}-${id}-${Date.now()}`,
      args: [{ site: id }],
    }),
  );
  const until = Date.now() + 10 * 60_000;
  for (let pending = handles; pending.length > 0;) {
    if (Date.now() > until) throw new Error(`${pending.length} baseline workflows never waited`);
    const waits = await inBatches(pending, 25, (h) => h.query<boolean>(BASELINE.query).catch(() => false));
    pending = pending.filter((_, i) => !waits[i]);
    if (pending.length > 0) await new Promise((r) => setTimeout(r, 500));
  }
  const t = performance.now();
  await inBatches(handles, 50, (h) => h.signal(BASELINE.signal));
  const signalledMs = performance.now() - t;
  await Promise.all(handles.map((h) => h.result()));
  return { drainMs: performance.now() - t, signalledMs, handles };
}

async function bench(): Promise<void> {
  console.log(`cycle scale bench: ${CYCLES} cycles on one worker process, ${describeMachine()}`);
  const dev = await startBenchTemporal('scale-bench', 'bench/baseline-workflows.ts');
  const site = await startBenchSite(dev, {
    bundleSizeBytes: 64 * 1024,
    // One simulated site takes every cycle's API calls; the vendor's 500/min would throttle them.
    rateLimitPerMinute: 1_000_000,
    importDelayMs: 100,
    waits: { pollInterval: '500ms' },
  });
  const siteIds = Array.from({ length: CYCLES }, (_, i) => `plant-${i + 1}`);
  const workerConfig: AppConfig = {
    ...site.config,
    sites: [site.site, ...siteIds.map((id) => ({ ...site.site, id, name: `Plant ${id}` }))],
  };
  const child = await startWorkerProcess(
    { address: dev.address, namespace: NAMESPACE, bundlePath: dev.bundlePath, config: workerConfig, env: site.env },
    dev.dir,
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const idle = await settled(child);
    const relays = site.site.airgapped.relays;

    // Baseline: one cycle alone.
    let t = performance.now();
    const single = await site.startCycle();
    const [singleView] = await allWaiting([single], 120_000);
    const singleStartMs = performance.now() - t;
    await carryBundle({ bundlePath: singleView!.bundle!.path, relays });
    t = performance.now();
    await signalCopied(single, singleView!);
    const singleState = ((await single.result()) as { state: string }).state;
    const singleDrainMs = performance.now() - t;
    if (singleState !== 'completed') throw new Error(`the single cycle ended ${singleState}`);

    // The one-activity baseline, before the cycles (and again after them: the machine is shared).
    const baseBefore = await drainBaseline(dev, site.config.temporal.taskQueue, siteIds, 'before');

    // Many at once, with something new for them to carry (the baseline imported the last update).
    site.sim.control.publishUpdate();
    t = performance.now();
    const handles = await inBatches(siteIds, 25, (id) => site.startCycle({ site: id }));
    const views = await allWaiting(handles, 30 * 60_000);
    const startAllMs = performance.now() - t;
    const waiting = await settled(child);

    for (const v of views) await carryBundle({ bundlePath: v.bundle!.path, relays });
    t = performance.now();
    await inBatches(
      handles.map((h, i) => [h, views[i]!] as const),
      50,
      ([h, v]) => signalCopied(h, v),
    );
    const signalledMs = performance.now() - t;
    const states = await Promise.all(handles.map(async (h) => ((await h.result()) as { state: string }).state));
    const drainMs = performance.now() - t;
    const after = await memoryOf(child);
    const sampled = handles.filter((_, i) => i % Math.ceil(CYCLES / 20) === 0);
    const breakdown = await activityBreakdown(sampled, fileCopiedSignal.name);
    const singleBreakdown = await activityBreakdown([single], fileCopiedSignal.name);
    const cycleCost = await drainCost(sampled, fileCopiedSignal.name);
    const notCompleted = states.filter((s) => s !== 'completed');
    if (notCompleted.length > 0) throw new Error(`${notCompleted.length} cycles did not complete: ${notCompleted[0]}`);

    const baseAfter = await drainBaseline(dev, site.config.temporal.taskQueue, siteIds, 'after');
    const baseDrainMs = (baseBefore.drainMs + baseAfter.drainMs) / 2;
    const baseSampled = baseAfter.handles.filter((_, i) => i % Math.ceil(CYCLES / 20) === 0);
    const baseBreakdown = await activityBreakdown(baseSampled, BASELINE.signal);
    const baseCost = await drainCost(baseSampled, BASELINE.signal);

    console.log(`\nworker cache: maxCachedWorkflows ${idle.maxCachedWorkflows} (the SDK's default for this machine)`);
    console.log('\n| worker process | RSS | heap used (main thread) | external |\n|---|---|---|---|');
    console.log(`| idle, polling | ${mib(idle.rss)} | ${mib(idle.heapUsed)} | ${mib(idle.external)} |`);
    console.log(
      `| ${CYCLES} cycles waiting for the transfer | ${mib(waiting.rss)} | ${mib(waiting.heapUsed)} | ${mib(waiting.external)} |`,
    );
    console.log(
      `| difference per waiting cycle | ${((waiting.rss - idle.rss) / CYCLES / 1024).toFixed(1)} KiB | ${((waiting.heapUsed - idle.heapUsed) / CYCLES / 1024).toFixed(1)} KiB | |`,
    );
    console.log(`| peak during the whole run (VmHWM) | ${mib(after.peakRss)} | | |`);
    console.log(
      `| ${CYCLES} cycles waiting / idle | ${ratio(waiting.rss, idle.rss)} | ${ratio(waiting.heapUsed, idle.heapUsed)} | |`,
    );

    console.log('\n| timing | ours | baseline: one cycle alone | ours / baseline |\n|---|---|---|---|');
    console.log(
      `| start → awaiting transfer, ${CYCLES} cycles | ${ms(startAllMs)} (${ms(startAllMs / CYCLES)} per cycle) | ${ms(singleStartMs)} | ${ratio(startAllMs, singleStartMs)} |`,
    );
    console.log(`| send ${CYCLES} "file copied" signals | ${ms(signalledMs)} | | |`);
    console.log(
      `| drain: first signal → ${CYCLES} completed | ${ms(drainMs)} (${(CYCLES / (drainMs / 1000)).toFixed(1)} cycles/s) | ${ms(singleDrainMs)} | ${ratio(drainMs, singleDrainMs)} |`,
    );
    console.log(
      `| drain per cycle | ${ms(drainMs / CYCLES)} | ${ms(singleDrainMs)} | ${ratio(drainMs / CYCLES, singleDrainMs)} |`,
    );
    console.log(
      `\n| drain, ${CYCLES} workflows each waiting on one signal | time | per workflow | / one-activity baseline (mean of before and after) |\n|---|---|---|---|`,
    );
    for (const [when, b] of [
      ['before', baseBefore],
      ['after', baseAfter],
    ] as const) {
      console.log(
        `| baseline ${when} the cycles: ${CYCLES} one-activity workflows (signals sent in ${ms(b.signalledMs)}) | ${ms(b.drainMs)} | ${ms(b.drainMs / CYCLES)} | ${ratio(b.drainMs, baseDrainMs)} |`,
      );
    }
    console.log(
      `| ${CYCLES} cycles, "file copied" (signals sent in ${ms(signalledMs)}) | ${ms(drainMs)} | ${ms(drainMs / CYCLES)} | ${ratio(drainMs, baseDrainMs)} |`,
    );
    console.log(
      '\nwhat one drained workflow costs from its signal on (medians of 20):\n| workflow | history events | workflow tasks | activities | markers | timers | child workflows | signals sent |\n|---|---|---|---|---|---|---|---|',
    );
    console.log(`| one-activity baseline | ${baseCost} |`);
    console.log(`| cycle | ${cycleCost} |`);
    const head = '| activity | per workflow | waited in queue | ran |\n|---|---|---|---|';
    console.log(`\nactivities after "file copied", 20 of the ${CYCLES} cycles (medians):\n${head}`);
    for (const line of breakdown) console.log(line);
    console.log(`\nthe same for the one cycle alone:\n${head}`);
    for (const line of singleBreakdown) console.log(line);
    console.log(`\nthe same for 20 of the ${CYCLES} baseline workflows:\n${head}`);
    for (const line of baseBreakdown) console.log(line);
  } finally {
    child.send('stop');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await site.close();
    await dev.stop();
  }
}

if (process.argv[2] === '--worker') {
  workerProcess(process.argv[3]!).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  runBench(bench);
}

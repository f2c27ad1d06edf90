/**
 * The Temporal SDK logs every worker state change at INFO. Operators get warnings and errors by
 * default; AIRGAP_LOG_LEVEL=INFO (or DEBUG, TRACE) brings the rest back.
 *
 * One warning is dropped: "No workflows registered, not polling for workflow tasks" from a worker
 * whose task queue is declared activity-only (the host and zone workers of src/worker.ts run
 * activities by design). The same warning from any other queue still shows.
 */
import { format } from 'node:util';
import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';

const LEVELS: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

const activityOnlyQueues = new Set<string>();

/** Declares a task queue whose worker registers activities only, by design. */
export function declareActivityOnlyQueue(taskQueue: string): void {
  activityOnlyQueues.add(taskQueue);
}

/** Whether a log entry says only what the design intends: an activity-only worker has no workflows. */
export function isExpectedNoise(entry: Pick<LogEntry, 'level' | 'message' | 'meta'>): boolean {
  const queue = (entry.meta as { taskQueue?: unknown } | undefined)?.taskQueue;
  return (
    entry.level === 'WARN' &&
    entry.message.startsWith('No workflows registered') &&
    typeof queue === 'string' &&
    activityOnlyQueues.has(queue)
  );
}

/** The SDK's own line format: time, [LEVEL], message, metadata. */
function writeEntry(entry: LogEntry): void {
  if (isExpectedNoise(entry)) return;
  const at = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const meta = entry.meta === undefined ? '' : ` ${format(entry.meta)}`;
  process.stderr.write(`${at} [${entry.level}] ${entry.message}${meta}\n`);
}

export function installWorkerLogging(env: NodeJS.ProcessEnv = process.env): void {
  const wanted = (env.AIRGAP_LOG_LEVEL ?? 'WARN').toUpperCase() as LogLevel;
  const level = LEVELS.includes(wanted) ? wanted : 'WARN';
  try {
    Runtime.install({ logger: new DefaultLogger(level, writeEntry) });
  } catch {
    // Installed already (a second start in one process).
  }
}

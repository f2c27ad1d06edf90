/**
 * What every run command shares: acting through a workflow Update (a validator's refusal becomes
 * exit 1 with the reason), and rendering times and answers the same way for every kind of run.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { formatDuration } from '../domain/duration';
import type { ActionAnswer, TimelineEntry } from '../workflows/run-messages';
import { CliError } from './context';

/** Runs an Update and turns a validator's refusal into a CliError carrying the reason. */
export async function act<A>(handle: WorkflowHandle, run: (h: WorkflowHandle) => Promise<A>, noun = 'run'): Promise<A> {
  try {
    return await run(handle);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      throw new CliError(`refused: ${(err.cause as Error | undefined)?.message ?? err.message}`);
    }
    const message = (err as Error).message ?? String(err);
    if (/not found/i.test(message)) throw new CliError(`no such ${noun}: ${handle.workflowId}`);
    throw err;
  }
}

/** "2026-11-25T06:00:00.000Z (3h2m ago)" */
export function ago(isoTime: string): string {
  return `${isoTime} (${formatDuration(Math.max(0, Date.now() - Date.parse(isoTime)))} ago)`;
}

export function answerLine(a: ActionAnswer): string {
  return `accepted: ${a.message} (state: ${a.state})`;
}

export function timelineLines(timeline: TimelineEntry[]): string[] {
  return timeline.map((e) => `  ${e.at}  ${e.summary}${e.actor ? ` [${e.actor.who} via ${e.actor.channel}]` : ''}`);
}

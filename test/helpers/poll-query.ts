import type { WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';

/**
 * Polls a run's state Query until `test` holds; on time-out the error names the run and shows its
 * last state and the end of its timeline, which is what one needs to see why.
 */
export async function pollQuery<V extends { state: string; timeline: unknown[] }>(
  handle: WorkflowHandle,
  query: QueryDefinition<V>,
  test: (v: V) => boolean,
  timeoutMs = 30_000,
): Promise<V> {
  const until = Date.now() + timeoutMs;
  let last: V | undefined;
  for (;;) {
    try {
      last = await handle.query(query);
      if (test(last)) return last;
    } catch (err) {
      if (Date.now() > until) throw err;
    }
    if (Date.now() > until) {
      throw new Error(
        `${handle.workflowId} did not reach the expected state; last: ${last?.state} ${JSON.stringify(last?.timeline.slice(-4))}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

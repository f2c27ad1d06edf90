import type { OutboxEntry } from '../../src/adapters/outbox';
import type { CycleStack } from './cycle-stack';

export const digestPrefix = (sha256: string, n = 16) => sha256.slice(0, n);

/** The first outbox mail of a workflow with that purpose, waiting for it to arrive. */
export async function firstCycleMail(
  stack: CycleStack,
  workflowId: string,
  purpose: string,
  timeoutMs = 15_000,
): Promise<OutboxEntry> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = (await stack.outbox.list()).find((m) => m.workflowId === workflowId && m.purpose === purpose);
    if (found) return (await stack.outbox.get(found.id))!;
    if (Date.now() > until) throw new Error(`no ${purpose} mail for ${workflowId} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

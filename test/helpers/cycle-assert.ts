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

/** How many times each air-gapped relay of the stack really imported a bundle (simulator log). */
export function relayImports(stack: CycleStack): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const manager of Object.values(stack.sim.control.snapshot().managers)) {
    if (manager.side !== 'airgapped') continue;
    for (const c of Object.values(manager.computers)) {
      if (c.role === 'relay') counts[c.hostName] = c.importLog?.length ?? 0;
    }
  }
  return counts;
}

/** Outbox mails of one workflow, oldest first. */
export async function mailsOf(stack: CycleStack, workflowId: string) {
  return (await stack.outbox.list()).filter((m) => m.workflowId === workflowId).reverse();
}

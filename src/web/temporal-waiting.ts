/**
 * What open runs ask of one person, from the asks each run publishes in its state (domain/asks.ts):
 * an approval this person has not answered yet, a transfer, a manual step or a stage's
 * confirmation (asked as a manual step), when the ask names them. The run's validator still
 * decides whether they may answer.
 */
import type { Client } from '@temporalio/client';
import { earlierAnswer } from '../domain/asks';
import { runStateQuery, type RunState } from '../workflows/run-messages';
import type { AskedOfPerson, WaitingProvider } from './deps';
import { withinQueryDeadline } from './query-deadline';

const ANSWERABLE = new Set(['approve', 'file-copied', 'manual-done']);

/** The asks of one run's state that wait on `person` (lowercase email). */
export function asksFor(state: Pick<RunState, 'id' | 'asks' | 'answers'>, person: string): AskedOfPerson[] {
  return (state.asks ?? [])
    .filter((ask) => ANSWERABLE.has(ask.action) && ask.from.some((who) => who.toLowerCase() === person))
    .filter((ask) => ask.action !== 'approve' || !earlierAnswer(state.answers, 'approve', ask.subject, person))
    .map((ask) => ({
      workflowId: state.id,
      action: ask.action as AskedOfPerson['action'],
      subject: ask.subject,
    }));
}

export function createWaitingProvider(client: Client): WaitingProvider {
  return {
    async askedOf(person) {
      const ids: string[] = [];
      for await (const w of client.workflow.list({ query: `ExecutionStatus = 'Running' AND AirgapKind IS NOT NULL` })) {
        ids.push(w.workflowId);
      }
      // Asked all at once, each within the query deadline: a run whose worker is down is left out.
      const found = await Promise.all(
        ids.map(async (id) => {
          try {
            const state = await withinQueryDeadline(client, () => client.workflow.getHandle(id).query(runStateQuery));
            return asksFor(state, person);
          } catch {
            return [];
          }
        }),
      );
      return found.flat();
    },
  };
}

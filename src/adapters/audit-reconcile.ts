/**
 * Closes audit runs that ended without saying so. A workflow writes its own `*.ended` record, but
 * one terminated from outside (Temporal UI, `temporal workflow terminate`), timed out by its
 * execution timeout, or failed before its last activity never gets to. The reconciler asks
 * Temporal's visibility how each open run ended and records it, so the audit stays complete after
 * Temporal's retention has forgotten the run.
 */
import { WorkflowNotFoundError, type Client, type WorkflowExecutionStatusName } from '@temporalio/client';
import type { AuditRecord } from '../domain/audit';
import type { AuditStore } from './audit-store';

export interface RunDescription {
  status: WorkflowExecutionStatusName;
  closeTime?: Date;
}

/**
 * How an open audit run ended; `undefined` when Temporal does not know it. `runId` is the last run
 * the audit saw, so a workflow id reused by a later execution is not mistaken for this one.
 */
export type DescribeRun = (workflowId: string, runId?: string) => Promise<RunDescription | undefined>;

// A COMPLETED run that recorded no end is not evidence of a successful import, so it must not
// read `completed`; 'unrecorded' keeps it out of the protection age while saying what happened.
const OUTCOME_OF: Partial<Record<WorkflowExecutionStatusName, string>> = {
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed-out',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  COMPLETED: 'unrecorded',
};
const NOT_FOUND_OUTCOME = 'not-found';

/**
 * Appends a `<kind>.ended` record (actor: system) for each open run Temporal reports closed.
 * Running and continued-as-new runs are left open (the next run's events carry on the summary).
 * Safe to run repeatedly and from two places at once: the record id is fixed per run, so a second
 * reconciler's append is a no-op.
 */
export async function reconcileTerminated(store: AuditStore, describe: DescribeRun, now: Date): Promise<AuditRecord[]> {
  const appended: AuditRecord[] = [];
  for (const workflowId of await store.openRunsWithoutEnd()) {
    const run = await store.run(workflowId);
    if (!run) continue;
    const described = await describe(workflowId, run.runId);
    const outcome = described ? OUTCOME_OF[described.status] : NOT_FOUND_OUTCOME;
    if (!outcome) continue;
    appended.push(
      await store.append({
        id: `${workflowId}/${run.runId ?? '-'}/reconciled`,
        workflowId,
        runId: run.runId,
        site: run.site,
        kind: run.kind,
        type: `${run.kind}.ended`,
        at: (described?.closeTime ?? now).toISOString(),
        actor: { who: 'reconciler', channel: 'system' },
        outcome,
        data: {
          temporalStatus: described?.status ?? 'NOT_FOUND',
          reconciledAt: now.toISOString(),
          lastEvent: run.lastEvent.type,
        },
      }),
    );
  }
  return appended;
}

/** `describe` through a Temporal client, in the client's namespace. */
export function describeWithTemporal(client: Client): DescribeRun {
  return async (workflowId, runId) => {
    try {
      const d = await client.workflow.getHandle(workflowId, runId).describe();
      return d.closeTime ? { status: d.status.name, closeTime: d.closeTime } : { status: d.status.name };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  };
}

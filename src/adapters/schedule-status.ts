/**
 * What each site's cycle schedule did and will do, read from Temporal's schedule description:
 * next times, the recent runs and how each ended, and the counts of scheduled times missed (past
 * the catch-up window) or skipped (overlap SKIP: a cycle of the site was still open). Read only;
 * the dashboard, `airgap schedule list` and the missed-run notice use it.
 */
import { ScheduleNotFoundError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { AppConfig } from '../domain/config';
import type { ScheduleStatus } from '../domain/cron-words';
import { scheduleIdFor } from '../domain/run-ids';

/** How a run the schedule started ended, in the words of the history: completed, failed, running… */
async function outcomeOf(client: Client, workflowId: string, firstRunId: string): Promise<string | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowId, undefined, { firstExecutionRunId: firstRunId }).describe();
    if (d.status.name === 'RUNNING') return 'running';
    if (d.status.name === 'COMPLETED') {
      try {
        const result = (await client.workflow.getHandle(workflowId, d.runId).result()) as
          { state?: string } | undefined;
        return result?.state ?? 'completed';
      } catch {
        return 'completed';
      }
    }
    return d.status.name.toLowerCase().replace(/_/g, '-');
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** Each site's schedule as Temporal describes it: next times, recent actions and their outcome, missed and skipped counts. */
export async function describeSiteSchedules(client: Client, config: AppConfig): Promise<ScheduleStatus[]> {
  const out: ScheduleStatus[] = [];
  for (const site of config.sites) {
    const base = {
      site: site.id,
      scheduleId: scheduleIdFor(site.id),
      cron: site.schedule.cron,
      timezone: site.schedule.timezone,
    };
    try {
      const d = await client.schedule.getHandle(base.scheduleId).describe();
      const recent = await Promise.all(
        d.info.recentActions.slice(-3).map(async (a) => {
          const outcome = await outcomeOf(client, a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId);
          return {
            scheduledAt: a.scheduledAt.getTime(),
            takenAt: a.takenAt.getTime(),
            workflowId: a.action.workflow.workflowId,
            ...(outcome ? { outcome } : {}),
          };
        }),
      );
      out.push({
        ...base,
        paused: d.state.paused,
        ...(d.state.note ? { note: d.state.note } : {}),
        // Temporal still computes next times while paused; none of them will run.
        nextRuns: d.state.paused ? [] : d.info.nextActionTimes.slice(0, 3).map((t) => t.getTime()),
        recent,
        missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
        skippedOverlap: d.info.numActionsSkippedOverlap,
      });
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      out.push({
        ...base,
        paused: false,
        missing: true,
        nextRuns: [],
        recent: [],
        missedCatchupWindow: 0,
        skippedOverlap: 0,
      });
    }
  }
  return out;
}

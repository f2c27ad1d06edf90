/**
 * Run by a Schedule: reconcile runs that ended from outside, then check every site's protection
 * age, then tell the operators of scheduled cycles that were missed or skipped. Short and
 * stateless; each run is independent.
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { createAuditMaintenanceActivities } from '../activities/audit-activities';

const { reconcileAudit, checkProtectionAge, checkSchedules } = proxyActivities<
  ReturnType<typeof createAuditMaintenanceActivities>
>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '5s', maximumAttempts: 5 },
});

export async function auditMaintenanceWorkflow(): Promise<{
  reconciled: number;
  overdue: string[];
  schedulesMissed?: string[];
}> {
  const { reconciled } = await reconcileAudit({});
  const { overdue } = await checkProtectionAge({});
  // Runs recorded before the missed-run notice existed replay without it.
  if (patched('schedule-missed-notice')) {
    const { noticed } = await checkSchedules({});
    return { reconciled: reconciled.length, overdue, schedulesMissed: noticed };
  }
  return { reconciled: reconciled.length, overdue };
}

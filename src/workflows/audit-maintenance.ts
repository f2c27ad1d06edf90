/**
 * Run by a Schedule: reconcile runs that ended from outside, then check every site's protection
 * age. Short and stateless; each run is independent.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { createAuditMaintenanceActivities } from '../activities/audit-activities';

const { reconcileAudit, checkProtectionAge } = proxyActivities<ReturnType<typeof createAuditMaintenanceActivities>>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '5s', maximumAttempts: 5 },
});

export async function auditMaintenanceWorkflow(): Promise<{ reconciled: number; overdue: string[] }> {
  const { reconciled } = await reconcileAudit({});
  const { overdue } = await checkProtectionAge({});
  return { reconciled: reconciled.length, overdue };
}

/**
 * Keeping the audit whole and useful between runs: runs ended from outside (terminated in the UI,
 * timed out) never wrote their end, so they are reconciled from Temporal's visibility while
 * Temporal still has them; and a site whose last successful import is older than its threshold
 * raises a notice to its operators (once a day).
 */
import type { Client } from '@temporalio/client';
import { describeWithTemporal, reconcileTerminated } from '../adapters/audit-reconcile';
import type { AuditStore } from '../adapters/audit-store';
import type { AppConfig } from '../domain/config';
import { formatDuration } from '../domain/duration';
import type { NoticeRequest } from './types';

export interface AuditMaintenanceDeps {
  config: AppConfig;
  audit: AuditStore;
  client: Client;
  notify(request: NoticeRequest): Promise<unknown>;
  now?: () => Date;
}

export function createAuditMaintenanceActivities(deps: AuditMaintenanceDeps) {
  const now = () => deps.now?.() ?? new Date();
  return {
    async reconcileAudit(
      _input: Record<string, never>,
    ): Promise<{ reconciled: { workflowId: string; outcome?: string }[] }> {
      const appended = await reconcileTerminated(deps.audit, describeWithTemporal(deps.client), now());
      return { reconciled: appended.map((r) => ({ workflowId: r.workflowId, outcome: r.outcome })) };
    },

    async checkProtectionAge(_input: Record<string, never>): Promise<{ overdue: string[] }> {
      const overdue: string[] = [];
      const today = now().toISOString().slice(0, 10);
      for (const site of deps.config.sites) {
        const age = await deps.audit.protectionAge(site.id, now());
        if (age !== undefined && age <= site.protectionAgeThreshold) continue;
        overdue.push(site.id);
        const said =
          age === undefined
            ? 'no successful import has been recorded'
            : `the last successful import was ${formatDuration(age)} ago`;
        await deps.notify({
          purpose: 'failure',
          site: site.id,
          siteName: site.name ?? site.id,
          // A fixed id and a dated notice id: one notice per site per day, however often this runs.
          workflowId: 'audit-maintenance',
          noticeId: `protection-age/${site.id}/${today}`,
          to: site.people.operators,
          ask: 'the site is running on old patterns',
          body: `Site ${site.id}: ${said} (threshold ${formatDuration(site.protectionAgeThreshold)}). Start a cycle: airgap cycle start ${site.id}`,
          // Not the end of a run: a plain notice, so no mail claims that some run failed.
          notice: {
            lead: `Site ${site.id}: ${said} (threshold ${formatDuration(site.protectionAgeThreshold)}).`,
            commands: [`airgap cycle start ${site.id}`],
          },
          links: [],
        });
      }
      return { overdue };
    },
  };
}

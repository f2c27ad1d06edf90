/**
 * Activities of the control worker that are not about a manager or a host: the site plan taken
 * from the configuration, the audit record, and (composed in) the notices.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { AuditStore } from '../adapters/audit-store';
import type { AuditEvent } from '../domain/audit';
import { findSite, type AppConfig } from '../domain/config';
import { sitePlanFrom, type SitePlan } from '../domain/site-plan';
import { createNotifyActivities, type NotifyDeps } from './notify-activities';

export interface ControlDeps extends NotifyDeps {
  config: AppConfig;
  audit: AuditStore;
}

export function createControlActivities(deps: ControlDeps) {
  return {
    ...createNotifyActivities(deps),

    async loadSitePlan(input: { site: string }): Promise<SitePlan> {
      const site = findSite(deps.config, input.site);
      if (!site) {
        const known = deps.config.sites.map((s) => s.id).join(', ');
        throw ApplicationFailure.nonRetryable(`unknown site "${input.site}" (configured: ${known})`, 'UnknownSite');
      }
      return sitePlanFrom(site, deps.config.temporal.taskQueue);
    },

    async recordAudit(event: AuditEvent): Promise<{ seq: number }> {
      try {
        const record = await deps.audit.append(event);
        return { seq: record.seq };
      } catch (err) {
        // A malformed event stays malformed: retrying it forever would wedge the workflow.
        if ((err as Error).name === 'AuditEventError') {
          throw ApplicationFailure.nonRetryable((err as Error).message, 'AuditEventError');
        }
        throw err;
      }
    },
  };
}

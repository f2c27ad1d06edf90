/**
 * One Temporal Schedule per site, created or updated from the configuration at start.
 *
 * Overlap SKIP: a cycle can wait days for a person, and a site must never have two cycles at once;
 * a run that falls while one is open is skipped, not queued. The catch-up window bounds how late a
 * missed run may start after downtime. Pausing is the operator's: an existing schedule's paused
 * state is never changed by a restart, only set at creation from `schedule.paused`.
 */
import { ScheduleNotFoundError, type Client, type ScheduleOptionsAction } from '@temporalio/client';
import type { AppConfig, SiteConfig } from '../domain/config';
import { KIND, SITE } from '../workflows/search-attributes';

export const scheduleIdFor = (site: string) => `airgap-cycle-${site}`;

function action(config: AppConfig, site: SiteConfig): ScheduleOptionsAction {
  return {
    type: 'startWorkflow',
    workflowType: 'cycleWorkflow',
    workflowId: `cycle-${site.id}`,
    taskQueue: config.temporal.taskQueue,
    args: [{ site: site.id }],
    typedSearchAttributes: [
      { key: SITE, value: site.id },
      { key: KIND, value: 'cycle' },
    ],
  };
}

export interface ScheduleSync {
  created: string[];
  updated: string[];
}

export const AUDIT_MAINTENANCE_SCHEDULE = 'airgap-audit-maintenance';

/** Every 15 minutes: reconcile runs ended from outside, raise protection-age notices. */
async function ensureAuditMaintenance(client: Client, config: AppConfig, sync: ScheduleSync): Promise<void> {
  const handle = client.schedule.getHandle(AUDIT_MAINTENANCE_SCHEDULE);
  const options = {
    spec: { intervals: [{ every: '15m' }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'auditMaintenanceWorkflow',
      workflowId: 'audit-maintenance',
      taskQueue: config.temporal.taskQueue,
      args: [],
    },
    policies: { overlap: 'SKIP' as const, catchupWindow: 3_600_000 },
  };
  try {
    await handle.describe();
    await handle.update((previous) => ({ ...previous, ...options }));
    sync.updated.push(AUDIT_MAINTENANCE_SCHEDULE);
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    await client.schedule.create({ scheduleId: AUDIT_MAINTENANCE_SCHEDULE, ...options });
    sync.created.push(AUDIT_MAINTENANCE_SCHEDULE);
  }
}

export async function ensureSchedules(client: Client, config: AppConfig): Promise<ScheduleSync> {
  const sync: ScheduleSync = { created: [], updated: [] };
  await ensureAuditMaintenance(client, config, sync);
  for (const site of config.sites) {
    const scheduleId = scheduleIdFor(site.id);
    const spec = { cronExpressions: [site.schedule.cron], timezone: site.schedule.timezone };
    const policies = { overlap: 'SKIP' as const, catchupWindow: site.schedule.catchupWindow };
    const handle = client.schedule.getHandle(scheduleId);
    try {
      await handle.describe();
      await handle.update((previous) => ({ ...previous, spec, action: action(config, site), policies }));
      sync.updated.push(scheduleId);
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      await client.schedule.create({
        scheduleId,
        spec,
        action: action(config, site),
        policies,
        state: { paused: site.schedule.paused, note: site.schedule.paused ? 'paused by configuration' : undefined },
        memo: { site: site.id },
      });
      sync.created.push(scheduleId);
    }
  }
  return sync;
}

export const driftCheckScheduleIdFor = (site: string) => `airgap-harden-check-${site}`;

function driftCheckAction(config: AppConfig, site: SiteConfig): ScheduleOptionsAction {
  return {
    type: 'startWorkflow',
    workflowType: 'hardenWorkflow',
    workflowId: `harden-check-${site.id}`,
    taskQueue: config.temporal.taskQueue,
    args: [{ site: site.id, mode: 'check' }],
    typedSearchAttributes: [
      { key: SITE, value: site.id },
      { key: KIND, value: 'harden' },
    ],
  };
}

/**
 * One drift-check Schedule per site (`hardening.driftCheck`), beside its cycle schedule: it runs
 * the hardening workflow in check mode, which changes nothing and mails the operators when a
 * setting has drifted back. Same rules as the cycle's (overlap SKIP, an operator's pause survives
 * a restart); a check the configuration disables is removed.
 */
export async function ensureDriftCheckSchedules(
  client: Client,
  config: AppConfig,
): Promise<ScheduleSync & { removed: string[] }> {
  const sync = { created: [] as string[], updated: [] as string[], removed: [] as string[] };
  for (const site of config.sites) {
    const scheduleId = driftCheckScheduleIdFor(site.id);
    const check = site.hardening.driftCheck;
    const handle = client.schedule.getHandle(scheduleId);
    const spec = { cronExpressions: [check.cron], timezone: check.timezone ?? site.schedule.timezone };
    const policies = { overlap: 'SKIP' as const, catchupWindow: site.schedule.catchupWindow };
    let exists = true;
    try {
      await handle.describe();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      exists = false;
    }
    if (!check.enabled) {
      if (exists) {
        await handle.delete();
        sync.removed.push(scheduleId);
      }
    } else if (exists) {
      await handle.update((previous) => ({ ...previous, spec, action: driftCheckAction(config, site), policies }));
      sync.updated.push(scheduleId);
    } else {
      await client.schedule.create({
        scheduleId,
        spec,
        action: driftCheckAction(config, site),
        policies,
        state: { paused: check.paused, note: check.paused ? 'paused by configuration' : undefined },
        memo: { site: site.id },
      });
      sync.created.push(scheduleId);
    }
  }
  return sync;
}

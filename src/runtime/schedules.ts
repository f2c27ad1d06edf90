/**
 * One Temporal Schedule per site, created or updated from the configuration at start.
 *
 * Overlap SKIP: a cycle can wait days for a person, and a site must never have two cycles at once;
 * a run that falls while one is open is skipped, not queued. The catch-up window bounds how late a
 * missed run may start after downtime. Pausing is the operator's: an existing schedule's paused
 * state is never changed by a restart, only set at creation from `schedule.paused`.
 */
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import type { AuditStoreSettings } from '../adapters/audit-store-open';
import { openConfiguredAuditStore } from './audit-open';
import {
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOptionsAction,
} from '@temporalio/client';
import type { AuditActor, AuditEvent, AuditKind } from '../domain/audit';
import { cycleWorkflowTypeOf, sideOf } from '../domain/isolated';
import type { AppConfig, SiteConfig } from '../domain/config';
import { scheduleIdFor } from '../domain/run-ids';
import { KIND, SITE } from '../workflows/search-attributes';

export { scheduleIdFor };

export type ScheduleChange = 'created' | 'updated' | 'removed' | 'paused' | 'resumed' | 'triggered' | 'backfilled';

/**
 * The audit record of one change to a site's schedule (`schedule.paused`, …): an entry of its own
 * (the audit treats it as complete, see isScheduleChange), with who made it.
 */
export function scheduleChangeEvent(i: {
  scheduleId: string;
  site: string;
  kind: AuditKind;
  change: ScheduleChange;
  by: AuditActor;
  data?: Record<string, unknown>;
  at?: Date;
}): AuditEvent {
  const at = (i.at ?? new Date()).toISOString();
  const workflowId = `${i.scheduleId}/${i.change}/${at}`;
  return {
    id: `${workflowId}/${randomBytes(4).toString('hex')}`,
    workflowId,
    site: i.site,
    kind: i.kind,
    type: `schedule.${i.change}`,
    at,
    actor: i.by,
    outcome: i.change,
    data: { scheduleId: i.scheduleId, ...i.data },
  };
}

/** Where schedule changes made at start or setup are recorded, and in whose name. */
export interface ScheduleAudit {
  by: AuditActor;
  record(event: AuditEvent): Promise<unknown>;
}

/** Appends schedule changes to the configured audit store, as `who` (a person, or the process that applies the configuration). */
export function scheduleAuditIn(config: AuditStoreSettings | string, by: AuditActor): ScheduleAudit {
  const settings = typeof config === 'string' ? { dataDir: config } : config;
  return {
    by,
    async record(event) {
      const store = await openConfiguredAuditStore(settings);
      try {
        return await store.append(event);
      } finally {
        await store.close();
      }
    },
  };
}

/** Who applies the configuration's schedules at start or setup: the OS user running the command. */
export function configurationActor(command: string): AuditActor {
  let user = 'unknown user';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (some containers): the command alone says who
  }
  return { who: `${user} (${command}, from the configuration)`, channel: 'system' };
}

/** What the configuration says about a schedule, kept in the action's memo to tell a real update from a restart. */
const specMemo = (cron: string, timezone: string, catchupWindow: number) => ({
  airgapSchedule: `${cron}|${timezone}|${catchupWindow}`,
});
const memoOf = (previous: { action: unknown }) =>
  ((previous.action as { memo?: Record<string, unknown> }).memo ?? {}).airgapSchedule;

/** gRPC codes that retrying cannot change: invalid argument, permission denied, unauthenticated. */
const FINAL_CODES = new Set([3, 7, 16]);

/**
 * describe(), retried for a while when the server fails it: a dev server just restarted answers
 * "Failed to describe schedule" until the schedule's own workflow is loaded again, which made
 * `airgap start` fail on a busy machine (seen while measuring issue 16's start to ready). A
 * schedule that does not exist is answered at once; the last failure names its cause.
 */
async function describeSchedule(handle: ScheduleHandle, timeoutMs = 30_000): Promise<ScheduleDescription> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await handle.describe();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw err;
      const cause = (err as { cause?: { code?: number; details?: string; message?: string } }).cause;
      if (cause?.code !== undefined && !FINAL_CODES.has(cause.code) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      const why = cause?.details ?? cause?.message;
      throw new Error(`${(err as Error).message} ${handle.scheduleId}${why ? `: ${why}` : ''}`, { cause: err });
    }
  }
}

/**
 * What a start writes into a schedule (spec, action, policies), as a digest kept in the action's
 * memo beside `airgapSchedule`. A restart with the same configuration finds the same digest and
 * the same policies and skips the update: one describe instead of describe, describe and update
 * per schedule (issue 16, start to ready). A schedule from before the digest is updated once.
 */
function withDigest<T extends { action: ScheduleOptionsAction }>(options: T): T & { digest: string } {
  const digest = createHash('sha256').update(JSON.stringify(options)).digest('hex').slice(0, 32);
  const action = { ...options.action, memo: { ...options.action.memo, airgapOptions: digest } };
  return { ...options, action, digest };
}

function writtenAlready(
  described: ScheduleDescription,
  wanted: { digest: string; policies: { overlap: string; catchupWindow: number } },
): boolean {
  const memo = (described.action as { memo?: Record<string, unknown> }).memo ?? {};
  return (
    memo.airgapOptions === wanted.digest &&
    described.policies.overlap === wanted.policies.overlap &&
    described.policies.catchupWindow === wanted.policies.catchupWindow
  );
}

function action(config: AppConfig, site: SiteConfig): ScheduleOptionsAction {
  return {
    type: 'startWorkflow',
    // An isolated site's DMZ side runs its own cycle workflow (domain/isolated.ts).
    workflowType: cycleWorkflowTypeOf(site) ?? 'cycleWorkflow',
    workflowId: `cycle-${site.id}`,
    taskQueue: config.temporal.taskQueue,
    args: [{ site: site.id }],
    memo: specMemo(site.schedule.cron, site.schedule.timezone, site.schedule.catchupWindow),
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
  const { digest, ...options } = withDigest({
    spec: { intervals: [{ every: '15m' }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'auditMaintenanceWorkflow',
      workflowId: 'audit-maintenance',
      taskQueue: config.temporal.taskQueue,
      args: [],
    },
    policies: { overlap: 'SKIP' as const, catchupWindow: 3_600_000 },
  });
  try {
    const described = await describeSchedule(handle);
    if (!writtenAlready(described, { digest, policies: options.policies })) {
      await handle.update((previous) => ({ ...previous, ...options }));
    }
    sync.updated.push(AUDIT_MAINTENANCE_SCHEDULE);
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    await client.schedule.create({ scheduleId: AUDIT_MAINTENANCE_SCHEDULE, ...options });
    sync.created.push(AUDIT_MAINTENANCE_SCHEDULE);
  }
}

export async function ensureSchedules(client: Client, config: AppConfig, audit?: ScheduleAudit): Promise<ScheduleSync> {
  const sync: ScheduleSync = { created: [], updated: [] };
  const sites: ScheduleSync = { created: [], updated: [] };
  // The audit maintenance's schedule and the sites' are independent round trips.
  await Promise.all([ensureAuditMaintenance(client, config, sync), ensureSiteSchedules(client, config, sites, audit)]);
  return { created: [...sync.created, ...sites.created], updated: [...sync.updated, ...sites.updated] };
}

async function ensureSiteSchedules(
  client: Client,
  config: AppConfig,
  sync: ScheduleSync,
  audit: ScheduleAudit | undefined,
): Promise<void> {
  for (const site of config.sites) {
    // The air-gapped side of an isolated site has no cycle schedule: its cycles start from the intake.
    if (!cycleWorkflowTypeOf(site)) continue;
    const scheduleId = scheduleIdFor(site.id);
    const wanted = withDigest({
      spec: { cronExpressions: [site.schedule.cron], timezone: site.schedule.timezone },
      action: action(config, site),
      policies: { overlap: 'SKIP' as const, catchupWindow: site.schedule.catchupWindow },
    });
    const { spec, policies } = wanted;
    const handle = client.schedule.getHandle(scheduleId);
    const data = {
      cron: site.schedule.cron,
      timezone: site.schedule.timezone,
      catchupWindow: site.schedule.catchupWindow,
    };
    let changed = false;
    try {
      const described = await describeSchedule(handle);
      if (!writtenAlready(described, wanted)) {
        await handle.update((previous) => {
          changed =
            memoOf(previous) !==
            specMemo(site.schedule.cron, site.schedule.timezone, site.schedule.catchupWindow).airgapSchedule;
          return { ...previous, spec, action: wanted.action, policies };
        });
      }
      sync.updated.push(scheduleId);
      if (changed && audit) {
        await audit.record(
          scheduleChangeEvent({ scheduleId, site: site.id, kind: 'cycle', change: 'updated', by: audit.by, data }),
        );
      }
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      await client.schedule.create({
        scheduleId,
        spec,
        action: wanted.action,
        policies,
        state: { paused: site.schedule.paused, note: site.schedule.paused ? 'paused by configuration' : undefined },
        memo: { site: site.id },
      });
      sync.created.push(scheduleId);
      if (audit) {
        await audit.record(
          scheduleChangeEvent({
            scheduleId,
            site: site.id,
            kind: 'cycle',
            change: 'created',
            by: audit.by,
            data: { ...data, paused: site.schedule.paused },
          }),
        );
      }
    }
  }
}

export const driftCheckScheduleIdFor = (site: string) => `airgap-harden-check-${site}`;

/**
 * Whether this installation runs a site's drift check. The check reads the air-gapped manager
 * (hardeningPlanFrom: its settings, policy and real-time scan configuration), so it belongs to
 * whoever reaches that manager: a connected installation, or the air-gapped side of an isolated
 * site. The DMZ side of an isolated site has no path to it (domain/isolated.ts, siteReach): a
 * check scheduled there could only fail, or, on the demo's simulated world, read a manager a
 * real DMZ never sees. Its cycle schedule is the DMZ side's alone (ensureSchedules).
 */
export function runsDriftCheckHere(site: SiteConfig): boolean {
  return sideOf(site) !== 'dmz';
}

function driftCheckAction(config: AppConfig, site: SiteConfig): ScheduleOptionsAction {
  const check = site.hardening.driftCheck;
  return {
    type: 'startWorkflow',
    workflowType: 'hardenWorkflow',
    workflowId: `harden-check-${site.id}`,
    taskQueue: config.temporal.taskQueue,
    args: [{ site: site.id, mode: 'check' }],
    memo: specMemo(check.cron, check.timezone ?? site.schedule.timezone, site.schedule.catchupWindow),
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
 * a restart); a check the configuration disables, or another installation runs
 * (runsDriftCheckHere), is removed.
 */
export async function ensureDriftCheckSchedules(
  client: Client,
  config: AppConfig,
  audit?: ScheduleAudit,
): Promise<ScheduleSync & { removed: string[] }> {
  const sync = { created: [] as string[], updated: [] as string[], removed: [] as string[] };
  for (const site of config.sites) {
    const scheduleId = driftCheckScheduleIdFor(site.id);
    const check = site.hardening.driftCheck;
    const handle = client.schedule.getHandle(scheduleId);
    const wanted = withDigest({
      spec: { cronExpressions: [check.cron], timezone: check.timezone ?? site.schedule.timezone },
      action: driftCheckAction(config, site),
      policies: { overlap: 'SKIP' as const, catchupWindow: site.schedule.catchupWindow },
    });
    const { spec, policies } = wanted;
    const timezone = check.timezone ?? site.schedule.timezone;
    const data = { cron: check.cron, timezone, catchupWindow: site.schedule.catchupWindow };
    const record = async (change: ScheduleChange, extra: Record<string, unknown> = {}) => {
      if (audit) {
        await audit.record(
          scheduleChangeEvent({
            scheduleId,
            site: site.id,
            kind: 'harden',
            change,
            by: audit.by,
            data: { ...data, ...extra },
          }),
        );
      }
    };
    let described: ScheduleDescription | undefined;
    try {
      described = await describeSchedule(handle);
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
    const exists = described !== undefined;
    const here = runsDriftCheckHere(site);
    if (!check.enabled || !here) {
      // Also one made before the sides were told apart: the air-gapped side runs it now.
      if (exists) {
        await handle.delete();
        sync.removed.push(scheduleId);
        await record('removed', here ? {} : { reason: "the site's air-gapped installation runs its drift check" });
      }
    } else if (described) {
      let changed = false;
      if (!writtenAlready(described, wanted)) {
        await handle.update((previous) => {
          changed = memoOf(previous) !== specMemo(check.cron, timezone, site.schedule.catchupWindow).airgapSchedule;
          return { ...previous, spec, action: wanted.action, policies };
        });
      }
      sync.updated.push(scheduleId);
      if (changed) await record('updated');
    } else {
      await client.schedule.create({
        scheduleId,
        spec,
        action: wanted.action,
        policies,
        state: { paused: check.paused, note: check.paused ? 'paused by configuration' : undefined },
        memo: { site: site.id },
      });
      sync.created.push(scheduleId);
      await record('created', { paused: check.paused });
    }
  }
  return sync;
}

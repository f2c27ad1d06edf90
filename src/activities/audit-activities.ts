/**
 * Keeping the audit whole and useful between runs: runs ended from outside (terminated in the UI,
 * timed out) never wrote their end, so they are reconciled from Temporal's visibility while
 * Temporal still has them; and a site whose last successful import is older than its threshold
 * raises a notice to its operators (once a day); a scheduled cycle that was missed (past the
 * catch-up window) or skipped (a cycle of the site still open) raises a notice once.
 */
import type { Client } from '@temporalio/client';
import { describeWithTemporal, reconcileTerminated } from '../adapters/audit-reconcile';
import type { AuditStore } from '../adapters/audit-store';
import type { AppConfig } from '../domain/config';
import { missedWords, scheduleInWords, zonedTimeWithHint } from '../domain/cron-words';
import { formatDuration } from '../domain/duration';
import { describeSiteSchedules } from '../adapters/schedule-status';
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

    /**
     * Compares each site schedule's missed and skipped counters (Temporal's schedule info) with
     * the last ones seen, which the audit keeps as `schedule.missed` records (their run id ends in
     * `/missed/<missed>-<skipped>`); when a counter grew, records the new counts and mails the
     * operators once. A recreated schedule starts from zero again: counts below the last seen
     * are all new.
     */
    async checkSchedules(_input: Record<string, never>): Promise<{ noticed: string[] }> {
      const noticed: string[] = [];
      const at = now();
      const statuses = await describeSiteSchedules(deps.client, deps.config);
      for (const s of statuses) {
        if (s.missing) continue;
        const site = deps.config.sites.find((x) => x.id === s.site)!;
        const prefix = `${s.scheduleId}/missed/`;
        const seen = (await deps.audit.list({ site: s.site, kind: 'cycle', outcome: 'missed' }))
          .filter((r) => r.workflowId.startsWith(prefix))
          .map((r) => /\/missed\/(\d+)-(\d+)$/.exec(r.workflowId))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => ({ missed: Number(m[1]), skipped: Number(m[2]) }));
        const last = seen[0] ?? { missed: 0, skipped: 0 };
        const grew = (cur: number, was: number) => (cur >= was ? cur - was : cur);
        const newMissed = grew(s.missedCatchupWindow, last.missed);
        const newSkipped = grew(s.skippedOverlap, last.skipped);
        if (newMissed === 0 && newSkipped === 0) continue;
        const counts = `${s.missedCatchupWindow}-${s.skippedOverlap}`;
        const what = missedWords({ missedCatchupWindow: newMissed, skippedOverlap: newSkipped });
        await deps.audit.append({
          id: `${prefix}${counts}`,
          workflowId: `${prefix}${counts}`,
          site: s.site,
          kind: 'cycle',
          type: 'schedule.missed',
          at: at.toISOString(),
          actor: { who: 'audit maintenance', channel: 'system' },
          outcome: 'missed',
          data: {
            scheduleId: s.scheduleId,
            missedCatchupWindow: s.missedCatchupWindow,
            skippedOverlap: s.skippedOverlap,
            newMissed,
            newSkipped,
          },
        });
        const next = s.paused
          ? 'none while paused'
          : s.nextRuns[0] !== undefined
            ? zonedTimeWithHint(s.nextRuns[0], s.timezone, at.getTime())
            : 'none';
        const lead = `The cycle schedule of site ${s.site} (${scheduleInWords(s.cron, s.timezone)}) did not start every run: ${what}.`;
        await deps.notify({
          purpose: 'failure',
          site: s.site,
          siteName: site.name ?? s.site,
          workflowId: 'audit-maintenance',
          noticeId: `schedule-missed/${s.site}/${counts}`,
          to: site.people.operators,
          ask: 'a scheduled cycle was missed or skipped',
          body: `${lead} Next: ${next}. To run it now: airgap schedule trigger ${s.site} --by <you>`,
          notice: {
            lead,
            facts: [
              { label: 'Schedule', value: scheduleInWords(s.cron, s.timezone) },
              { label: 'Missed (outside the catch-up window)', value: String(newMissed) },
              { label: 'Skipped (a cycle of the site was open)', value: String(newSkipped) },
              { label: 'Next run', value: next },
            ],
            commands: [`airgap schedule list`, `airgap schedule trigger ${s.site} --by <you>`],
          },
          links: [],
        });
        noticed.push(s.site);
      }
      return { noticed };
    },
  };
}

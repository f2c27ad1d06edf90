/**
 * Activities of the control worker that are not about a manager or a host: the site plan taken
 * from the configuration, the audit record, and (composed in) the notices and a wait's reminders.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { AuditStore } from '../adapters/audit-store';
import type { AuditEvent } from '../domain/audit';
import { findSite, type AppConfig } from '../domain/config';
import { sitePlanFrom, type SitePlan } from '../domain/site-plan';
import { createNotifyActivities, type NotifyDeps } from './notify-activities';
import { createProofActivities } from './proof-activities';
import { createReminderActivities } from './reminder-activities';

export interface ControlDeps extends NotifyDeps {
  config: AppConfig;
  audit: AuditStore;
}

/**
 * A file a run left on a host on purpose (an unimported copy kept so the import can be retried):
 * the next run of the same site and area removes it, so no stale bundle or .dsru stays where a
 * later import could take it.
 */
export interface LeftFile {
  site: string;
  /** `cycle`: bundle zips on relays; `rules`: .dsru files in the rule import folder. */
  area: 'cycle' | 'rules';
  /** The host's name as configured, and whether it is the DMZ relay, an air-gapped relay or the rules host. */
  host: string;
  role: 'dmz' | 'relay' | 'rules';
  path: string;
  /** The workflow id of the run that left it. */
  leftBy: string;
  at: string;
}

/** The list of left files, one JSON file in the data dir, written whole and renamed into place. */
function leftFilesStore(dataDir: string) {
  const file = path.join(dataDir, 'left-files.json');
  const read = (): LeftFile[] => {
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as LeftFile[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  };
  const write = (all: LeftFile[]) => {
    fs.mkdirSync(dataDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`);
    fs.renameSync(tmp, file);
  };
  const same = (a: Pick<LeftFile, 'site' | 'host' | 'path'>, b: Pick<LeftFile, 'site' | 'host' | 'path'>) =>
    a.site === b.site && a.host === b.host && a.path === b.path;
  return { read, write, same };
}

export function createControlActivities(deps: ControlDeps) {
  const left = leftFilesStore(deps.config.dataDir);
  const notices = createNotifyActivities(deps);
  return {
    ...notices,
    ...createProofActivities(deps),
    ...createReminderActivities({ audit: deps.audit, now: deps.now, notify: notices.notify }),

    async loadSitePlan(input: { site: string }): Promise<SitePlan> {
      const site = findSite(deps.config, input.site);
      if (!site) {
        const known = deps.config.sites.map((s) => s.id).join(', ');
        throw ApplicationFailure.nonRetryable(`unknown site "${input.site}" (configured: ${known})`, 'UnknownSite');
      }
      return sitePlanFrom(site, deps.config.temporal.taskQueue);
    },

    /** Remembers files a run leaves on a host (a repeat of the same host and path replaces it). */
    async noteLeftFiles(input: { files: LeftFile[] }): Promise<{ count: number }> {
      const all = left.read().filter((f) => !input.files.some((n) => left.same(f, n)));
      left.write([...all, ...input.files]);
      return { count: input.files.length };
    },

    /** Files earlier runs of this site and area left behind, oldest first. */
    async leftFilesOf(input: { site: string; area: LeftFile['area'] }): Promise<LeftFile[]> {
      return left.read().filter((f) => f.site === input.site && f.area === input.area);
    },

    /** Forgets files once removed (or found gone). */
    async forgetLeftFiles(input: { site: string; files: { host: string; path: string }[] }): Promise<void> {
      const all = left.read();
      const kept = all.filter((f) => !input.files.some((g) => left.same(f, { ...g, site: input.site })));
      if (kept.length !== all.length) left.write(kept);
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

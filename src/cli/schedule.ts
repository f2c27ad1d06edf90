/**
 * `airgap schedule …`: the per-site cycle schedules. Overlap is SKIP: a trigger or backfill while
 * a cycle of the site is open starts nothing.
 */
import { ScheduleNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { findSite } from '../domain/config';
import { scheduleInWords, scheduleLines } from '../domain/cron-words';
import { describeSiteSchedules } from '../adapters/schedule-status';
import { scheduleAuditIn, scheduleChangeEvent, scheduleIdFor, type ScheduleChange } from '../runtime/schedules';
import { CliError, type CliContext } from './context';

function parseTime(text: string, flag: string): Date {
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new CliError(`${flag} "${text}" is not a date/time (use ISO 8601, e.g. 2026-11-24T06:00:00Z)`);
  return new Date(t);
}

/** `--by`: who changes the schedule; recorded in the audit with the change. */
function byOf(by: string | undefined): string {
  if (!by?.trim())
    throw new CliError('--by <who> is required: every change to a schedule is recorded with who made it');
  return by.trim();
}

export function register(program: Command, ctx: CliContext): void {
  const schedule = program.command('schedule').description('the per-site cycle schedules');

  /** Writes the audit record of a change made (after Temporal accepted it). */
  const audited = async (site: string, change: ScheduleChange, by: string, data: Record<string, unknown> = {}) => {
    const { config } = ctx.config();
    await scheduleAuditIn(config, { who: by, channel: 'cli' }).record(
      scheduleChangeEvent({
        scheduleId: scheduleIdFor(site),
        site,
        kind: 'cycle',
        change,
        by: { who: by, channel: 'cli' },
        data,
      }),
    );
  };

  const handleFor = async (site: string) => {
    if (!findSite(ctx.config().config, site)) throw new CliError(`unknown site "${site}"`);
    return (await ctx.client()).schedule.getHandle(scheduleIdFor(site));
  };
  const guard = async <T>(site: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) {
        throw new CliError(`no schedule for site ${site} yet: start the worker stack (npm start / airgap worker) once`);
      }
      throw err;
    }
  };

  schedule
    .command('list')
    .description(
      'every site schedule in words: when it runs next (site time zone), when it last ran and how, what was missed',
    )
    .action(async () => {
      const client = await ctx.client();
      const statuses = await describeSiteSchedules(client, ctx.config().config);
      const now = Date.now();
      const iso = (t: number) => new Date(t).toISOString();
      const rows = statuses.map((s) =>
        s.missing
          ? { site: s.site, scheduleId: s.scheduleId, missing: true }
          : {
              site: s.site,
              scheduleId: s.scheduleId,
              cron: s.cron,
              timezone: s.timezone,
              inWords: scheduleInWords(s.cron, s.timezone),
              paused: s.paused,
              note: s.note,
              nextRuns: s.nextRuns.map(iso),
              recentRuns: s.recent.map((r) => ({
                scheduledAt: iso(r.scheduledAt),
                takenAt: iso(r.takenAt),
                workflowId: r.workflowId,
                outcome: r.outcome ?? null,
              })),
              missedCatchupWindow: s.missedCatchupWindow,
              skippedOverlap: s.skippedOverlap,
            },
      );
      ctx.result(statuses.flatMap((s) => scheduleLines(s, now)).join('\n'), rows);
    });

  schedule
    .command('pause <site>')
    .requiredOption('--by <who>', 'who pauses it (recorded)')
    .option('--note <text>', 'why')
    .action(async (site: string, opts: { by: string; note?: string }) => {
      const by = byOf(opts.by);
      const h = await handleFor(site);
      const note = opts.note ?? `paused by ${by} from the CLI`;
      await guard(site, () => h.pause(note));
      await audited(site, 'paused', by, { note });
      ctx.result(`schedule of ${site} paused by ${by}`, { site, paused: true, by });
    });

  schedule
    .command('resume <site>')
    .requiredOption('--by <who>', 'who resumes it (recorded)')
    .option('--note <text>', 'why')
    .action(async (site: string, opts: { by: string; note?: string }) => {
      const by = byOf(opts.by);
      const h = await handleFor(site);
      const note = opts.note ?? `resumed by ${by} from the CLI`;
      await guard(site, () => h.unpause(note));
      await audited(site, 'resumed', by, { note });
      ctx.result(`schedule of ${site} resumed by ${by}`, { site, paused: false, by });
    });

  schedule
    .command('trigger <site>')
    .description('run the schedule now (skipped while a cycle of the site is open)')
    .requiredOption('--by <who>', 'who triggers it (recorded)')
    .action(async (site: string, opts: { by: string }) => {
      const by = byOf(opts.by);
      const h = await handleFor(site);
      // Overlap SKIP here too: the SDK's default for a manual trigger is ALLOW_ALL.
      await guard(site, () => h.trigger('SKIP'));
      await audited(site, 'triggered', by, { overlap: 'SKIP' });
      ctx.result(`schedule of ${site} triggered by ${by}`, { site, triggered: true, by });
    });

  schedule
    .command('backfill <site>')
    .description('take the runs the schedule would have taken in a past interval (overlap SKIP applies)')
    .requiredOption('--from <time>', 'start, ISO 8601')
    .requiredOption('--to <time>', 'end, ISO 8601')
    .requiredOption('--by <who>', 'who asks for the backfill (recorded)')
    .action(async (site: string, opts: { from: string; to: string; by: string }) => {
      const by = byOf(opts.by);
      const start = parseTime(opts.from, '--from');
      const end = parseTime(opts.to, '--to');
      if (end <= start) throw new CliError('--to must be after --from');
      const h = await handleFor(site);
      await guard(site, () => h.backfill({ start, end, overlap: 'SKIP' }));
      await audited(site, 'backfilled', by, { from: start.toISOString(), to: end.toISOString(), overlap: 'SKIP' });
      ctx.result(`backfill of ${site} from ${start.toISOString()} to ${end.toISOString()} requested by ${by}`, {
        site,
        from: start.toISOString(),
        to: end.toISOString(),
        by,
      });
    });
}

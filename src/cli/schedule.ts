/**
 * `airgap schedule …`: the per-site cycle schedules. Overlap is SKIP: a trigger or backfill while
 * a cycle of the site is open starts nothing.
 */
import { ScheduleNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { findSite } from '../domain/config';
import { scheduleIdFor } from '../runtime/schedules';
import { CliError, type CliContext } from './context';

function parseTime(text: string, flag: string): Date {
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new CliError(`${flag} "${text}" is not a date/time (use ISO 8601, e.g. 2026-11-24T06:00:00Z)`);
  return new Date(t);
}

export function register(program: Command, ctx: CliContext): void {
  const schedule = program.command('schedule').description('the per-site cycle schedules');

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
    .description('every site schedule with its spec, state and next runs')
    .action(async () => {
      const client = await ctx.client();
      const rows = [];
      for (const site of ctx.config().config.sites) {
        try {
          const d = await client.schedule.getHandle(scheduleIdFor(site.id)).describe();
          rows.push({
            site: site.id,
            scheduleId: d.scheduleId,
            cron: site.schedule.cron,
            timezone: site.schedule.timezone,
            paused: d.state.paused,
            note: d.state.note,
            nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
            recentRuns: d.info.recentActions.slice(-3).map((a) => a.takenAt.toISOString()),
          });
        } catch (err) {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
          rows.push({ site: site.id, scheduleId: scheduleIdFor(site.id), missing: true });
        }
      }
      const human = rows
        .map((r) =>
          'missing' in r
            ? `${r.site}: no schedule yet (created when the worker stack starts)`
            : `${r.site}: ${r.paused ? 'PAUSED' : 'active'} "${r.cron}" ${r.timezone}; next ${r.nextRuns.join(', ') || '-'}${r.note ? `; note: ${r.note}` : ''}`,
        )
        .join('\n');
      ctx.result(human, rows);
    });

  schedule
    .command('pause <site>')
    .option('--note <text>', 'why')
    .action(async (site: string, opts: { note?: string }) => {
      const h = await handleFor(site);
      await guard(site, () => h.pause(opts.note ?? 'paused from the CLI'));
      ctx.result(`schedule of ${site} paused`, { site, paused: true });
    });

  schedule
    .command('resume <site>')
    .option('--note <text>', 'why')
    .action(async (site: string, opts: { note?: string }) => {
      const h = await handleFor(site);
      await guard(site, () => h.unpause(opts.note ?? 'resumed from the CLI'));
      ctx.result(`schedule of ${site} resumed`, { site, paused: false });
    });

  schedule
    .command('trigger <site>')
    .description('run the schedule now (skipped while a cycle of the site is open)')
    .action(async (site: string) => {
      const h = await handleFor(site);
      // Overlap SKIP here too: the SDK's default for a manual trigger is ALLOW_ALL.
      await guard(site, () => h.trigger('SKIP'));
      ctx.result(`schedule of ${site} triggered`, { site, triggered: true });
    });

  schedule
    .command('backfill <site>')
    .description('take the runs the schedule would have taken in a past interval (overlap SKIP applies)')
    .requiredOption('--from <time>', 'start, ISO 8601')
    .requiredOption('--to <time>', 'end, ISO 8601')
    .action(async (site: string, opts: { from: string; to: string }) => {
      const start = parseTime(opts.from, '--from');
      const end = parseTime(opts.to, '--to');
      if (end <= start) throw new CliError('--to must be after --from');
      const h = await handleFor(site);
      await guard(site, () => h.backfill({ start, end, overlap: 'SKIP' }));
      ctx.result(`backfill of ${site} from ${start.toISOString()} to ${end.toISOString()} requested`, {
        site,
        from: start.toISOString(),
        to: end.toISOString(),
      });
    });
}

/** `/schedules`, `/sites/:id`, `/runs/:id/sheet`: read-only pages over the schedule, protection and sheet providers. */
import type { Hono } from 'hono';
import type { AppContext } from '../app-context';
import type { WebEnv } from '../env';
import { WebError } from '../errors';
import { courierSheetPage, schedulesPage, sitePage } from '../views/insight-pages';

export const PROTECTION_DAYS = 90;

export function insightRoutes(app: Hono<WebEnv>, ctx: AppContext): void {
  const { deps } = ctx;

  app.get('/schedules', async (c) => {
    if (!deps.schedules) throw WebError.notFound('The schedules page');
    return c.html(schedulesPage(await deps.schedules.list(), ctx.now(), ctx.nav(c)));
  });

  app.get('/sites/:id', async (c) => {
    const id = c.req.param('id');
    const site = (deps.sites ?? []).find((s) => s.id === id);
    if (!site) throw new WebError('not-found', 'Not found', `There is no site "${id.slice(0, 100)}".`);
    const [protection, schedules, overview] = await Promise.all([
      deps.protection?.histories(PROTECTION_DAYS, id),
      deps.schedules?.list(),
      deps.overview?.overview(),
    ]);
    return c.html(
      sitePage(
        {
          site,
          ...(protection?.[0] ? { protection: protection[0] } : {}),
          ...(schedules?.find((s) => s.site === id) ? { schedule: schedules.find((s) => s.site === id)! } : {}),
          runs: (overview?.runs ?? []).filter((r) => r.site === id),
        },
        ctx.now(),
        ctx.nav(c),
      ),
    );
  });

  app.get('/runs/:id/sheet', async (c) => {
    const id = c.req.param('id');
    const sheet = id.length <= 300 && deps.sheets ? await deps.sheets.sheet(id) : undefined;
    if (!sheet) {
      throw new WebError(
        'not-found',
        'No courier sheet',
        `The run "${id.slice(0, 100)}" has no bundle to carry (unknown, not a cycle, or not bundled yet).`,
        { link: { href: `/runs/${encodeURIComponent(id)}`, label: 'Open the run' } },
      );
    }
    return c.html(courierSheetPage(sheet, ctx.now(), ctx.nav(c)));
  });
}

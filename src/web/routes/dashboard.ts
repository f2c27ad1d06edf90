/** `/`, `/runs/:id`, `/history`: read-only pages over the providers the lead wires to Temporal and the audit. */
import type { Hono } from 'hono';
import type { AppContext } from '../app-context';
import type { HistoryFilter } from '../deps';
import type { WebEnv } from '../env';
import { WebError } from '../errors';
import { PROTECTION_DAYS } from './insight';
import { historyPage, overviewPage, runPage, type HistoryFormValues } from '../views/dashboard-pages';

const HISTORY_PAGE_SIZE = 50;
const DAY_MS = 86_400_000;

function dateParam(name: string, value: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) {
    throw WebError.badRequest(`The filter "${name}" must be a date like 2026-11-25, not "${value.slice(0, 40)}".`);
  }
  return ms;
}

function wordParam(name: string, value: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(value)) {
    throw WebError.badRequest(`The filter "${name}" must be a word such as "completed", not "${value.slice(0, 40)}".`);
  }
  return value;
}

/** Reads /history's query into the provider's filter and the values the form shows back. */
export function parseHistoryQuery(query: Record<string, string>): { filter: HistoryFilter; values: HistoryFormValues } {
  const filter: HistoryFilter = { limit: HISTORY_PAGE_SIZE };
  const values: HistoryFormValues = {};
  const get = (k: string): string | undefined => {
    const v = query[k]?.trim();
    return v ? v.slice(0, 200) : undefined;
  };
  const site = get('site');
  if (site) filter.site = values.site = wordParam('site', site);
  const kind = get('kind');
  if (kind) filter.kind = values.kind = wordParam('kind', kind);
  const outcome = get('outcome');
  if (outcome) filter.outcome = values.outcome = wordParam('outcome', outcome);
  const from = get('from');
  if (from) {
    filter.from = dateParam('from', from);
    values.from = from;
  }
  const to = get('to');
  if (to) {
    filter.to = dateParam('to', to) + DAY_MS;
    values.to = to;
  }
  const text = get('text');
  if (text) filter.text = values.text = text;
  const cursor = get('cursor');
  if (cursor) filter.cursor = cursor;
  return { filter, values };
}

export function dashboardRoutes(app: Hono<WebEnv>, ctx: AppContext): void {
  const { deps } = ctx;

  app.get('/', async (c) => {
    const [overview, protection] = await Promise.all([
      deps.overview ? deps.overview.overview() : undefined,
      deps.protection?.histories(PROTECTION_DAYS),
    ]);
    return c.html(
      overviewPage(overview, ctx.now(), ctx.nav(c), {
        ...(protection ? { protection } : {}),
        temporalUi: deps.temporalUi,
      }),
    );
  });

  app.get('/runs/:id', async (c) => {
    const id = c.req.param('id');
    if (id.length > 300) throw WebError.notFound('This run');
    const run = deps.runs ? await deps.runs.run(id) : undefined;
    if (!run) {
      throw new WebError(
        'not-found',
        'No such run',
        `No run has the id "${id.slice(0, 100)}": it may be mistyped, or older than what the audit keeps.`,
        { link: { href: `/history?text=${encodeURIComponent(id.slice(0, 100))}`, label: 'Search the history for it' } },
      );
    }
    return c.html(runPage(run, ctx.now(), ctx.nav(c), deps.temporalUi));
  });

  app.get('/history', async (c) => {
    const { filter, values } = parseHistoryQuery(c.req.query());
    const page = deps.history ? await deps.history.search(filter) : undefined;
    let nextUrl: string | undefined;
    if (page?.nextCursor) {
      const params = new URLSearchParams(Object.entries(values).filter(([, v]) => v) as Array<[string, string]>);
      params.set('cursor', page.nextCursor);
      nextUrl = `/history?${params.toString()}`;
    }
    return c.html(historyPage({ page, values, sites: deps.sites ?? [], ...(nextUrl ? { nextUrl } : {}) }, ctx.nav(c)));
  });
}

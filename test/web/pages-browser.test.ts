/**
 * The operator pages in a real browser (chromium through playwright-core): each page opens with
 * its stylesheet and no blocked resource, badges show the state in words and in colour, the SVG
 * pictures have their shapes and labels, the courier sheet prints without the navigation.
 * Screenshots go to test-output/screenshots for a person to look at; nothing compares pixels.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp } from '../../src/web/app';
import { serveApp, type RunningServer } from '../../src/web/serve';
import { CHROMIUM, CHROMIUM_ARGS, describeWithChromium } from '../helpers/chromium';
import { insightDeps } from './insight-fixture';

/** What an SVG element measures, without the DOM typings (this project's tsconfig has none). */
interface Box {
  getBBox(): { x: number; width: number };
}

const SHOTS = path.join(__dirname, '..', '..', 'test-output', 'screenshots');

describeWithChromium('the operator pages in a real browser', () => {
  let browser: Browser;
  let server: RunningServer;

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    server = await serveApp(createApp(insightDeps()), { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await browser?.close();
  });

  /** Opens a page, collects console errors and CSP refusals, and saves its screenshot. */
  async function open(p: string, shot: string): Promise<{ page: Page; problems: string[]; status: number }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    const res = await page.goto(`${server.url}${p}`, { waitUntil: 'networkidle' });
    await page.screenshot({ path: path.join(SHOTS, `${shot}.png`), fullPage: true });
    return { page, problems, status: res!.status() };
  }

  const colour = (page: Page, selector: string) =>
    page
      .locator(selector)
      .first()
      .evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).backgroundColor);

  it('dashboard: badges in words and colour, the mismatch row stands out, the protection chart with its threshold', async () => {
    const { page, problems, status } = await open('/', 'dashboard');
    expect(status).toBe(200);
    const badge = page.locator('tr.problem .badge').first();
    expect(await badge.textContent()).toContain('awaiting-transfer');
    expect(await colour(page, 'tr.problem .badge-fail')).toBe('rgb(253, 226, 226)');
    expect(await colour(page, 'tr.problem td')).toBe('rgb(251, 234, 234)');
    expect(await page.locator('tr.problem .problem-reason').textContent()).toContain('relay ag-win: mismatch');
    const chart = page.locator('svg.protection-chart[data-site="demo"]');
    expect(await chart.isVisible()).toBe(true);
    expect(await chart.locator('g.threshold line').count()).toBe(1);
    expect(await chart.locator('g.threshold text').textContent()).toContain('threshold 8.0d');
    expect(await chart.locator('polyline.age').getAttribute('points')).toMatch(/^[\d.]+,[\d.]+( [\d.]+,[\d.]+){5,}$/);
    expect(
      await page.getByRole('img', { name: /Protection age of Demo plant over the last 90 days: now 9.0d/ }).count(),
    ).toBe(1);
    expect(await page.getByRole('link', { name: 'in Temporal UI' }).first().getAttribute('href')).toBe(
      'http://127.0.0.1:8233/namespaces/airgap/workflows/cycle-demo-1',
    );
    expect(problems).toEqual([]);
    await page.close();
  });

  it('rollout page: five stage boxes in order with their states, the failed one marked, the waves bar', async () => {
    const { page, problems } = await open('/runs/upgrade-demo-3', 'rollout');
    const stages = page.locator('svg.rollout g.stage');
    expect(await stages.count()).toBe(5);
    expect(await stages.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-stage')))).toEqual([
      'U1',
      'U2',
      'U3',
      'U4',
      'U5',
    ]);
    expect(await stages.evaluateAll((gs) => gs.map((g) => g.querySelector('text.status')!.textContent))).toEqual([
      'verified',
      'verified',
      'failed',
      'pending',
      'pending',
    ]);
    const u3 = page.locator('svg.rollout g.stage[data-stage="U3"]');
    expect(await u3.getAttribute('class')).toBe('stage stage-fail');
    expect(await u3.locator('rect').getAttribute('stroke')).toBe('#a4161a');
    expect(await u3.textContent()).toContain('precheck: disk full');
    // Boxes left to right in order.
    const xs = await stages.evaluateAll((gs) => gs.map((g) => (g as unknown as Box).getBBox().x));
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    const track = await page
      .locator('svg.rollout rect.bar-track')
      .evaluate((r) => (r as unknown as Box).getBBox().width);
    const verified = await page
      .locator('svg.rollout rect.bar-verified')
      .evaluate((r) => (r as unknown as Box).getBBox().width);
    expect(verified / track).toBeCloseTo(10 / 40, 1);
    expect(await page.locator('svg.rollout g.waves > text').textContent()).toBe(
      'U5 agents: 10 of 40 verified, 2 below target, 4 verifying; 2 wave(s) done',
    );
    expect(problems).toEqual([]);
    await page.close();
  });

  it('cycle page and failed run: the failure stands out with its reason', async () => {
    const cycle = await open('/runs/cycle-demo-1', 'cycle');
    expect(await cycle.page.getByRole('alert').textContent()).toContain('relay ag-win: mismatch');
    expect(await colour(cycle.page, 'tr.problem .badge-fail')).toBe('rgb(253, 226, 226)');
    await cycle.page.close();
    const failed = await open('/runs/rules-demo-2', 'failed-run');
    expect(await failed.page.getByRole('alert').textContent()).toContain('failed: import refused');
    expect(await failed.page.locator('dd .badge-fail').textContent()).toContain('failed: import refused');
    await failed.page.close();
  });

  it('history, site and schedules pages: badges and the missed run', async () => {
    const history = await open('/history', 'history');
    expect(await history.page.locator('td .badge-fail').textContent()).toContain('failed');
    await history.page.close();
    const site = await open('/sites/demo', 'site');
    expect(await site.page.locator('svg.protection-chart').count()).toBe(1);
    await site.page.close();
    const schedules = await open('/schedules', 'schedules');
    const row = schedules.page.locator('tr.schedule[data-site="demo"]');
    expect(await row.locator('td').nth(1).textContent()).toContain('every Tuesday at 06:00 Europe/Berlin');
    expect(await row.locator('td.next').textContent()).toMatch(/\(in 6d 3h\)/);
    expect(await row.locator('td.missed').textContent()).toContain('1 run missed (outside the catch-up window)');
    expect(await colour(schedules.page, 'td.missed .badge-fail')).toBe('rgb(253, 226, 226)');
    await schedules.page.close();
  });

  it('an unknown run is a 404 page with the navigation and a way on', async () => {
    const { page, status } = await open('/runs/no-such-run', 'unknown-run');
    expect(status).toBe(404);
    expect(await page.getByRole('navigation', { name: 'Main' }).isVisible()).toBe(true);
    await page.getByRole('link', { name: 'Search the history for it' }).click();
    await page.waitForURL(/\/history\?text=no-such-run$/);
    await page.close();
  });

  it('the courier sheet prints without navigation, with the digest and the commands for each relay', async () => {
    const { page, problems } = await open('/runs/cycle-demo-1/sheet', 'courier-sheet');
    expect(await page.locator('nav').isVisible()).toBe(true);
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('header').isVisible()).toBe(false);
    expect(await page.locator('.print-hint').isVisible()).toBe(false);
    expect(await page.locator('.digest').isVisible()).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'courier-sheet-print.png'), fullPage: true });
    const pdf = await page.pdf({ format: 'A4' });
    fs.writeFileSync(path.join(SHOTS, 'courier-sheet.pdf'), pdf);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const commands = await page.locator('code.command').allTextContents();
    expect(commands).toEqual([
      "sha256sum '/var/opt/ds_agent/relay/ds-updates-20261125.zip'",
      "Get-FileHash -Algorithm SHA256 -LiteralPath 'C:\\ProgramData\\Trend Micro\\Relay\\ds-updates-20261125.zip'",
    ]);
    expect(await page.locator('.source-folder').textContent()).toBe('/var/opt/ds_agent/relay');
    expect(await page.locator('.size').textContent()).toContain('52,428,800 bytes');
    expect(await page.locator('.tell').textContent()).toContain('operator@demo.example');
    expect(problems).toEqual([]);
    await page.close();
  });
});

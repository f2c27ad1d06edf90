import { createApp } from '../../src/web/app';
import { protectionAgePoints } from '../../src/web/views/pictures';
import { insightDeps } from './insight-fixture';
import { NOW, squash } from './support';

const DAY = 86_400_000;

async function page(path: string) {
  const app = createApp(insightDeps());
  const res = await app.request(path);
  return { status: res.status, body: squash(await res.text()) };
}

describe('the operator pages at a glance', () => {
  it('dashboard: badges carry colour and the state in words, a mismatch stands out with its reason, durations and Temporal UI links', async () => {
    const { status, body } = await page('/');
    expect(status).toBe(200);
    expect(body).toContain('class="badge badge-fail" title="problem: awaiting-transfer"');
    expect(body).toContain('class="badge badge-wait" title="waits: awaiting-upgrade"');
    expect(body).toMatch(/<tr class="problem">.*cycle-demo-1.*relay ag-win: mismatch — the copy&#39;s SHA-256 differs/);
    expect(body).toContain('<td>1d 2h</td>');
    expect(body).toContain('href="http://127.0.0.1:8233/namespaces/airgap/workflows/cycle-demo-1"');
    expect(body).toContain('<li><a href="/schedules">Schedules</a></li>');
  });

  it('dashboard and site page: the protection-age chart over 90 days with its threshold line', async () => {
    for (const p of ['/', '/sites/demo']) {
      const { body } = await page(p);
      expect(body).toContain('<svg xmlns="http://www.w3.org/2000/svg" class="protection-chart" data-site="demo"');
      expect(body).toContain(
        'Protection age of Demo plant over the last 90 days: now 9.0d, threshold 8.0d, 3 import(s) in the period',
      );
      expect(body).toMatch(/<g class="threshold"><title>threshold 8.0d<\/title><line [^>]*stroke-dasharray/);
      expect(body).toMatch(/<polyline class="age" points="[\d., ]+"/);
      expect(body).toContain('now 9.0d — over the threshold');
    }
  });

  it('protection age grows a day per day and drops to zero at each import', () => {
    const from = NOW - 90 * DAY;
    expect(protectionAgePoints([NOW - 100 * DAY, NOW - 30 * DAY], from, NOW)).toEqual([
      { at: from, ageMs: 10 * DAY },
      { at: NOW - 30 * DAY, ageMs: 70 * DAY },
      { at: NOW - 30 * DAY, ageMs: 0 },
      { at: NOW, ageMs: 30 * DAY },
    ]);
    expect(protectionAgePoints([], from, NOW)).toEqual([{ at: from }, { at: NOW }]);
  });

  it('run page: a failed run says why, with its duration', async () => {
    const { body } = await page('/runs/rules-demo-2');
    expect(body).toContain(
      '<p class="message error" role="alert"><strong>Problem:</strong> failed: import refused</p>',
    );
    expect(body).toContain('class="badge badge-fail" title="problem: failed: import refused"');
    expect(body).toContain('<dt>Duration</dt><dd>2h 30m</dd>');
  });

  it('rollout page: U1 → U5 as boxes in order with state and versions, the waves as a bar', async () => {
    const { body } = await page('/runs/upgrade-demo-3');
    const order = ['U1', 'U2', 'U3', 'U4', 'U5'].map((id) => body.indexOf(`data-stage="${id}"`));
    expect(order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1]!))).toBe(true);
    expect(body).toContain(
      '<title>U3 air-gapped Manager (+ database): failed; was 20.0.0 → target 20.0.1 → now ?; precheck: disk full</title>',
    );
    expect(body).toContain('<title>U5 agents: 10 of 40 verified, 2 below target, 4 verifying; 2 wave(s) done</title>');
    expect(body).toMatch(/class="bar-verified" x="10" y="\d+" width="\d+"/);
  });

  it('cycle page: the relays with their state, and the courier sheet linked', async () => {
    const { body } = await page('/runs/cycle-demo-1');
    expect(body).toContain('<a href="/runs/cycle-demo-1/sheet">courier sheet (printable)</a>');
    expect(body).toMatch(/<tr class="problem"><td>ag-win<\/td><td>windows<\/td><td><span class="badge badge-fail"/);
  });

  it('an unknown run id is a 404 page with navigation and a way on', async () => {
    const { status, body } = await page('/runs/nope-123');
    expect(status).toBe(404);
    expect(body).toContain('<nav aria-label="Main">');
    expect(body).toContain('href="/history?text=nope-123"');
    const unknownPage = await page('/no/such/page');
    expect(unknownPage.body).toContain('<nav aria-label="Main">');
  });

  it('schedules page: in words, next in the site zone, last with outcome, the missed run', async () => {
    const { body } = await page('/schedules');
    expect(body).toContain('every Tuesday at 06:00 Europe/Berlin');
    expect(body).toMatch(/\(in 6d 3h\)/);
    expect(body).toContain('1 run missed (outside the catch-up window)');
    expect(body).toContain('class="badge badge-fail" title="problem: failed"');
  });

  it('courier sheet: file, size, digest, folders, commands, deadline, who to tell, print CSS', async () => {
    const { body } = await page('/runs/cycle-demo-1/sheet');
    expect(body).toContain('<code class="file">ds-updates-20261125.zip</code>');
    expect(body).toContain('<code class="source-folder">/var/opt/ds_agent/relay</code>');
    expect(body).toContain('sha256sum &#39;/var/opt/ds_agent/relay/ds-updates-20261125.zip&#39;');
    expect(body).toContain(
      'Get-FileHash -Algorithm SHA256 -LiteralPath &#39;C:\\ProgramData\\Trend Micro\\Relay\\ds-updates-20261125.zip&#39;',
    );
    expect(body).toContain('operator@demo.example (if they cannot be reached: lead@demo.example)');
    const css = await (await createApp(insightDeps()).request('/static/app.css')).text();
    expect(css).toContain('@media print');
    expect((await page('/runs/rules-demo-2/sheet')).status).toBe(404);
  });
});

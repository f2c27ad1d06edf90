/**
 * The operator pages served by startWebServer over a real run: a corrupt copy leaves the cycle
 * waiting with its relay at `mismatch`, and that must stand out with its reason on the dashboard
 * and the run page, with the link into Temporal's UI, the courier sheet and the site page.
 */
import { carryBundle } from '../../src/sim';
import { startWebServer, type RunningWeb } from '../../src/runtime/web-server';
import { fileCopiedUpdate } from '../../src/workflows/cycle-messages';
import { KIND, SITE } from '../../src/workflows/search-attributes';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { squash } from './support';

describe('the operator pages over a real run', () => {
  let stack: CycleStack;
  let web: RunningWeb;
  beforeAll(async () => {
    stack = await startCycleStack();
    web = await startWebServer({ config: stack.config, client: stack.client, env: stack.env, port: 0 });
  });
  afterAll(async () => {
    await web?.close();
    await stack?.close();
  });

  const get = async (p: string) => {
    const res = await fetch(`${web.url}${p}`);
    return { status: res.status, body: squash(await res.text()) };
  };

  it('shows a mismatch as a problem with its reason, links to Temporal UI, and offers the courier sheet', async () => {
    stack.sim.control.publishUpdate();
    const handle = await stack.startCycle();
    const waiting = await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer');
    const bundle = waiting.bundle!;
    await carryBundle({ bundlePath: bundle.path, relays: stack.site.airgapped.relays, mistake: 'corrupt' });
    await handle.executeUpdate(fileCopiedUpdate, {
      args: [{ by: 'op@plant.example', sha256: bundle.sha256.slice(0, 16) }],
    });
    const back = await stack.waitFor(
      handle,
      (v) => v.state === 'awaiting-transfer' && v.relays[0]!.status === 'mismatch',
    );
    const relay = back.relays[0]!;
    const id = handle.workflowId;
    const ui = `http://127.0.0.1:${stack.config.temporal.embedded.uiPort}/namespaces/${stack.config.temporal.namespace}/workflows/${encodeURIComponent(id)}`;

    const home = await get('/');
    expect(home.status).toBe(200);
    expect(home.body).toContain(
      `<tr class="problem"><td><a href="/sites/plant">plant</a></td><td><a href="/runs/${encodeURIComponent(id)}">`,
    );
    expect(home.body).toContain(
      `<span class="badge badge-fail" title="problem: awaiting-transfer"><span aria-hidden="true">✗</span> awaiting-transfer</span><br><span class="problem-reason">relay ${relay.name}: mismatch — ${relay.problem!.replace(/'/g, '&#39;')}</span>`,
    );
    expect(home.body).toContain(`href="${ui}"`);
    expect(home.body).toContain('class="protection-chart" data-site="plant"');
    expect(home.body).toContain('no successful import recorded');

    const run = await get(`/runs/${encodeURIComponent(id)}`);
    expect(run.body).toContain(`<strong>Problem:</strong> relay ${relay.name}: mismatch`);
    expect(run.body).toMatch(
      new RegExp(`<tr class="problem"><td>${relay.name}</td><td>linux</td><td><span class="badge badge-fail"`),
    );
    expect(run.body).toContain(`<a href="/runs/${encodeURIComponent(id)}/sheet">courier sheet (printable)</a>`);
    expect(run.body).toMatch(/<dt>Duration<\/dt><dd>(&lt; 1m|\d+m) so far<\/dd>/);

    const sheet = await get(`/runs/${encodeURIComponent(id)}/sheet`);
    expect(sheet.status).toBe(200);
    expect(sheet.body).toContain(`<code class="file">${bundle.fileName}</code>`);
    expect(sheet.body).toContain(`<dd class="digest">${bundle.sha256.match(/.{8}/g)!.join(' ')}</dd>`);
    expect(sheet.body).toContain('operator@plant.example');

    const site = await get('/sites/plant');
    expect(site.status).toBe(200);
    expect(site.body).toContain('<h1>Site Plant (test)</h1>');
    expect(site.body).toContain(`<a href="/runs/${encodeURIComponent(id)}">`);

    const schedules = await get('/schedules');
    expect(schedules.status).toBe(200);
    expect(schedules.body).toContain('every Tuesday at 06:00 UTC');

    const unknown = await get('/runs/no-such-run');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('<nav aria-label="Main">');
    await handle.terminate('test over');
  }, 90_000);

  it('answers while an open run has no worker, showing that run without its state', async () => {
    // A run whose worker is down answers no query until the RPC deadline; the page must not wait on it.
    const orphan = await stack.client.workflow.start('cycleWorkflow', {
      taskQueue: `nobody-polls-${Date.now()}`,
      workflowId: `orphan-${Date.now()}`,
      args: [{ site: 'plant' }],
      typedSearchAttributes: [
        { key: SITE, value: 'plant' },
        { key: KIND, value: 'cycle' },
      ],
    });
    try {
      let home = await get('/');
      for (let i = 0; i < 40 && !home.body.includes(orphan.workflowId); i++) {
        await new Promise((r) => setTimeout(r, 250)); // visibility lists a new run a moment later
        home = await get('/');
      }
      expect(home.status).toBe(200);
      expect(home.body).toContain(orphan.workflowId);
      expect(home.body).toContain('unknown (no answer)');
    } finally {
      await orphan.terminate('test over');
    }
  }, 60_000);
});

/**
 * A real browser (Debian's chromium through playwright-core) on the served app: loading a link's
 * page, with everything a browser does on load, acts on nothing; pressing the button acts once.
 * Skipped where chromium cannot start, except under CI, which installs it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { OutboxMailer } from '../../src/adapters/outbox';
import { actionLinkUrl, signLinkToken } from '../../src/domain/link-token';
import { transferInstructionsMail } from '../../src/domain/mail/templates';
import { createApp } from '../../src/web/app';
import { noAuth } from '../../src/web/auth';
import { serveApp, type RunningServer } from '../../src/web/serve';
import { CHROMIUM, CHROMIUM_ARGS, describeWithChromium } from '../helpers/chromium';
import { KEYS, NOW, payloadFor, RecordingGateway, SHA } from './support';

describeWithChromium('in a real browser', () => {
  let browser: Browser;
  let server: RunningServer;
  let gateway: RecordingGateway;
  let outbox: OutboxMailer;
  let dir: string;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    gateway = new RecordingGateway();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-browser-'));
    outbox = OutboxMailer.inDataDir(dir, 'airgap <airgap@demo.example>', () => NOW);
    server = await serveApp(createApp({ actions: gateway, keys: KEYS, auth: noAuth(), now: () => NOW, outbox }), {
      host: '127.0.0.1',
      port: 0,
    });
  });
  afterEach(async () => {
    await server.close();
    await outbox.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loading a link page acts on nothing, and pressing its button performs exactly once', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    const url = actionLinkUrl(server.url, signLinkToken(payloadFor('file-copied'), KEYS));

    await page.goto(url, { waitUntil: 'networkidle' });
    await page.reload({ waitUntil: 'networkidle' });
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Confirm the file is copied');
    expect(gateway.describes.length).toBeGreaterThanOrEqual(2);
    expect(gateway.performs).toHaveLength(0);

    await page.getByLabel('SHA-256 of the copied file').fill(SHA.toUpperCase());
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Confirm: file copied' }).click(),
    ]);
    expect(response.status()).toBe(200);
    await page.getByRole('heading', { level: 1, name: 'Done' }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(gateway.performs).toHaveLength(1);
    expect(gateway.performs[0]!.request.confirmedSha256).toBe(SHA);
    // The stylesheet loaded under the CSP (it sets the header's background) and nothing was blocked.
    expect(
      await page.locator('header').evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).backgroundColor),
    ).toBe('rgb(31, 45, 61)');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('opens the link of an outbox mail from its HTML frame in the whole window, acting on nothing', async () => {
    const token = signLinkToken(payloadFor('file-copied'), KEYS);
    await outbox.send(
      transferInstructionsMail({
        run: { siteId: 'demo', workflowId: 'cycle-demo-2026-11-25T06:00', kind: 'cycle' },
        recipient: 'operator@demo.example',
        fileCopiedUrl: actionLinkUrl(server.url, token),
        bundle: { fileName: 'ds-updates-20261125.zip', sha256: SHA, sizeBytes: 1234 },
        relays: [{ name: 'demo-airgap-relay', os: 'linux', targetFolder: '/opt/ds_agent/relay' }],
      }),
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/outbox/1`, { waitUntil: 'networkidle' });
    const frame = page.frameLocator('iframe.mail');
    await Promise.all([
      page.waitForURL(actionLinkUrl(server.url, token)),
      frame.getByRole('link', { name: 'File copied' }).click(),
    ]);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Confirm the file is copied');
    expect(gateway.performs).toHaveLength(0);
    await context.close();
  });
});

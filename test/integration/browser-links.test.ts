/**
 * Issue 5 in a real browser (Debian's chromium through playwright-core, a fresh profile) against
 * the real cycle, its real SMTP mails and the real web app: what mail scanners and link previews do
 * (a burst of GETs and HEADs on every link, a browser rendering the pages with scripts on) decides
 * nothing; the person who presses the button decides, once.
 */
import type { Page } from 'playwright-core';
import { carryBundle } from '../../src/sim';
import { describeWithChromium, launchChromium, type RunningChromium } from '../helpers/chromium';
import { actionUrl, linksOf, type CaughtMail } from '../helpers/smtp-catcher';
import { APPROVER, decisionLinks, OPERATOR, SECOND_APPROVER, startMailSite, type MailSite } from './mail-site';

const SCANNER_HEADERS = { 'user-agent': 'Mozilla/5.0 (compatible; link-scanner/1.0; +http://scanner.example)' };

/** Every link of every mail, fetched the way scanners do: GET and HEAD, three times each, at once. */
async function scannerBurst(mails: CaughtMail[]): Promise<{ links: string[]; statuses: number[] }> {
  const links = [...new Set(mails.flatMap((m) => linksOf(m.mail)))];
  const statuses = await Promise.all(
    links.flatMap((url) =>
      [1, 2, 3].flatMap(() =>
        (['GET', 'HEAD'] as const).map(async (method) => {
          const res = await fetch(url, { method, headers: SCANNER_HEADERS, redirect: 'manual' });
          await res.arrayBuffer();
          return res.status;
        }),
      ),
    ),
  );
  return { links, statuses };
}

/**
 * A preview: opens the page with scripts on and waits until the network has been quiet for 500 ms
 * (whatever the page would load or submit by itself has happened by then), reads it, clicks nothing.
 */
async function preview(page: Page, url: string): Promise<string> {
  await page.goto(url, { waitUntil: 'networkidle' });
  // Scripts ran (this is one); the page brings none of its own, so nothing can submit the form.
  expect(await page.evaluate<number>('document.scripts.length')).toBe(0);
  return (await page.getByRole('heading', { level: 1 }).textContent()) ?? '';
}

describeWithChromium('mail links of a real cycle in a real browser', () => {
  let site: MailSite;
  let chromium: RunningChromium;
  beforeAll(async () => {
    chromium = await launchChromium();
    site = await startMailSite();
  });
  afterAll(async () => {
    await site?.close();
    await chromium?.close();
  });

  it('scanners and previews of every link decide nothing; the approver who presses the button approves once and the import runs', async () => {
    const { handle, view, transferMail } = await site.startCycle();
    const problems: string[] = [];
    const page = await chromium.context.newPage();
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });

    // While the cycle waits for the transfer: the scanners, then a preview of the file-copied link.
    const early = await scannerBurst([transferMail]);
    expect(early.statuses.every((s) => s === 200)).toBe(true);
    const copiedUrl = actionUrl(transferMail.mail, 'File copied');
    expect(await preview(page, copiedUrl)).toBe('Confirm the file is copied');
    expect((await site.stack.view(handle)).state).toBe('awaiting-transfer');

    // The operator copies the file and confirms it in the browser, typing the digest.
    await carryBundle({ bundlePath: view.bundle!.path, relays: site.stack.site.airgapped.relays });
    // Neither the page with the box nor the answer to a wrong digest gives away any part of the
    // expected one: the person has to compute it on the relay.
    const expected = view.bundle!.sha256;
    const windows = Array.from({ length: 64 - 11 }, (_, i) => expected.slice(i, i + 12));
    const formHtml = await page.content();
    expect(formHtml).toContain(view.bundle!.fileName);
    expect(formHtml).toContain('sha256sum');
    for (const w of windows) expect(formHtml).not.toContain(w);
    await page.getByLabel('SHA-256 of the copied file').fill((expected.startsWith('0') ? '1' : '0').repeat(64));
    await page.getByRole('button', { name: 'Confirm: file copied' }).click();
    await page.getByRole('heading', { level: 1, name: 'Not accepted' }).waitFor();
    const refusal = await page.content();
    expect(refusal).toContain(`differs from the SHA-256 of ${view.bundle!.fileName}`);
    for (const w of windows) expect(refusal).not.toContain(w);
    // The refused click is audit evidence: who (the link's recipient), the link channel and the reason.
    const refused = (await site.stack.audit.timeline(handle.workflowId)).filter((r) => r.type === 'action.refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]!.actor).toMatchObject({ channel: 'link' });
    expect(refused[0]!.actor!.who).toMatch(/@/);
    expect(String(refused[0]!.data?.reason)).toContain(`differs from the SHA-256 of ${view.bundle!.fileName}`);
    // The refusal page comes with 409, which Chromium logs; nothing else may be logged.
    expect(problems).toEqual([expect.stringContaining('status of 409')]);
    problems.length = 0;
    await page.getByRole('link', { name: 'Back to the form' }).click();
    await page.getByLabel('SHA-256 of the copied file').fill(view.bundle!.sha256);
    await page.getByRole('button', { name: 'Confirm: file copied' }).click();
    await page.getByRole('heading', { level: 1, name: 'Done' }).waitFor();
    await site.stack.waitFor(handle, (v) => v.state === 'awaiting-approval');

    // Every link of every mail so far, by the scanners; then previews of both decision links of both approvers.
    const approvalMails = [await site.approvalMail(handle, APPROVER), await site.approvalMail(handle, SECOND_APPROVER)];
    const burst = await scannerBurst([transferMail, ...approvalMails]);
    expect(burst.links.filter((l) => l.includes('/a/'))).toHaveLength(5);
    expect(burst.links.some((l) => l.includes('/runs/'))).toBe(true);
    expect(burst.statuses).toHaveLength(burst.links.length * 6);
    expect(burst.statuses.every((s) => s === 200)).toBe(true);
    const mine = decisionLinks(approvalMails[0]!);
    for (const { approve, reject } of approvalMails.map(decisionLinks)) {
      expect(await preview(page, reject)).toBe('Reject the import');
      expect(await preview(page, approve)).toBe('Approve the import');
    }

    const untouched = await site.stack.view(handle);
    expect(untouched.state).toBe('awaiting-approval');
    expect(untouched.approvals).toEqual([]);
    const before = await site.humanRecords(handle);
    expect(before).not.toContain('human.approved');
    expect(before).not.toContain('human.rejected');

    // The approver opens the link, sees what they approve, and presses the button.
    await page.goto(mine.approve, { waitUntil: 'networkidle' });
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Approve the import');
    expect(await page.locator('main').textContent()).toContain(view.bundle!.sha256);
    await page.getByLabel('Comment (optional)').fill('approved in the browser');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Approve the import' }).click(),
    ]);
    expect(response.status()).toBe(200);
    await page.getByRole('heading', { level: 1, name: 'Done' }).waitFor();

    expect((await handle.result()).state).toBe('completed');
    const records = (await site.stack.audit.timeline(handle.workflowId)).filter((r) => r.type.startsWith('human.'));
    expect(records.map((r) => [r.type, r.actor?.who, r.actor?.channel])).toEqual([
      ['human.file-copied', OPERATOR, 'link'],
      ['human.approved', APPROVER, 'link'],
    ]);
    expect(records[1]!.data).toMatchObject({ comment: 'approved in the browser' });
    expect(problems).toEqual([]);
    await page.close();
  });
});

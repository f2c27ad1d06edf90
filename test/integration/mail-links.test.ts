/**
 * Issue 5, end to end with the real cycle workflow: the cycle's mails go through a real SMTP
 * server, their links are followed into the real web app (startWebServer) against the test run's
 * Temporal server, and only a confirmed POST from a link's own page acts, once.
 */
import { randomBytes } from 'node:crypto';
import { signLinkToken, verifyLinkToken, type LinkPayload } from '../../src/domain/link-token';
import { linkKeysFromEnv } from '../../src/runtime/secrets';
import { carryBundle } from '../../src/sim';
import { CSRF_COOKIE, csrfFieldFor, newCsrfCookieValue } from '../../src/web/csrf';
import { cancelUpdate } from '../../src/workflows/cycle-messages';
import { LinkClient, type PageResult } from '../helpers/link-client';
import { actionUrl, linksOf } from '../helpers/smtp-catcher';
import { APPROVER, decisionLinks, OPERATOR, SECOND_APPROVER, startMailSite, type MailSite } from './mail-site';

describe('a cycle driven from its mails through real SMTP and the real web app', () => {
  let site: MailSite;
  beforeAll(async () => {
    site = await startMailSite();
  });
  afterAll(() => site?.close());

  const keys = () => linkKeysFromEnv(site.stack.env, site.stack.config.links);
  const tokenOf = (url: string) => new URL(url).pathname.replace(/^\/a\//, '');
  const linkTo = (token: string) => `${site.web.url}/a/${token}`;
  const sign = (payload: LinkPayload, k = keys()) => linkTo(signLinkToken(payload, k));

  it('the file-copied link confirms the copy with the typed digest, and the approve link starts the import through to completion', async () => {
    const { handle, view, transferMail } = await site.startCycle();
    const sha256 = view.bundle!.sha256;
    expect(transferMail.envelopeTo).toEqual([OPERATOR]);
    expect(transferMail.mail.text).toContain(sha256);
    const copiedUrl = actionUrl(transferMail.mail, 'File copied');
    expect(copiedUrl.startsWith(`${site.web.url}/a/`)).toBe(true);
    expect(linksOf(transferMail.mail)).toContain(copiedUrl);

    await carryBundle({ bundlePath: view.bundle!.path, relays: site.stack.site.airgapped.relays });
    const operator = new LinkClient();
    const { page, csrf } = await operator.formOf(copiedUrl);
    expect(page.heading).toBe('Confirm the file is copied');
    expect(page.html).toContain(view.bundle!.fileName);
    // The mail gives the courier the digest to compare; the page with the box does not show it.
    for (let i = 0; i + 12 <= 64; i++) expect(page.html).not.toContain(sha256.slice(i, i + 12));
    expect((await site.stack.view(handle)).state).toBe('awaiting-transfer');

    // Typed the way people copy a digest from a tool: upper case, in groups.
    const typed = sha256
      .toUpperCase()
      .match(/.{1,8}/g)!
      .join(' ');
    const copied = await operator.post(copiedUrl, { csrf, sha256: typed });
    expect([copied.status, copied.heading]).toEqual([200, 'Done']);
    const verified = await site.stack.waitFor(handle, (v) => v.state === 'awaiting-approval');
    expect(verified.relays.map((r) => r.status)).toEqual(['verified']);
    const copiedEntry = verified.timeline.find((e) => e.type === 'human.file-copied')!;
    expect(copiedEntry.actor).toMatchObject({ who: OPERATOR, channel: 'link' });

    // One mail per approver, each with links of its own.
    const mine = await site.approvalMail(handle, APPROVER);
    const theirs = await site.approvalMail(handle, SECOND_APPROVER);
    expect(mine.envelopeTo).toEqual([APPROVER]);
    expect(decisionLinks(mine).approve).not.toBe(decisionLinks(theirs).approve);

    const approver = new LinkClient();
    const { approve } = decisionLinks(mine);
    const form = await approver.formOf(approve);
    expect(form.page.heading).toBe('Approve the import');
    expect(form.page.html).toContain(OPERATOR); // carried by
    const approved = await approver.post(approve, { csrf: form.csrf, comment: 'versions checked' });
    expect([approved.status, approved.heading]).toEqual([200, 'Done']);
    expect(approved.message).toContain(`approval by ${APPROVER} recorded`);

    const result = await handle.result();
    expect(result.state).toBe('completed');
    const records = await site.stack.audit.timeline(handle.workflowId);
    const human = records.filter((r) => r.type.startsWith('human.'));
    expect(human.map((r) => [r.type, r.actor?.who, r.actor?.channel])).toEqual([
      ['human.file-copied', OPERATOR, 'link'],
      ['human.approved', APPROVER, 'link'],
    ]);
    expect(human[1]!.actor?.address).toMatch(/127\.0\.0\.1$/);
    expect(human[1]!.data).toMatchObject({ comment: 'versions checked', sha256 });
    expect(records.map((r) => r.type)).toEqual(expect.arrayContaining(['import.completed', 'cycle.ended']));
    const [resultMail] = await site.smtp.waitFor(
      'result',
      (m) => m.workflowId === handle.workflowId && m.purpose === 'result',
    );
    expect(resultMail!.envelopeTo).toEqual(expect.arrayContaining([OPERATOR, APPROVER, SECOND_APPROVER]));
  });

  it('refuses forged, altered, expired, replayed and cross-cycle links with the page that says why, and the cycle stays as it was', async () => {
    // An earlier cycle, cancelled while it waited for the transfer: its links belong to it alone.
    const earlier = await site.startCycle();
    await earlier.handle.executeUpdate(cancelUpdate, { args: [{ by: OPERATOR, reason: 'superseded' }] });
    expect((await earlier.handle.result()).state).toBe('cancelled');

    const { handle, view, transferMail } = await site.startCycle();
    const sha256 = view.bundle!.sha256;
    expect(sha256).not.toBe(earlier.view.bundle!.sha256);
    const operator = new LinkClient();
    const copiedUrl = actionUrl(transferMail.mail, 'File copied');
    await carryBundle({ bundlePath: view.bundle!.path, relays: site.stack.site.airgapped.relays });
    const copyForm = await operator.formOf(copiedUrl);
    expect((await operator.post(copiedUrl, { csrf: copyForm.csrf, sha256 })).heading).toBe('Done');
    await site.stack.waitFor(handle, (v) => v.state === 'awaiting-approval');
    const { approve } = decisionLinks(await site.approvalMail(handle, APPROVER));
    const approveToken = tokenOf(approve);
    const stranger = new LinkClient();
    const both = async (url: string): Promise<[PageResult, PageResult]> => [
      await stranger.open(url),
      await stranger.post(url, { csrf: 'x'.repeat(43) }),
    ];
    const expectPages = (pages: PageResult[], status: number, heading: string) =>
      expect(pages.map((p) => [p.status, p.heading])).toEqual(pages.map(() => [status, heading]));

    // Forged: the right fields, signed with a key that is not the site's.
    const forged = sign(
      {
        workflowId: handle.workflowId,
        action: 'approve',
        subject: sha256,
        recipient: APPROVER,
        expiresAt: Date.now() + 86_400_000,
      },
      { current: randomBytes(32) },
    );
    expectPages(await both(forged), 400, 'This link is not valid');

    // Altered: a real link with another recipient written into it, and a real link cut short.
    const [body, signature] = approveToken.split('.') as [string, string];
    const wire = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    const renamed = Buffer.from(JSON.stringify({ ...wire, r: 'mallory@plant.example' })).toString('base64url');
    expectPages(await both(linkTo(`${renamed}.${signature}`)), 400, 'This link is not valid');
    expectPages(await both(linkTo(approveToken.slice(0, -4))), 400, 'This link is not valid');

    // Expired: signed with the site's key, but its time is over.
    const expired = sign({
      workflowId: handle.workflowId,
      action: 'approve',
      subject: sha256,
      recipient: APPROVER,
      expiresAt: Date.now() - 60_000,
    });
    expectPages(await both(expired), 410, 'This link has expired');

    // Replayed: the file-copied link, used once already, opened and posted again with its old form.
    const replayedPage = await operator.open(copiedUrl);
    expect([replayedPage.status, replayedPage.heading]).toEqual([200, 'Already decided']);
    expect(replayedPage.message).toContain(`file copied by ${OPERATOR}`);
    const replayedPost = await operator.post(copiedUrl, { csrf: copyForm.csrf, sha256 });
    expect([replayedPost.status, replayedPost.heading]).toEqual([200, 'Already decided']);

    // Cross-cycle: the cancelled cycle's own link, and a link signed by the site for this cycle
    // but about the earlier cycle's bundle, posted with a valid form pair.
    const earlierLink = await stranger.open(actionUrl(earlier.transferMail.mail, 'File copied'));
    expect([earlierLink.status, earlierLink.heading]).toEqual([200, 'No longer waiting']);
    expect(earlierLink.message).toContain('cancelled');
    const otherBundle = sign({
      workflowId: handle.workflowId,
      action: 'approve',
      subject: earlier.view.bundle!.sha256,
      recipient: APPROVER,
      expiresAt: Date.now() + 86_400_000,
    });
    const otherPage = await stranger.open(otherBundle);
    expect([otherPage.status, otherPage.heading]).toEqual([200, 'No longer waiting']);
    expect(otherPage.message).toContain('this link is for another bundle');
    const cookie = newCsrfCookieValue();
    const { tokenId } = verifyLinkToken(tokenOf(otherBundle), keys(), Date.now()) as { tokenId: string };
    const crossPost = await fetch(otherBundle, {
      method: 'POST',
      body: new URLSearchParams({ csrf: csrfFieldFor(tokenId, cookie, keys()) }),
      headers: { cookie: `${CSRF_COOKIE}=${cookie}` },
    });
    expect(crossPost.status).toBe(409);
    expect(await crossPost.text()).toContain('this link is for another bundle');

    // A valid link posted without its page's form (a scanner that submits forms) changes nothing.
    const blind = await stranger.post(approve, {});
    expect([blind.status, blind.heading]).toEqual([403, 'Please confirm on the page']);

    const after = await site.stack.view(handle);
    expect(after.state).toBe('awaiting-approval');
    expect(after.approvals).toEqual([]);
    expect(after.timeline.filter((e) => e.type.startsWith('human.')).map((e) => e.type)).toEqual(['human.file-copied']);
    expect(await site.humanRecords(handle)).toEqual(['human.file-copied']);

    // The real link still works for its recipient after all that.
    const approved = await new LinkClient().confirm(approve);
    expect(approved.heading).toBe('Done');
    expect((await handle.result()).state).toBe('completed');
  });

  it('acts once on a double-clicked form: one approval in the audit, every repeat says "already decided"', async () => {
    const { handle, view } = await site.startCycle();
    await site.copyAndConfirm(handle, view);
    await site.stack.waitFor(handle, (v) => v.state === 'awaiting-approval');
    const { approve } = decisionLinks(await site.approvalMail(handle, APPROVER));
    const approver = new LinkClient();
    const { csrf } = await approver.formOf(approve);

    // Two POSTs of the same form at once (a double click), then the same form once more.
    const pair = await Promise.all([approver.post(approve, { csrf }), approver.post(approve, { csrf })]);
    const again = await approver.post(approve, { csrf });
    const headings = [...pair, again].map((p) => p.heading);
    expect(headings.filter((h) => h === 'Done')).toHaveLength(1);
    expect(headings.filter((h) => h === 'Already decided')).toHaveLength(2);
    expect(again.message).toContain(`approved by ${APPROVER}`);

    expect((await handle.result()).state).toBe('completed');
    expect(await site.humanRecords(handle)).toEqual(['human.file-copied', 'human.approved']);
    const done = await site.stack.view(handle);
    expect(done.approvals.map((a) => a.by)).toEqual([APPROVER]);
    // The other approver's link now shows that the run moved on.
    const { approve: theirs } = decisionLinks(await site.approvalMail(handle, SECOND_APPROVER));
    const late = await new LinkClient().open(theirs);
    expect(late.heading).toBe('No longer waiting');
  });

  it('lets the operator use the same "file copied" link again after a copy failed verification', async () => {
    const { handle, view, transferMail } = await site.startCycle();
    const copiedUrl = actionUrl(transferMail.mail, 'File copied');
    const operator = new LinkClient();
    await carryBundle({ bundlePath: view.bundle!.path, relays: site.stack.site.airgapped.relays, mistake: 'truncate' });
    let form = await operator.formOf(copiedUrl);
    expect((await operator.post(copiedUrl, { csrf: form.csrf, sha256: view.bundle!.sha256 })).heading).toBe('Done');
    await site.stack.waitFor(handle, (v) => v.relays[0]!.status === 'mismatch');

    await carryBundle({ bundlePath: view.bundle!.path, relays: site.stack.site.airgapped.relays });
    form = await operator.formOf(copiedUrl);
    expect(form.page.heading).toBe('Confirm the file is copied');
    expect((await operator.post(copiedUrl, { csrf: form.csrf, sha256: view.bundle!.sha256 })).heading).toBe('Done');
    await site.stack.waitFor(handle, (v) => v.state === 'awaiting-approval');
    const copies = (await site.stack.audit.timeline(handle.workflowId)).filter((r) => r.type === 'human.file-copied');
    expect(copies).toHaveLength(2);
    await handle.executeUpdate(cancelUpdate, { args: [{ by: OPERATOR, reason: 'test over' }] });
  });
});

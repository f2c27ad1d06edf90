/**
 * Issue 5 with the SMTP server down: mail never blocks a cycle. The notify activity fails while the
 * server is unreachable and Temporal retries it (first retry after 5 s); the cycle goes on without
 * its mail, and the mail arrives, once, when the server is back.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { carryBundle } from '../../src/sim';
import { fileCopiedUpdate } from '../../src/workflows/cycle-messages';
import { digestPrefix } from '../helpers/cycle-assert';
import { LinkClient } from '../helpers/link-client';
import { actionUrl } from '../helpers/smtp-catcher';
import { OPERATOR, startMailSite, type MailSite } from './mail-site';

/** The notify activity waiting for its next attempt after a failure, as Temporal describes it. */
async function failedNotify(handle: WorkflowHandle, timeoutMs = 15_000): Promise<{ attempt: number; failure: string }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { raw } = await handle.describe();
    const notify = (raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'notify' && a.lastFailure);
    if (notify) return { attempt: notify.attempt ?? 0, failure: notify.lastFailure?.message ?? '' };
    if (Date.now() > until) throw new Error(`no failed notify activity in ${handle.workflowId} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a cycle while the SMTP server is down', () => {
  let site: MailSite;
  beforeAll(async () => {
    site = await startMailSite({ approval: { policy: 'none' } });
  });
  afterAll(() => site?.close());

  it('waits for the transfer and takes "file copied" without its mail, which arrives once the SMTP server is back', async () => {
    await site.smtp.stop();
    site.stack.sim.control.publishUpdate();
    const handle = await site.stack.startCycle();
    const view = await site.stack.waitFor(handle, (v) => v.state === 'awaiting-transfer');
    expect(view.waitingFor!.from).toEqual([OPERATOR]);
    const failed = await failedNotify(handle);
    expect(failed.failure).toMatch(/SMTP server 127\.0\.0\.1:\d+ unreachable/);
    expect(site.smtp.received).toHaveLength(0);

    // The operator heard by other means (the CLI shows what to carry) and says "file copied".
    await carryBundle({ bundlePath: view.bundle!.path, relays: site.stack.site.airgapped.relays });
    const accepted = await handle.executeUpdate(fileCopiedUpdate, {
      args: [{ by: OPERATOR, sha256: digestPrefix(view.bundle!.sha256) }],
    });
    expect(accepted.accepted).toBe(true);
    const imported = await site.stack.waitFor(handle, (v) => v.relays.every((r) => r.status === 'cleaned'));
    expect(imported.timeline.map((e) => e.type)).toEqual(
      expect.arrayContaining(['arrival.verified', 'import.completed']),
    );

    await site.smtp.start();
    const [transfer] = await site.smtp.waitFor(
      'transfer',
      (m) => m.workflowId === handle.workflowId && m.purpose === 'transfer-instructions',
      1,
      30_000,
    );
    expect(transfer!.envelopeTo).toEqual([OPERATOR]);
    expect(transfer!.mail.text).toContain(view.bundle!.sha256);
    // Its link is late but honest: the copy was already confirmed.
    const late = await new LinkClient().open(actionUrl(transfer!.mail, 'File copied'));
    expect([late.status, late.heading]).toEqual([200, 'Already decided']);

    expect((await handle.result()).state).toBe('completed');
    await site.smtp.waitFor('result', (m) => m.workflowId === handle.workflowId && m.purpose === 'result');
    const mine = site.smtp.received.filter((m) => m.workflowId === handle.workflowId);
    expect(mine.map((m) => m.purpose).sort()).toEqual(['result', 'transfer-instructions']);
    const types = (await site.stack.audit.timeline(handle.workflowId)).map((r) => r.type);
    expect(types).not.toContain('mail.undeliverable');
    expect(types.at(-1)).toBe('cycle.ended');
  });
});

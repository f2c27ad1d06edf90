/**
 * Issue 14: an approval counts only from a proven identity. A site that accepts the default proofs
 * (mail-link, web-session, cli-code) refuses a plain `--by`, a forged Update, and every code that
 * is not this run's, this action's and this person's, unexpired and unused; nothing is counted.
 * The code from the approval mail approves through the real CLI, a mail link approves through the
 * web gateway, and each answer and audit record says how it was proven. The CLI's login name
 * (os-user) proves a file-copied report where the site allows it.
 */
import os from 'node:os';
import type { WorkflowHandle } from '@temporalio/client';
import { deriveCliCode } from '../../src/domain/cli-code';
import type { LinkKeys } from '../../src/domain/link-token';
import { startWebServer } from '../../src/runtime/web-server';
import { linkKeysFromEnv } from '../../src/runtime/secrets';
import { carryBundle } from '../../src/sim';
import { approveUpdate, fileCopiedUpdate, type CycleView } from '../../src/workflows/cycle-messages';
import { refusalOf } from '../../src/workflows/refusal';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { LinkClient } from '../helpers/link-client';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';
import { recordHistory } from '../helpers/record-history';
import { runCliInProcess } from '../helpers/in-process-cli';

const A1 = 'a1@plant.example';
const A2 = 'a2@plant.example';
const A3 = 'a3@plant.example';
const LOGIN = os.userInfo().username;

/** The refusal's code and sentence, or `accepted`. */
const outcomeOf = (p: Promise<unknown>) =>
  p.then(
    () => ({ code: 'accepted', message: '' }),
    (err: unknown) => refusalOf(err) ?? { code: `untyped: ${(err as Error).message}`, message: '' },
  );

describe('approvals count only from a proven identity (issue 14)', () => {
  let stack: CycleStack;
  let keys: LinkKeys;
  let handle: WorkflowHandle;
  let view: CycleView;
  let digest: string;

  const airgap = (...args: string[]) => runCliInProcess(stack.configFile, ...args);

  const code = (over: { workflowId?: string; action?: 'approve' | 'reject'; recipient?: string; expiresAt?: number }) =>
    deriveCliCode(
      {
        workflowId: over.workflowId ?? handle.workflowId,
        action: over.action ?? 'approve',
        subject: digest,
        recipient: over.recipient ?? A2,
      },
      over.expiresAt ?? Date.now() + 3_600_000,
      keys,
    );
  const approveWith = (by: string, credential: string, kind: 'cli-code' | 'mail-link' = 'cli-code') =>
    outcomeOf(handle.executeUpdate(approveUpdate, { args: [{ by, channel: 'cli', proof: { kind, credential } }] }));
  const approvals = async () => (await stack.view(handle)).approvals.length;

  const saved = { address: process.env.TEMPORAL_ADDRESS, namespace: process.env.TEMPORAL_NAMESPACE };
  beforeAll(async () => {
    process.env.TEMPORAL_ADDRESS = testTemporalAddress();
    process.env.TEMPORAL_NAMESPACE = TEST_NAMESPACE;
    stack = await startCycleStack({
      // The default proofs, as a site that sets nothing has them (the harness adds `unproven`).
      approval: {
        policy: 'n-of-m',
        required: 2,
        carrierMayApprove: false,
        proofs: ['mail-link', 'web-session', 'cli-code'],
        osUserActions: ['copied'],
      },
      approvers: [A1, A2, A3],
      editSite: (site) => {
        (site.people as Record<string, unknown>).osUsers = { [LOGIN]: A1 };
      },
    });
    keys = linkKeysFromEnv(stack.env, stack.config.links);
    stack.sim.control.publishUpdate();
    handle = await stack.startCycle();
    const waiting = await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer');
    await carryBundle({ bundlePath: waiting.bundle!.path, relays: stack.site.airgapped.relays });
    // The carrier reports the copy as the CLI does: with the login name of its process.
    await handle.executeUpdate(fileCopiedUpdate, {
      args: [{ by: A1, sha256: waiting.bundle!.sha256, channel: 'cli', proof: { kind: 'os-user', credential: LOGIN } }],
    });
    view = await stack.waitFor(handle, (v) => v.state === 'awaiting-approval');
    digest = view.bundle!.sha256;
  });
  afterAll(async () => {
    process.env.TEMPORAL_ADDRESS = saved.address;
    process.env.TEMPORAL_NAMESPACE = saved.namespace;
    await stack?.close();
  });

  it('records the file-copied report as proven by os-user, the login name mapped in people.osUsers', () => {
    expect(view.answers).toEqual([expect.objectContaining({ action: 'file-copied', by: A1, proof: 'os-user' })]);
  });

  it('refuses `--by` an approver without a code, naming the proofs the site accepts; nothing is counted', async () => {
    const refused = await airgap('cycle', 'approve', handle.workflowId, '--by', A2);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /refused: an approval by a2@plant\.example counts only with a proof this site accepts \(mail-link, web-session, cli-code\); none was given/,
    );
    expect(await approvals()).toBe(0);
  });

  it('refuses a direct Update with a forged `by` and no proof, or a made-up credential', async () => {
    const forged = await outcomeOf(handle.executeUpdate(approveUpdate, { args: [{ by: A3 }] }));
    expect(forged.code).toBe('proof-required');
    expect(forged.message).toMatch(/mail-link, web-session, cli-code/);
    const madeUp = await approveWith(A3, 'not-a-token', 'mail-link');
    expect(madeUp).toEqual({
      code: 'proof-invalid',
      message: expect.stringMatching(/mail-link token is not a token this site issued/),
    });
    const unproven = await outcomeOf(
      handle.executeUpdate(approveUpdate, { args: [{ by: A3, proof: { kind: 'unproven' } }] }),
    );
    expect(unproven.code).toBe('proof-required');
    expect(await approvals()).toBe(0);
  });

  it('refuses a code for another run, another action or another approver', async () => {
    const otherRun = await approveWith(A2, code({ workflowId: `${handle.workflowId}-other` }));
    expect(otherRun).toEqual({
      code: 'proof-invalid',
      message: expect.stringMatching(/was not issued for this run, action and person/),
    });
    const otherAction = await approveWith(A2, code({ action: 'reject' }));
    expect(otherAction.code).toBe('proof-invalid');
    const otherApprover = await approveWith(A2, code({ recipient: A3 }));
    expect(otherApprover.code).toBe('proof-invalid');
    expect(await approvals()).toBe(0);
  });

  it('refuses an expired code', async () => {
    const expired = await approveWith(A2, code({ expiresAt: Date.now() - 2 * 3_600_000 }));
    expect(expired).toEqual({ code: 'proof-invalid', message: expect.stringMatching(/the code has expired/) });
    expect(await approvals()).toBe(0);
  });

  it('refuses the carrier with a valid code of their own when carrierMayApprove is false', async () => {
    const carrier = await approveWith(A1, code({ recipient: A1 }));
    expect(carrier.code).toBe('carrier-may-not-approve');
    expect(await approvals()).toBe(0);
  });

  it('counts the code from the approval mail, typed into the CLI, as cli-code; the same code again is refused', async () => {
    const mails = await stack.outbox.list({ workflowId: handle.workflowId, purpose: 'approval-request' });
    const mine = mails.find((m) => m.to.includes(A2));
    expect(mine).toBeDefined();
    const text = (await stack.outbox.get(mine!.id))!.text;
    const mailed = /airgap cycle approve \S+ --by a2@plant\.example --code ([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})/.exec(
      text,
    );
    expect(mailed).not.toBeNull();
    const approved = await airgap('cycle', 'approve', handle.workflowId, '--by', A2, '--code', mailed![1]!);
    expect(approved.stderr).toBe('');
    expect(approved.stdout).toMatch(/accepted: approval by a2@plant\.example recorded \(1 of 2\)/);
    const after = await stack.view(handle);
    expect(after.answers.find((a) => a.action === 'approve')).toMatchObject({ by: A2, proof: 'cli-code' });
    // Typed again, in lower case without dashes: the same code, used already.
    const again = await approveWith(A2, mailed![1]!.replace(/-/g, '').toLowerCase());
    expect(again).toEqual({ code: 'proof-invalid', message: expect.stringMatching(/used already/) });
    expect(await approvals()).toBe(1);
  });

  it('records an approval through the mail’s link, posted to the web app, as mail-link, and the audit says how each person was proven', async () => {
    // The approve link of A3's approval mail, posted to the real web app.
    const web = await startWebServer({ config: stack.config, client: stack.client, env: stack.env });
    try {
      const mails = await stack.outbox.list({ workflowId: handle.workflowId, purpose: 'approval-request' });
      const text = (await stack.outbox.get(mails.find((m) => m.to.includes(A3))!.id))!.text;
      const approveUrl = /Approve the import[^]*?(http:\/\/\S+\/a\/[A-Za-z0-9_.-]+)/.exec(text)?.[1];
      expect(approveUrl).toBeDefined();
      const done = await new LinkClient().confirm(approveUrl!);
      expect(done.heading).toBe('Done');
    } finally {
      await web.close();
    }
    expect((await handle.result()).state).toBe('completed');
    const answers = (await stack.view(handle)).answers;
    expect(answers.filter((a) => a.action === 'approve').map((a) => [a.by, a.channel, a.proof])).toEqual([
      [A2, 'cli', 'cli-code'],
      [A3, 'link', 'mail-link'],
    ]);
    const human = (await stack.audit.timeline(handle.workflowId)).filter((r) => r.type.startsWith('human.'));
    expect(human.map((r) => [r.type, r.actor?.who, r.actor?.proof])).toEqual([
      ['human.file-copied', A1, 'os-user'],
      ['human.approved', A2, 'cli-code'],
      ['human.approved', A3, 'mail-link'],
    ]);
    await recordHistory(handle, 'cycle-approved-with-proofs');
  }, 60_000);
});

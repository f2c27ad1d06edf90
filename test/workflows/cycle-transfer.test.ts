import fs from 'node:fs';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { carryBundle, type CourierMistake } from '../../src/sim';
import { cancelUpdate, fileCopiedSignal, fileCopiedUpdate, type CycleView } from '../../src/workflows/cycle-messages';
import { digestPrefix } from '../helpers/cycle-assert';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { recordHistory } from '../helpers/record-history';

describe('the transfer step of a cycle', () => {
  let stack: CycleStack;
  beforeAll(async () => {
    stack = await startCycleStack();
  });
  afterAll(() => stack.close());

  async function awaitingTransfer() {
    stack.sim.control.publishUpdate();
    const handle = await stack.startCycle();
    const view = await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer');
    return { handle, view, bundle: view.bundle! };
  }

  it('ends as nothing-new, without mail, when the bundle carries nothing newer than the site has', async () => {
    // First bring the site up to date, then run again with nothing new published.
    const first = await awaitingTransfer();
    await carryBundle({ bundlePath: first.bundle.path, relays: stack.site.airgapped.relays });
    await first.handle.executeUpdate(fileCopiedUpdate, {
      args: [{ by: 'op@plant.example', sha256: first.bundle.sha256 }],
    });
    expect((await first.handle.result()).state).toBe('completed');

    const handle = await stack.startCycle();
    const result = await handle.result();
    expect(result.state).toBe('nothing-new');
    const mails = (await stack.outbox.list()).filter((m) => m.workflowId === handle.workflowId);
    expect(mails).toEqual([]);
    const records = await stack.audit.timeline(handle.workflowId);
    expect(records.at(-1)).toMatchObject({ type: 'cycle.ended', outcome: 'nothing-new' });
  });

  it('refuses a "file copied" whose digest does not match, saying why, and keeps waiting', async () => {
    const { handle, bundle } = await awaitingTransfer();
    const wrong = bundle.sha256.startsWith('0') ? '1'.repeat(16) : '0'.repeat(16);
    await expect(
      handle.executeUpdate(fileCopiedUpdate, { args: [{ by: 'op@plant.example', sha256: wrong }] }),
    ).rejects.toThrow(WorkflowUpdateFailedError);
    const refusal = await handle
      .executeUpdate(fileCopiedUpdate, { args: [{ by: 'op@plant.example', sha256: wrong }] })
      .catch((err: WorkflowUpdateFailedError) => (err.cause as Error).message);
    expect(refusal).toMatch(new RegExp(`differs from the SHA-256 of ${bundle.fileName.replace(/\./g, '\\.')}`));
    // The refusal names the file but gives away no part of the digest the person must compute.
    for (let i = 0; i + 12 <= 64; i++) expect(refusal).not.toContain(bundle.sha256.slice(i, i + 12));
    const short = await handle
      .executeUpdate(fileCopiedUpdate, { args: [{ by: 'op@plant.example', sha256: bundle.sha256.slice(0, 8) }] })
      .catch((err: WorkflowUpdateFailedError) => (err.cause as Error).message);
    expect(short).toMatch(/at least 12 hex digits/);
    const unknownRelay = await handle
      .executeUpdate(fileCopiedUpdate, { args: [{ by: 'op@plant.example', sha256: bundle.sha256, relay: 'nope' }] })
      .catch((err: WorkflowUpdateFailedError) => (err.cause as Error).message);
    expect(unknownRelay).toMatch(/unknown relay "nope"/);
    // A client that sends the Update itself meets the same identity rule as the CLI and the web app.
    for (const forged of ['op@plant.example\nApproved-By: approver@plant.example', '=HYPERLINK("x")']) {
      const answer = await handle
        .executeUpdate(fileCopiedUpdate, { args: [{ by: forged, sha256: bundle.sha256 }] })
        .catch((err: WorkflowUpdateFailedError) => (err.cause as Error).message);
      expect(answer).toMatch(/is not a plausible identity/);
    }
    expect((await stack.view(handle)).state).toBe('awaiting-transfer');
    await handle.executeUpdate(cancelUpdate, { args: [{ by: 'op@plant.example', reason: 'test done' }] });
    expect((await handle.result()).state).toBe('cancelled');
  });

  it.each<[CourierMistake, RegExp]>([
    ['rename', /renamed|another name/i],
    ['wrong-folder', /not into the install dir/i],
    ['truncate', /incomplete/i],
    ['corrupt', /different|not the bundle|content/i],
  ])(
    'imports nothing after a %s copy, tells the operator, and completes once a good copy arrives',
    async (mistake, message) => {
      const { handle, bundle } = await awaitingTransfer();
      const mistaken = await carryBundle({ bundlePath: bundle.path, relays: stack.site.airgapped.relays, mistake });
      await handle.executeUpdate(fileCopiedUpdate, {
        args: [{ by: 'op@plant.example', sha256: digestPrefix(bundle.sha256) }],
      });
      const back = await stack.waitFor(
        handle,
        (v) => v.state === 'awaiting-transfer' && v.relays[0]!.status === 'mismatch',
      );
      expect(back.relays[0]!.problem).toMatch(message);
      expect(back.timeline.some((e) => e.type === 'import.triggered')).toBe(false);
      const notice = await stack.waitFor(handle, () => true);
      expect(notice.timeline.map((e) => e.type)).toContain('arrival.mismatch');

      await carryBundle({ bundlePath: bundle.path, relays: stack.site.airgapped.relays });
      await handle.executeUpdate(fileCopiedUpdate, { args: [{ by: 'op@plant.example', sha256: bundle.sha256 }] });
      expect((await handle.result()).state).toBe('completed');
      const audit = await stack.audit.timeline(handle.workflowId);
      expect(audit.filter((r) => r.type === 'arrival.mismatch')).toHaveLength(1);
      expect(audit.filter((r) => r.type === 'import.completed')).toHaveLength(1);
      // The mistaken copy is tidied up when it sits in the install folder; outside it, it is named
      // for a person to remove (the host worker touches nothing outside the install folder).
      const strayPath = mistaken.copies[0]!.path;
      const timeline = (await stack.view(handle)).timeline;
      if (mistake === 'rename') {
        await recordHistory(handle, 'cycle-renamed-copy');
        expect(fs.existsSync(strayPath)).toBe(false);
        expect(timeline.some((e) => e.type === 'relay.stray-removed' && e.summary.includes(strayPath))).toBe(true);
      } else if (mistake === 'wrong-folder') {
        expect(fs.existsSync(strayPath)).toBe(true);
        expect(timeline.some((e) => e.type === 'relay.stray-left' && e.summary.includes(strayPath))).toBe(true);
        fs.rmSync(strayPath);
      }
    },
  );

  it('treats a repeated "file copied" as one: the second update is refused, a repeated signal changes nothing', async () => {
    const { handle, bundle } = await awaitingTransfer();
    await carryBundle({ bundlePath: bundle.path, relays: stack.site.airgapped.relays });
    await handle.signal(fileCopiedSignal, { by: 'op@plant.example', sha256: bundle.sha256 });
    await handle.signal(fileCopiedSignal, { by: 'op@plant.example', sha256: bundle.sha256 });
    const second = await handle
      .executeUpdate(fileCopiedUpdate, { args: [{ by: 'op@plant.example', sha256: bundle.sha256 }] })
      .then(() => 'accepted')
      .catch((err: WorkflowUpdateFailedError) => (err.cause as Error).message);
    expect(second).not.toBe('accepted');
    expect((await handle.result()).state).toBe('completed');
    const audit = await stack.audit.timeline(handle.workflowId);
    expect(audit.filter((r) => r.type === 'human.file-copied')).toHaveLength(1);
    expect(audit.filter((r) => r.type === 'import.triggered')).toHaveLength(1);
  });

  it('cancels while waiting for the copy: removes unimported copies, archives the DMZ bundle, records who and why', async () => {
    const { handle, bundle } = await awaitingTransfer();
    const copies = await carryBundle({ bundlePath: bundle.path, relays: stack.site.airgapped.relays });
    const answer = await handle.executeUpdate(cancelUpdate, {
      args: [{ by: 'lead@plant.example', reason: 'wrong week' }],
    });
    expect(answer.message).toMatch(/cancel requested by lead@plant.example/);
    const result = await handle.result();
    expect(result).toMatchObject({ state: 'cancelled', reason: expect.stringContaining('wrong week') });
    const fs = await import('node:fs');
    expect(fs.existsSync(copies.copies[0]!.path)).toBe(false);
    expect(fs.existsSync(bundle.path)).toBe(false);
    const view: CycleView = await stack.view(handle);
    expect(view.timeline.map((e) => e.summary).join('\n')).toMatch(/archived/);
    const again = await handle
      .executeUpdate(cancelUpdate, { args: [{ by: 'lead@plant.example', reason: 'again' }] })
      .catch((err: Error) => err.message);
    expect(String(again)).toMatch(/./);
  });
});

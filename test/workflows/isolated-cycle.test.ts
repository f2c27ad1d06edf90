/**
 * An isolated site on the real Temporal dev server and the real simulator: the DMZ installation
 * bundles, signs and writes the package onto the medium, the air-gapped installation takes it in,
 * imports it and writes the signed receipt, and the DMZ cycle closes with what the receipt says.
 * Then every bad input of issue 13, each refused with its reason and nothing imported (the
 * simulator's import log does not move).
 */
import { execFile, spawnSync } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { generateSigningKeyPair } from '../../src/adapters/signing';
import { writePackage, writeReceipt, packageFolderOf } from '../../src/adapters/transfer-medium';
import { MANIFEST_FILE } from '../../src/domain/transfer-package';
import { RECEIPT_FILE } from '../../src/domain/transfer-receipt';
import { ISOLATED_DMZ_CYCLE_WORKFLOW } from '../../src/domain/isolated';
import { cycleStateQuery, type CycleResult, type CycleView } from '../../src/workflows/cycle-messages';
import { receiptArrivedUpdate, type IntakeResult } from '../../src/workflows/isolated-messages';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';
import { pollQuery } from '../helpers/poll-query';
import { recordHistory } from '../helpers/record-history';
import { offerPackage, startIsolatedStack, type IsolatedStack } from '../helpers/isolated-stack';

jest.setTimeout(120_000);

function openssl(publicKeyFile: string, file: string): { ok: boolean; output: string } {
  const r = spawnSync(
    'openssl',
    ['pkeyutl', '-verify', '-pubin', '-inkey', publicKeyFile, '-rawin', '-in', file, '-sigfile', `${file}.sig`],
    { encoding: 'utf8' },
  );
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'airgap.js');

/** The CLI as an operator runs it (bin/airgap.js over dist/), without blocking this process's workers. */
function airgap(configFile: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, '--config', configFile, ...args],
      {
        encoding: 'utf8',
        env: { ...process.env, TEMPORAL_ADDRESS: testTemporalAddress(), TEMPORAL_NAMESPACE: TEST_NAMESPACE },
      },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const intakeIdOf = (cycleId: string) => `intake-${cycleId.replace(/[^A-Za-z0-9._-]/g, '-')}`;

describe('an isolated site: two installations that share only the medium', () => {
  let s: IsolatedStack;
  beforeAll(async () => {
    s = await startIsolatedStack();
  });
  afterAll(() => s?.close());

  const relayName = () => s.airgapped.config.sites[0]!.airgapped.relays[0]!.name;
  /** What the air-gapped relay imported, by the simulator's own log. */
  const importLog = () => {
    const state = s.sim.sim.control.snapshot();
    const relay = Object.values(state.managers)
      .flatMap((m) => Object.values(m.computers))
      .find((c) => c.hostName === relayName());
    return (relay?.importLog ?? []).map((l) => l.fileName);
  };
  const startDmzCycle = async (): Promise<WorkflowHandle> =>
    s.client.workflow.start(ISOLATED_DMZ_CYCLE_WORKFLOW, {
      taskQueue: s.dmz.config.temporal.taskQueue,
      workflowId: `cycle-plant-${s.sim.tag}-${randomBytes(3).toString('hex')}`,
      args: [{ site: 'plant', trigger: { who: 'test@plant.example', channel: 'cli' } }],
    });
  const awaitingReceipt = (h: WorkflowHandle): Promise<CycleView> =>
    pollQuery(h, cycleStateQuery, (v) => v.state === 'awaiting-receipt' || !!v.outcome, 60_000);
  /** The air-gapped side's intake of one package folder; its result. */
  const takeIn = async (folder: string): Promise<IntakeResult> =>
    (await offerPackage(s, folder)).result() as Promise<IntakeResult>;
  const dmzKey = () => createPrivateKey(fs.readFileSync(s.keys.dmzPrivate, 'utf8'));

  let first: { handle: WorkflowHandle; view: CycleView; intake: IntakeResult; packageFolder: string };

  it('runs a whole cycle: package out, import on the air-gapped side, receipt back, cycle completed', async () => {
    const published = s.sim.sim.control.publishUpdate();
    const handle = await startDmzCycle();
    const view = await awaitingReceipt(handle);
    expect(view.state).toBe('awaiting-receipt');
    const packageFolder = packageFolderOf(s.medium, handle.workflowId);
    expect(fs.readdirSync(packageFolder).sort()).toEqual(
      [view.bundle!.fileName, MANIFEST_FILE, `${MANIFEST_FILE}.sig`].sort(),
    );
    // The manifest verifies with openssl and the DMZ public key (what the README promises).
    expect(openssl(s.keys.dmzPublic, path.join(packageFolder, MANIFEST_FILE)).ok).toBe(true);
    expect(importLog()).toEqual([]);

    const intake = await takeIn(packageFolder);
    expect(intake).toMatchObject({ state: 'completed', cycleId: handle.workflowId });
    expect(intake.code).toMatch(/^[A-Z2-7]{5}-[A-Z2-7]{5}$/);
    expect(intake.relays).toEqual([expect.objectContaining({ relay: relayName(), outcome: 'imported' })]);
    expect(importLog()).toEqual([view.bundle!.fileName]);
    // The zip was imported under its own name and removed from the relay afterwards.
    const installDir = s.airgapped.config.sites[0]!.airgapped.relays[0]!.installDir!;
    expect(fs.existsSync(path.join(installDir, view.bundle!.fileName))).toBe(false);
    // The receipt verifies with openssl and the air-gapped side's public key; the DMZ key does not verify it.
    const receiptFile = path.join(intake.receiptFolder!, RECEIPT_FILE);
    expect(openssl(s.keys.airgappedPublic, receiptFile)).toMatchObject({ ok: true });
    expect(openssl(s.keys.dmzPublic, receiptFile).ok).toBe(false);
    const agAudit = (
      await s.airgapped.audit.timeline(`intake-${handle.workflowId.replace(/[^A-Za-z0-9._-]/g, '-')}`)
    ).map((e) => e.type);
    // The air-gapped side's run answers the cycle view too (web app, `airgap cycle status`).
    const agStatus = await airgap(s.airgapped.configFile, 'cycle', 'status', intakeIdOf(handle.workflowId));
    expect(agStatus.code).toBe(0);
    expect(agStatus.stdout).toContain('state completed');
    expect(agStatus.stdout).toContain(view.bundle!.fileName);
    expect(agAudit).toEqual(
      expect.arrayContaining([
        'intake.started',
        'package.verified',
        'arrival.verified',
        'import.completed',
        'receipt.written',
      ]),
    );
    const intakeId = `intake-${handle.workflowId.replace(/[^A-Za-z0-9._-]/g, '-')}`;
    const mails = await Promise.all(
      (await s.airgapped.outbox.list({ workflowId: intakeId })).map((m) => s.airgapped.outbox.get(m.id)),
    );
    const mail = mails.find((m) => m?.text.includes(intake.code!));
    expect(mail).toBeDefined();

    // Back on the DMZ side: `airgap intake <medium>` offers the receipt to its cycle, which closes.
    const cli = await airgap(s.dmz.configFile, 'intake', s.medium, '--by', 'courier@plant.example');
    expect(cli.stdout).toContain(`receipt ${path.basename(intake.receiptFolder!)}: accepted`);
    expect(cli.code).toBe(0);
    const result = (await handle.result()) as CycleResult;
    expect(result.state).toBe('completed');
    const dmzAudit = await s.dmz.audit.timeline(handle.workflowId);
    const accepted = dmzAudit.find((e) => e.type === 'receipt.accepted');
    expect(accepted?.data).toMatchObject({
      via: 'receipt',
      relays: [expect.objectContaining({ relay: relayName(), outcome: 'imported' })],
    });
    expect(JSON.stringify(accepted?.data)).toContain(Object.values(published)[0] as string);
    expect(dmzAudit.at(-1)).toMatchObject({ type: 'cycle.ended', outcome: 'completed' });
    // `airgap audit show <cycle>` on the DMZ side shows what the air-gapped side reported.
    const shown = await airgap(s.dmz.configFile, 'audit', 'show', handle.workflowId);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/receipt\.accepted .*"outcome":"imported"/);
    expect(shown.stdout).toMatch(new RegExp(`relay\\.reported .*"relay":"${relayName()}"`));
    first = { handle, view, intake, packageFolder };
    await recordHistory(handle, 'isolated-dmz-cycle-receipt-folder-by-relay');
    await recordHistory(
      s.client.workflow.getHandle(`intake-${handle.workflowId.replace(/[^A-Za-z0-9._-]/g, '-')}`),
      'isolated-intake-completed-guided',
    );
  });

  /** A package written by hand onto the medium: a fake zip, signed by `key` (the DMZ key unless said). */
  const craft = async (
    name: string,
    opts: { site?: string; versions?: { name: string; version: string }[]; key?: ReturnType<typeof dmzKey> } = {},
  ) => {
    const zipDir = fs.mkdtempSync(path.join(s.sim.dir, 'craft-'));
    const zipPath = path.join(zipDir, `bundle-${name}.zip`);
    fs.writeFileSync(zipPath, randomBytes(4096));
    return writePackage({
      medium: s.medium,
      zipPath,
      site: opts.site ?? 'plant',
      cycleId: `cycle-plant-${s.sim.tag}-${name}`,
      previousCycleId: first.handle.workflowId,
      versions: opts.versions ?? first.view.bundle!.versions.map((v) => ({ name: v.name, version: `${v.version}9` })),
      installationId: `dmz-${s.sim.tag}`,
      privateKey: opts.key ?? dmzKey(),
      now: new Date(),
    });
  };
  const expectRefused = async (folder: string, code: string, reason: RegExp) => {
    const before = importLog();
    const result = await takeIn(folder);
    expect(result).toMatchObject({ state: 'refused', refusal: code });
    expect(result.reason).toMatch(reason);
    expect(importLog()).toEqual(before);
    const id = `intake-${path.basename(folder).replace(/^airgap-package-/, '')}`;
    const refused = (await s.airgapped.audit.timeline(id)).filter((e) => e.type === 'package.refused').at(-1);
    expect(refused?.data).toMatchObject({ refusal: code });
    // Nothing reached a relay.
    const installDir = s.airgapped.config.sites[0]!.airgapped.relays[0]!.installDir!;
    expect(fs.readdirSync(installDir).filter((f) => f.endsWith('.zip'))).toEqual([]);
    return id;
  };

  it('refuses a manifest edited after signing', async () => {
    const p = await craft('edited');
    const file = path.join(p.folder, MANIFEST_FILE);
    const text = fs.readFileSync(file, 'utf8');
    // A later creation time: still a well-formed manifest, no longer the one that was signed.
    fs.writeFileSync(file, text.replace('"createdAt": "20', '"createdAt": "21'));
    expect(fs.readFileSync(file, 'utf8')).not.toBe(text);
    await expectRefused(p.folder, 'bad-signature', /changed after it was signed/);
  });

  it('refuses a zip swapped for another under a valid-looking manifest', async () => {
    const p = await craft('swapped');
    fs.writeFileSync(path.join(p.folder, p.manifest.zip.name), randomBytes(p.manifest.zip.size));
    await expectRefused(p.folder, 'sha256-mismatch', /not the zip that was signed/);
  });

  it('refuses a manifest signed by an unknown key', async () => {
    const other = createPrivateKey(generateSigningKeyPair().privateKeyPem);
    const p = await craft('unknown-key', { key: other });
    await expectRefused(p.folder, 'unknown-key', /not trusted here/);
  });

  it('refuses a package for another site', async () => {
    const p = await craft('other-site', { site: 'elsewhere' });
    await expectRefused(p.folder, 'other-site', /for site "elsewhere"/);
  });

  it('refuses a package older than what the air-gapped side imported', async () => {
    const p = await craft('older', {
      versions: first.view.bundle!.versions.map((v) => ({ name: v.name, version: '0.0.1' })),
    });
    await expectRefused(p.folder, 'older-versions', /older than what this side last imported/);
  });

  it('refuses a truncated zip', async () => {
    const p = await craft('truncated');
    fs.truncateSync(path.join(p.folder, p.manifest.zip.name), 1000);
    await expectRefused(p.folder, 'size-mismatch', /truncated/);
  });

  it('refuses the same package taken in twice: "already imported by cycle X"', async () => {
    const id = await expectRefused(
      first.packageFolder,
      'already-imported',
      new RegExp(`already imported by cycle ${first.handle.workflowId}`),
    );
    await recordHistory(s.client.workflow.getHandle(id), 'isolated-intake-refused-already-imported-guided');
  });

  it('refuses a receipt for another cycle, one signed by the wrong key and a wrong code; the cycle keeps waiting', async () => {
    s.sim.sim.control.publishUpdate();
    const handle = await startDmzCycle();
    const view = await awaitingReceipt(handle);
    expect(view.state).toBe('awaiting-receipt');
    const offer = (input: { folder?: string; code?: string }) =>
      handle.executeUpdate(receiptArrivedUpdate, { args: [{ by: 'courier@plant.example', ...input }] });
    const refusalOf = async (p: Promise<unknown>) => {
      const err = (await p.then(
        () => undefined,
        (e: unknown) => e,
      )) as { cause?: { message: string; details?: { transferRefusal?: string }[] } };
      return { code: err?.cause?.details?.[0]?.transferRefusal, message: err?.cause?.message };
    };

    // The first cycle's (genuine, signed) receipt, offered to this cycle.
    expect(await refusalOf(offer({ folder: first.intake.receiptFolder }))).toMatchObject({
      code: 'receipt-other-cycle',
      message: expect.stringContaining(`for cycle ${first.handle.workflowId}`),
    });
    // A receipt for this cycle, signed by a key the DMZ side does not trust.
    const forged = await writeReceipt({
      medium: fs.mkdtempSync(path.join(s.sim.dir, 'forged-')),
      site: 'plant',
      cycleId: handle.workflowId,
      manifestSha256: '0'.repeat(64),
      relays: [{ relay: relayName(), outcome: 'imported', versions: view.bundle!.versions }],
      installationId: 'ag-forger',
      privateKey: createPrivateKey(generateSigningKeyPair().privateKeyPem),
      now: new Date(),
    });
    expect(await refusalOf(offer({ folder: forged.folder }))).toMatchObject({ code: 'unknown-key' });
    // The genuine receipt of the first cycle, altered to name this cycle: its signature fails.
    const altered = fs.mkdtempSync(path.join(s.sim.dir, 'altered-'));
    for (const f of [RECEIPT_FILE, `${RECEIPT_FILE}.sig`])
      fs.copyFileSync(path.join(first.intake.receiptFolder!, f), path.join(altered, f));
    const rf = path.join(altered, RECEIPT_FILE);
    fs.writeFileSync(rf, fs.readFileSync(rf, 'utf8').replace(first.handle.workflowId, handle.workflowId));
    expect(await refusalOf(offer({ folder: altered }))).toMatchObject({ code: 'bad-signature' });
    // A wrong code; then the first cycle's (right for it, wrong here) code.
    expect(await refusalOf(offer({ code: 'ABCDE-FGHIJ' }))).toMatchObject({ code: 'wrong-code' });
    expect(await refusalOf(offer({ code: first.intake.code! }))).toMatchObject({ code: 'wrong-code' });
    expect((await handle.query(cycleStateQuery)).state).toBe('awaiting-receipt');
    const refusals = (await s.dmz.audit.timeline(handle.workflowId)).filter((e) => e.type === 'receipt.refused');
    expect(refusals.map((e) => (e.data as { refusal: string }).refusal)).toEqual([
      'receipt-other-cycle',
      'unknown-key',
      'bad-signature',
      'wrong-code',
      'wrong-code',
    ]);

    // The air-gapped side takes this cycle's package in by hand from a medium mounted elsewhere
    // (`airgap intake <folder> --wait`), and the DMZ side types the code it shows.
    const mounted = fs.mkdtempSync(path.join(s.sim.dir, 'mounted-'));
    const pkg = packageFolderOf(s.medium, handle.workflowId);
    fs.cpSync(pkg, path.join(mounted, path.basename(pkg)), { recursive: true });
    const taken = await airgap(s.airgapped.configFile, 'intake', mounted, '--by', 'courier@plant.example', '--wait');
    expect(taken.code).toBe(0);
    const code = /confirmation code ([A-Z2-7]{5}-[A-Z2-7]{5})/.exec(taken.stdout)?.[1];
    expect(code).toBeDefined();
    // The receipt is written onto the medium the package came on.
    expect(fs.readdirSync(mounted)).toEqual(expect.arrayContaining([expect.stringMatching(/^airgap-receipt-/)]));
    const wrong = await airgap(
      s.dmz.configFile,
      'cycle',
      'receipt',
      handle.workflowId,
      '--by',
      'op@plant.example',
      '--code',
      'ABCDE-FGHIJ',
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/does not match any outcome/);
    const right = await airgap(
      s.dmz.configFile,
      'cycle',
      'receipt',
      handle.workflowId,
      '--by',
      'op@plant.example',
      '--code',
      code!.toLowerCase().replace('-', ' '),
    );
    expect(right).toMatchObject({ code: 0 });
    expect(right.stdout).toMatch(/code accepted/);
    expect(((await handle.result()) as CycleResult).state).toBe('completed');
    const accepted = (await s.dmz.audit.timeline(handle.workflowId)).find((e) => e.type === 'receipt.accepted');
    expect(accepted?.data).toMatchObject({ via: 'code', relays: [{ relay: relayName(), outcome: 'imported' }] });
    await recordHistory(handle, 'isolated-dmz-cycle-receipt-refusals-then-code-by-relay');
  });

  it('refuses to start a side whose key file is missing, naming the setting', async () => {
    const config = structuredClone(s.airgapped.config);
    config.sites[0]!.isolated!.keyFile = path.join(s.keys.dir, 'missing.key.pem');
    await expect(s.workersFor(config, s.airgapped)).rejects.toThrow(
      /sites\.0\.isolated\.keyFile: .*missing\.key\.pem does not exist/,
    );
    const trustless = structuredClone(s.dmz.config);
    trustless.sites[0]!.isolated!.trust = [{ publicKeyFile: path.join(s.keys.dir, 'gone.pub.pem') }];
    await expect(s.workersFor(trustless, s.dmz)).rejects.toThrow(
      /sites\.0\.isolated\.trust\.0\.publicKeyFile: .*gone\.pub\.pem does not exist/,
    );
  });
});

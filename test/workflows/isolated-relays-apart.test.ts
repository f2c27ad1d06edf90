/**
 * An isolated site whose relays are machines of their own (issue 13, "no shared disk"): each
 * relay's host worker runs in a process of its own, in a mount namespace where its side's control
 * data folder is hidden (an empty tmpfs over it), with a configuration that holds no private key.
 * The DMZ package is written by the DMZ relay's host worker while the control worker only signs;
 * the air-gapped side places the zip by a person (placement: person) and confirms a manual relay
 * cleanup; `placement: copy` with a relay that cannot read the staged zip fails at once, naming
 * the setting. Real Temporal, real files, the real simulator.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { writePackage, packageFolderOf } from '../../src/adapters/transfer-medium';
import { ISOLATED_DMZ_CYCLE_WORKFLOW } from '../../src/domain/isolated';
import { MANIFEST_FILE } from '../../src/domain/transfer-package';
import { cycleStateQuery, type CycleResult, type CycleView } from '../../src/workflows/cycle-messages';
import {
  cancelUpdate,
  intakeStateQuery,
  manualStepDoneUpdate,
  receiptArrivedUpdate,
  type IntakeResult,
  type IntakeView,
} from '../../src/workflows/isolated-messages';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';
import { offerPackage, startIsolatedStack, type IsolatedStack, type Side } from '../helpers/isolated-stack';
import { pollQuery } from '../helpers/poll-query';
import { recordHistory } from '../helpers/record-history';

jest.setTimeout(240_000);

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'airgap.js');

/**
 * How this machine gives a process a mount namespace of its own: as root `unshare -m`, otherwise
 * with an unprivileged user namespace `unshare -rm`. Neither possible → the test says so plainly.
 */
const UNSHARE_ARGS: string[] = (() => {
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'unshare-probe-'));
  try {
    for (const args of [['-m'], ['-rm']]) {
      const tried = spawnSync('unshare', [...args, 'mount', '-t', 'tmpfs', 'probe', probe], { encoding: 'utf8' });
      if (tried.status === 0) return args;
    }
    return [];
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
})();

/**
 * `airgap worker --host <relay>` as on the relay's own machine: its own configuration (its own
 * data folder, a key file that does not exist), and the control side's data folder out of sight.
 */
function relayMachine(s: IsolatedStack, side: Side, host: string): { child: ChildProcess; output: () => string } {
  const machine = path.join(s.sim.dir, `${host}-machine`);
  fs.mkdirSync(path.join(machine, 'data'), { recursive: true });
  const doc = parseYaml(fs.readFileSync(side.configFile, 'utf8')) as {
    dataDir: string;
    sites: { isolated: Record<string, unknown> }[];
  };
  doc.dataDir = path.join(machine, 'data');
  doc.sites[0]!.isolated.keyFile = path.join(machine, 'no-private-key-on-a-relay.pem');
  const configFile = path.join(machine, 'airgap.yaml');
  fs.writeFileSync(configFile, stringifyYaml(doc));
  if (UNSHARE_ARGS.length === 0) {
    throw new Error(
      'this test hides the control data folder from the relay workers in a mount namespace: neither `unshare -m` (root) nor `unshare -rm` (user namespaces) works on this machine',
    );
  }
  let output = '';
  const child = spawn(
    'unshare',
    [
      ...UNSHARE_ARGS,
      'sh',
      '-c',
      'mount -t tmpfs hidden "$HIDE" && exec "$NODE" "$BIN" --config "$CFG" worker --host "$HOST"',
    ],
    {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        HIDE: side.config.dataDir,
        NODE: process.execPath,
        BIN,
        CFG: configFile,
        HOST: host,
        TEMPORAL_ADDRESS: testTemporalAddress(),
        TEMPORAL_NAMESPACE: TEST_NAMESPACE,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

/** The fs calls of this process (the control workers) that named a path, while `spying`. */
function spyOnFiles() {
  const touched: string[] = [];
  const spies = [
    jest.spyOn(fs.promises, 'open'),
    jest.spyOn(fs.promises, 'copyFile'),
    jest.spyOn(fs.promises, 'readFile'),
    jest.spyOn(fs, 'createReadStream'),
    jest.spyOn(fs, 'readFileSync'),
    jest.spyOn(fs, 'copyFileSync'),
    jest.spyOn(fs, 'openSync'),
  ] as jest.SpyInstance[];
  return {
    touched: () => [...touched, ...spies.flatMap((sp) => sp.mock.calls.map((c) => String(c[0])))],
    restore: () => spies.forEach((sp) => sp.mockRestore()),
  };
}

describe('an isolated site whose relays do not share a disk with the control workers', () => {
  let s: IsolatedStack;
  const relays: { child: ChildProcess; output: () => string }[] = [];
  beforeAll(async () => {
    s = await startIsolatedStack({
      relaysApart: true,
      airgappedIsolated: { placement: 'person' },
      editSite: (site) => {
        site.steps = { ...(site.steps as object), relayCleanup: 'manual' };
      },
    });
    relays.push(relayMachine(s, s.dmz, s.dmz.config.sites[0]!.dmz.relay.name));
    relays.push(relayMachine(s, s.airgapped, s.airgapped.config.sites[0]!.airgapped.relays[0]!.name));
  });
  afterAll(async () => {
    for (const r of relays) await stop(r.child);
    await s?.close();
  });

  const agRelay = () => s.airgapped.config.sites[0]!.airgapped.relays[0]!;
  const installDir = () => agRelay().installDir!;
  const importLog = () => {
    const state = s.sim.sim.control.snapshot();
    const relay = Object.values(state.managers)
      .flatMap((m) => Object.values(m.computers))
      .find((c) => c.hostName === agRelay().name);
    return (relay?.importLog ?? []).map((l) => l.fileName);
  };
  const startDmzCycle = (): Promise<WorkflowHandle> =>
    s.client.workflow.start(ISOLATED_DMZ_CYCLE_WORKFLOW, {
      taskQueue: s.dmz.config.temporal.taskQueue,
      workflowId: `cycle-plant-${s.sim.tag}-${randomBytes(3).toString('hex')}`,
      args: [{ site: 'plant', trigger: { who: 'test@plant.example', channel: 'cli' } }],
    });
  const awaitingReceipt = (h: WorkflowHandle): Promise<CycleView> =>
    pollQuery(h, cycleStateQuery, (v) => v.state === 'awaiting-receipt' || !!v.outcome, 90_000).catch((err: Error) => {
      throw new Error(`${err.message}\nrelay machines:\n${relays.map((r) => r.output()).join('\n')}`);
    });
  const startIntake = (folder: string): Promise<WorkflowHandle> => offerPackage(s, folder);
  const waitingFor = (h: WorkflowHandle, what: string) =>
    pollQuery(h, intakeStateQuery, (v: IntakeView) => v.waitingFor?.what === what || !!v.outcome, 60_000);

  let second: { handle: WorkflowHandle; view: CycleView };
  /** Intake runs a failed test may leave open. */
  const open: WorkflowHandle[] = [];

  it("writes the package through the DMZ relay's host worker: the control worker never opens the zip; a cancel takes it off the medium", async () => {
    s.sim.sim.control.publishUpdate();
    const files = spyOnFiles();
    let view: CycleView;
    let handle: WorkflowHandle;
    try {
      handle = await startDmzCycle();
      view = await awaitingReceipt(handle);
      // The spies see this process's reads: a read of the manifest here is recorded.
      const folder = packageFolderOf(s.medium, handle.workflowId);
      await fs.promises.readFile(path.join(folder, MANIFEST_FILE));
      expect(files.touched()).toContain(path.join(folder, MANIFEST_FILE));
    } finally {
      files.restore();
    }
    expect(view.state).toBe('awaiting-receipt');
    const zipName = view.bundle!.fileName;
    // Nothing in this process (the DMZ control worker, and the air-gapped one) opened the zip.
    expect(files.touched().filter((p) => p.includes(zipName))).toEqual([]);
    const folder = packageFolderOf(s.medium, handle.workflowId);
    expect(fs.readdirSync(folder).sort()).toEqual([zipName, MANIFEST_FILE, `${MANIFEST_FILE}.sig`].sort());
    // No half package stays behind on the medium.
    expect(fs.readdirSync(s.medium).filter((f) => f.startsWith('.'))).toEqual([]);
    const verified = spawnSync(
      'openssl',
      [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        s.keys.dmzPublic,
        '-rawin',
        '-in',
        path.join(folder, MANIFEST_FILE),
        '-sigfile',
        path.join(folder, `${MANIFEST_FILE}.sig`),
      ],
      { encoding: 'utf8' },
    );
    expect(verified.status).toBe(0);
    const relayName = s.dmz.config.sites[0]!.dmz.relay.name;
    const written = (await s.dmz.audit.timeline(handle.workflowId)).find((e) => e.type === 'package.written');
    expect(written?.data).toMatchObject({ by: relayName, folder, zipName });
    // The history: the zip's bytes were handled on the relay's queue; the control worker signed
    // from name, size and SHA-256, and no activity of the control queue was given the zip's path.
    const scheduled: { type: string; queue: string; input: string }[] = [];
    for (const e of (await handle.fetchHistory()).events ?? []) {
      const a = e.activityTaskScheduledEventAttributes;
      if (!a) continue;
      scheduled.push({
        type: a.activityType!.name!,
        queue: a.taskQueue!.name!,
        input: (a.input?.payloads ?? []).map((p) => Buffer.from(p.data!).toString('utf8')).join(' '),
      });
    }
    const on = (type: string) => scheduled.find((x) => x.type === type);
    expect(on('stagePackageZip')?.queue).toMatch(new RegExp(relayName));
    expect(on('publishPackage')?.queue).toMatch(new RegExp(relayName));
    expect(on('signTransferManifest')?.queue).toBe(s.dmz.config.temporal.taskQueue);
    expect(on('writeTransferPackage')).toBeUndefined();
    expect(
      scheduled.filter((x) => x.queue === s.dmz.config.temporal.taskQueue && x.input.includes(view.bundle!.path)),
    ).toEqual([]);

    await handle.executeUpdate(cancelUpdate, {
      args: [{ by: 'op@plant.example', reason: 'the courier is ill; next week' }],
    });
    expect(((await handle.result()) as CycleResult).state).toBe('cancelled');
    expect(fs.existsSync(folder)).toBe(false);
    const removed = (await s.dmz.audit.timeline(handle.workflowId)).find((e) => e.type === 'package.removed');
    expect(removed?.data).toMatchObject({ folder, removed: true, forgotten: true });
    await recordHistory(handle, 'isolated-dmz-cycle-cancelled-package-removed');
  });

  it('the next cycle writes a new package: the withdrawn one is not counted as sent', async () => {
    const handle = await startDmzCycle();
    const view = await awaitingReceipt(handle);
    expect(view.state).toBe('awaiting-receipt');
    const written = (await s.dmz.audit.timeline(handle.workflowId)).find((e) => e.type === 'package.written');
    expect(written?.data).toMatchObject({ previousCycleId: null });
    second = { handle, view };
  });

  it('placement: person — a person copies the zip, a renamed and a cut-short copy are named and asked again, then the import and a confirmed manual cleanup', async () => {
    const pkg = packageFolderOf(s.medium, second.handle.workflowId);
    const zip = second.view.bundle!;
    const intake = await startIntake(pkg);
    open.push(intake);
    let v = await waitingFor(intake, 'manual:place-zip');
    expect(v.outcome).toBeUndefined();
    // The mail names the file, its size and SHA-256, the relay, its OS and its install folder.
    const mailTexts = async () =>
      (
        await Promise.all(
          (await s.airgapped.outbox.list({ workflowId: intake.workflowId })).map((m) => s.airgapped.outbox.get(m.id)),
        )
      ).map((m) => (m?.text ?? '').replace(/\s+/g, ' '));
    let ask: string | undefined;
    for (const until = Date.now() + 20_000; !ask && Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
      ask = (await mailTexts()).find((t) => t.includes(zip.sha256));
    }
    if (!ask) throw new Error(`no mail names the zip's SHA-256; mails: ${(await mailTexts()).join('\n---\n')}`);
    expect(ask).toContain(zip.fileName);
    expect(ask).toContain(`${zip.size} bytes`);
    expect(ask).toContain(installDir());
    expect(ask).toContain(`${agRelay().name} (${agRelay().os})`);

    const mismatchOf = async (step: string) =>
      (await s.airgapped.audit.timeline(intake.workflowId)).find(
        (e) => e.type === 'arrival.mismatch' && (e.data as { step?: string }).step === step,
      );
    // A renamed copy: named as such, nothing imported, asked again; it is removed once the right copy is there.
    const renamed = path.join(installDir(), `copy of ${zip.fileName}`);
    fs.copyFileSync(path.join(pkg, zip.fileName), renamed);
    await intake.executeUpdate(manualStepDoneUpdate, { args: [{ step: 'place-zip', by: 'op@plant.example' }] });
    expect((await waitingFor(intake, 'manual:place-zip-2')).outcome).toBeUndefined();
    expect((await mismatchOf('place-zip'))?.data).toMatchObject({ relay: agRelay().name, status: 'renamed' });
    expect(importLog()).toEqual([]);

    // A copy cut short: the relay's check names it, nothing is imported, the person is asked again.
    const target = path.join(installDir(), zip.fileName);
    fs.writeFileSync(target, fs.readFileSync(path.join(pkg, zip.fileName)).subarray(0, 1000));
    await intake.executeUpdate(manualStepDoneUpdate, { args: [{ step: 'place-zip-2', by: 'op@plant.example' }] });
    v = await waitingFor(intake, 'manual:place-zip-3');
    expect(v.outcome).toBeUndefined();
    expect(v.waitingFor?.instructions?.join(' ')).toMatch(/did not verify/);
    expect((await mismatchOf('place-zip-2'))?.data).toMatchObject({ relay: agRelay().name, status: 'truncated' });
    expect(importLog()).toEqual([]);
    // The retry is refused under the first step's name: it was answered.
    await expect(
      intake.executeUpdate(manualStepDoneUpdate, { args: [{ step: 'place-zip', by: 'op@plant.example' }] }),
    ).rejects.toThrow();

    fs.copyFileSync(path.join(pkg, zip.fileName), target);
    await intake.executeUpdate(manualStepDoneUpdate, { args: [{ step: 'place-zip-3', by: 'op@plant.example' }] });
    v = await waitingFor(intake, 'manual:relay-cleanup');
    expect(v.outcome).toBeUndefined();
    expect(importLog()).toEqual([zip.fileName]);
    // Cleanup is manual: the zip is still there until the person deletes it.
    expect(fs.existsSync(target)).toBe(true);
    // The receipt is on the medium already, so the DMZ side need not wait for the deletion.
    expect(v.code).toMatch(/^[A-Z2-7]{5}-[A-Z2-7]{5}$/);
    expect(fs.existsSync(path.join(v.receiptFolder!, 'receipt.json'))).toBe(true);
    await second.handle.executeUpdate(receiptArrivedUpdate, { args: [{ by: 'op@plant.example', code: v.code }] });
    expect(((await second.handle.result()) as CycleResult).state).toBe('completed');
    await recordHistory(second.handle, 'isolated-dmz-cycle-completed-by-relay');

    fs.rmSync(target);
    await intake.executeUpdate(manualStepDoneUpdate, { args: [{ step: 'relay-cleanup', by: 'op@plant.example' }] });
    const result = (await intake.result()) as IntakeResult;
    expect(result).toMatchObject({ state: 'completed', code: v.code });
    const audit = await s.airgapped.audit.timeline(intake.workflowId);
    expect(audit.find((e) => e.type === 'arrival.verified')?.data).toMatchObject({
      relay: agRelay().name,
      placed: false,
      step: 'place-zip-3',
    });
    // The renamed copy went before the import, by the relay's own worker.
    expect(fs.existsSync(renamed)).toBe(false);
    expect(audit.find((e) => e.type === 'relay.stray-removed')?.data).toMatchObject({
      relay: agRelay().name,
      path: renamed,
      removed: true,
    });
    const types0 = audit.map((e) => e.type);
    expect(types0.indexOf('relay.stray-removed')).toBeLessThan(types0.indexOf('import.triggered'));
    expect(audit.find((e) => e.type === 'relay.cleanup-confirmed')?.data).toMatchObject({
      relay: agRelay().name,
      confirmed: true,
      by: 'op@plant.example',
    });
    expect(audit.find((e) => e.type === 'relay.cleanup-left')).toBeUndefined();
    // Written before the cleanup was asked: the audit says it was asked, then that it was confirmed.
    const types = audit.map((e) => e.type);
    expect(audit.find((e) => e.type === 'receipt.written')?.data).toMatchObject({ cleanup: 'asked' });
    expect(types.indexOf('receipt.written')).toBeLessThan(types.indexOf('relay.cleanup-confirmed'));
    await recordHistory(intake, 'isolated-intake-person-placement');
  });

  it('placement: copy with a relay that cannot read the staged zip fails at once, naming the setting; nothing is imported', async () => {
    // The air-gapped control worker restarted with placement: copy (the default); nothing of
    // this side may still be running (a run of a failed test above is ended first).
    for (const h of open.splice(0)) await h.terminate('test: restarting the workers').catch(() => undefined);
    s.airgapped.workers!.shutdown();
    await s.airgapped.running;
    const config = structuredClone(s.airgapped.config);
    delete config.sites[0]!.isolated!.placement;
    s.airgapped.workers = await s.workersFor(config, s.airgapped);
    s.airgapped.running = s.airgapped.workers.run();

    const zipDir = fs.mkdtempSync(path.join(s.sim.dir, 'craft-'));
    const zipPath = path.join(zipDir, 'bundle-unreachable.zip');
    fs.writeFileSync(zipPath, randomBytes(4096));
    const p = await writePackage({
      medium: s.medium,
      zipPath,
      site: 'plant',
      cycleId: `cycle-plant-${s.sim.tag}-unreachable`,
      previousCycleId: second.handle.workflowId,
      versions: second.view.bundle!.versions.map((v) => ({ name: v.name, version: `${v.version}9` })),
      installationId: `dmz-${s.sim.tag}`,
      privateKey: createPrivateKey(fs.readFileSync(s.keys.dmzPrivate, 'utf8')),
      now: new Date(),
    });
    const before = importLog();
    const started = Date.now();
    const intake = await offerPackage(s, p.folder, config);
    const result = (await intake.result()) as IntakeResult;
    expect(result.state).toBe('failed');
    expect(result.reason).toMatch(/cannot read the staged zip/);
    expect(result.reason).toMatch(/sites\[\]\.isolated\.placement: person/);
    // Not retried for minutes: a retry cannot make the file appear on another machine.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(importLog()).toEqual(before);
    expect(fs.readdirSync(installDir()).filter((f) => f.endsWith('.zip'))).toEqual([]);
    await recordHistory(intake, 'isolated-intake-copy-unreachable');
  });
});

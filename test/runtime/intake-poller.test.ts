/**
 * The intake pollers of an isolated site across a restart: real files on a medium folder, both
 * installations' workers on the test run's Temporal server, and each poller started again as a
 * new instance over the same data folder. What was handled is not offered again (the poller's
 * own report, and no second record in either audit); what changed at the same path is; a
 * person's `airgap intake <folder>` still offers everything it is given.
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { generateSigningKeyPair } from '../../src/adapters/signing';
import { packageFolderOf, writePackage, writeReceipt } from '../../src/adapters/transfer-medium';
import type { AuditRecord } from '../../src/domain/audit';
import { intakeWorkflowIdOf, ISOLATED_DMZ_CYCLE_WORKFLOW } from '../../src/domain/isolated';
import {
  handledBeforeLine,
  startIntakePoller,
  type HandledBefore,
  type IntakePoller,
} from '../../src/runtime/intake-poller';
import type { AppConfig } from '../../src/domain/config';
import { cycleStateQuery, type CycleResult, type CycleView } from '../../src/workflows/cycle-messages';
import type { IntakeResult } from '../../src/workflows/isolated-messages';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';
import { runCliInProcess } from '../helpers/in-process-cli';
import { startIsolatedStack, type IsolatedStack, type Side } from '../helpers/isolated-stack';
import { pollQuery } from '../helpers/poll-query';

jest.setTimeout(180_000);

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the intake pollers after a restart', () => {
  let s: IsolatedStack;
  const saved = { address: process.env.TEMPORAL_ADDRESS, namespace: process.env.TEMPORAL_NAMESPACE };
  beforeAll(async () => {
    s = await startIsolatedStack();
    process.env.TEMPORAL_ADDRESS = testTemporalAddress();
    process.env.TEMPORAL_NAMESPACE = TEST_NAMESPACE;
  });
  afterAll(async () => {
    process.env.TEMPORAL_ADDRESS = saved.address;
    process.env.TEMPORAL_NAMESPACE = saved.namespace;
    await s?.close();
  });

  const pollers: IntakePoller[] = [];
  afterEach(async () => {
    for (const p of pollers.splice(0)) await p.stop();
  });
  const poll = (config: AppConfig) => {
    const errors: unknown[] = [];
    const told: HandledBefore[] = [];
    const p = startIntakePoller({
      client: s.client,
      config,
      everyMs: 250,
      onError: (e) => errors.push(e),
      onHandledBefore: (h) => told.push(h),
    });
    pollers.push(p);
    return Object.assign(p, { errors, told });
  };
  /** A side's audit records of one run. */
  const records = (side: Side, workflowId: string): Promise<AuditRecord[]> => side.audit.timeline(workflowId);
  const types = async (side: Side, workflowId: string) => (await records(side, workflowId)).map((r) => r.type);

  let cycle: { handle: WorkflowHandle; view: CycleView; packageFolder: string; receiptFolder: string };
  let crafted: { folder: string; cycleId: string };

  /** A package written by hand onto the medium for `site`, signed by `key` (the DMZ key unless said). */
  const craft = async (cycleId: string, site: string, key = createPrivateKey(fs.readFileSync(s.keys.dmzPrivate))) => {
    const zipDir = fs.mkdtempSync(path.join(s.sim.dir, 'craft-'));
    const zipPath = path.join(zipDir, `bundle-${randomBytes(3).toString('hex')}.zip`);
    fs.writeFileSync(zipPath, randomBytes(4096));
    return writePackage({
      medium: s.medium,
      zipPath,
      site,
      cycleId,
      previousCycleId: null,
      versions: cycle.view.bundle!.versions.map((v) => ({ name: v.name, version: `${v.version}9` })),
      installationId: `dmz-${s.sim.tag}`,
      privateKey: key,
      now: new Date(),
    });
  };

  it('first run: the pollers carry a whole cycle through and refuse a package for another site', async () => {
    s.sim.sim.control.publishUpdate();
    const handle = await s.client.workflow.start(ISOLATED_DMZ_CYCLE_WORKFLOW, {
      taskQueue: s.dmz.config.temporal.taskQueue,
      workflowId: `cycle-plant-${s.sim.tag}-${randomBytes(3).toString('hex')}`,
      args: [{ site: 'plant', trigger: { who: 'test@plant.example', channel: 'cli' } }],
    });
    const view = await pollQuery(handle, cycleStateQuery, (v) => v.state === 'awaiting-receipt' || !!v.outcome, 60_000);
    expect(view.state).toBe('awaiting-receipt');
    cycle = { handle, view, packageFolder: packageFolderOf(s.medium, handle.workflowId), receiptFolder: '' };
    const other = await craft(`cycle-plant-${s.sim.tag}-elsewhere`, 'elsewhere');
    crafted = { folder: other.folder, cycleId: other.manifest.cycleId };

    const ag = poll(s.airgapped.config);
    const dmz = poll(s.dmz.config);
    // The package goes in, the receipt comes back, the DMZ cycle closes: all by the pollers.
    expect(((await handle.result()) as CycleResult).state).toBe('completed');
    const intake = (await s.client.workflow
      .getHandle(intakeWorkflowIdOf(path.basename(cycle.packageFolder)))
      .result()) as IntakeResult;
    expect(intake.state).toBe('completed');
    cycle.receiptFolder = intake.receiptFolder!;
    const refused = (await s.client.workflow
      .getHandle(intakeWorkflowIdOf(path.basename(crafted.folder)))
      .result()) as IntakeResult;
    expect(refused).toMatchObject({ state: 'refused', refusal: 'other-site' });
    await until('the receipt offered', () => dmz.report().offered.length > 0);

    expect(
      ag
        .report()
        .offered.map((o) => [o.folder, o.status])
        .sort(),
    ).toEqual(
      [
        [cycle.packageFolder, 'started'],
        [crafted.folder, 'started'],
      ].sort(),
    );
    expect(dmz.report().offered).toEqual([
      expect.objectContaining({ kind: 'receipt', folder: cycle.receiptFolder, status: 'accepted' }),
    ]);
    expect([...ag.errors, ...dmz.errors]).toEqual([]);
    expect(fs.existsSync(path.join(s.airgapped.config.dataDir, 'intake', 'handled.json'))).toBe(true);
  });

  it('after a restart, offers nothing it handled: the report says so and neither audit gets a second record', async () => {
    const intakeId = intakeWorkflowIdOf(path.basename(cycle.packageFolder));
    const craftedId = intakeWorkflowIdOf(path.basename(crafted.folder));
    const before = {
      intake: await types(s.airgapped, intakeId),
      crafted: await types(s.airgapped, craftedId),
      cycle: await types(s.dmz, cycle.handle.workflowId),
    };
    expect(before.crafted.filter((t) => t === 'package.refused')).toHaveLength(1);

    // New poller instances over the same data folders: what a restarted installation runs.
    const ag = poll(s.airgapped.config);
    const dmz = poll(s.dmz.config);
    await until('three passes each', () => ag.report().passes >= 3 && dmz.report().passes >= 3);
    await Promise.all([ag.stop(), dmz.stop()]);

    expect(ag.report().offered).toEqual([]);
    expect(dmz.report().offered).toEqual([]);
    expect(
      ag
        .report()
        .handledBefore.map((h) => [h.folder, h.entry.status, h.entry.workflowId])
        .sort(),
    ).toEqual(
      [
        [cycle.packageFolder, 'started', intakeId],
        [crafted.folder, 'started', craftedId],
      ].sort(),
    );
    expect(dmz.report().handledBefore).toEqual([
      expect.objectContaining({
        kind: 'receipt',
        folder: cycle.receiptFolder,
        entry: expect.objectContaining({ status: 'accepted', workflowId: cycle.handle.workflowId }),
      }),
    ]);
    // Told once per folder (a log line after a restart), however many passes left it out.
    expect(ag.told).toEqual(ag.report().handledBefore);
    expect(dmz.told).toEqual(dmz.report().handledBefore);
    // The line `airgap start` and `airgap worker` log for it: why not taken, how to offer it anyway.
    expect(handledBeforeLine(dmz.told[0]!)).toBe(
      `intake: receipt ${cycle.receiptFolder}: offered before (accepted, ${cycle.handle.workflowId}, ` +
        `${dmz.told[0]!.entry.at}), not offered again; \`airgap intake ${cycle.receiptFolder}\` offers it by hand`,
    );
    expect([...ag.errors, ...dmz.errors]).toEqual([]);
    // No "already imported", no second refusal, nothing on the closed cycle.
    expect(await types(s.airgapped, intakeId)).toEqual(before.intake);
    expect(await types(s.airgapped, craftedId)).toEqual(before.crafted);
    expect(await types(s.dmz, cycle.handle.workflowId)).toEqual(before.cycle);
  });

  it('by hand, `airgap intake <folder>` still offers everything: a person gets the real answer', async () => {
    const intakeId = intakeWorkflowIdOf(path.basename(cycle.packageFolder));
    const run = await runCliInProcess(s.airgapped.configFile, 'intake', s.medium, '--by', 'op@plant.example', '--wait');
    expect(run.stdout).toContain(`already imported by cycle ${cycle.handle.workflowId}`);
    expect(run.stdout).toMatch(/refused \(other-site\)/);
    expect(run.code).toBe(1);
    const refusals = (await records(s.airgapped, intakeId)).filter((r) => r.type === 'package.refused');
    expect(refusals.map((r) => r.data?.refusal)).toEqual(['already-imported']);

    // What the person did is remembered: a poller after them does not offer it again.
    const ag = poll(s.airgapped.config);
    await until('three passes', () => ag.report().passes >= 3);
    await ag.stop();
    expect(ag.report().offered).toEqual([]);
    expect(ag.report().handledBefore).toHaveLength(2);
  });

  it('offers again a package or receipt that changed at the same path, and it is answered on its merits', async () => {
    const craftedId = intakeWorkflowIdOf(path.basename(crafted.folder));
    // The same cycle's folder, now holding a package signed by a key the air-gapped side does not trust.
    fs.rmSync(crafted.folder, { recursive: true });
    const stranger = createPrivateKey(generateSigningKeyPair().privateKeyPem);
    const replaced = await craft(crafted.cycleId, 'plant', stranger);
    expect(replaced.folder).toBe(crafted.folder);
    // The receipt folder, written again with other content (a receipt the DMZ side cannot use).
    fs.rmSync(cycle.receiptFolder, { recursive: true });
    await writeReceipt({
      medium: s.medium,
      site: 'plant',
      cycleId: cycle.handle.workflowId,
      manifestSha256: '0'.repeat(64),
      relays: [
        {
          relay: s.airgapped.config.sites[0]!.airgapped.relays[0]!.name,
          outcome: 'imported',
          versions: cycle.view.bundle!.versions,
        },
      ],
      installationId: 'ag-other',
      privateKey: stranger,
      now: new Date(),
    });

    const ag = poll(s.airgapped.config);
    const dmz = poll(s.dmz.config);
    await until('both offered', () => ag.report().offered.length > 0 && dmz.report().offered.length > 0);
    await until('three passes each', () => ag.report().passes >= 3 && dmz.report().passes >= 3);
    await Promise.all([ag.stop(), dmz.stop()]);

    // Only the changed ones: the imported package stays left out.
    expect(ag.report().offered).toEqual([
      expect.objectContaining({ folder: crafted.folder, status: 'started', workflowId: craftedId }),
    ]);
    expect(ag.report().handledBefore.map((h) => h.folder)).toEqual([cycle.packageFolder]);
    const result = (await s.client.workflow.getHandle(craftedId).result()) as IntakeResult;
    expect(result).toMatchObject({ state: 'refused', refusal: 'unknown-key' });
    const refusals = (await records(s.airgapped, craftedId)).filter((r) => r.type === 'package.refused');
    expect(refusals.map((r) => r.data?.refusal)).toEqual(['other-site', 'other-site', 'unknown-key']);
    // The receipt goes to its cycle, which has ended.
    expect(dmz.report().offered).toEqual([
      expect.objectContaining({ kind: 'receipt', folder: cycle.receiptFolder, status: 'ended' }),
    ]);
    expect(dmz.report().offered[0]!.message).toContain(`cycle ${cycle.handle.workflowId} has ended`);
    expect([...ag.errors, ...dmz.errors]).toEqual([]);
  });
});

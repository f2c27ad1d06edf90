/**
 * Rule updates (.dsru) across the gap on a simulated site: a person exports them on the DMZ
 * manager (simulator control), carries them into the import folder, and imports them in the
 * air-gapped console (simulator control); the workflow checks and records everything else.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { recordHistory } from '../helpers/record-history';
import { RULE_UPDATE_COMPONENT } from '../../src/domain/rules';
import { formatRuleUpdate, parseRuleUpdate } from '../../src/domain/versions';
import type { RuleFileRecord } from '../../src/sim';
import {
  approveUpdate,
  cancelUpdate,
  manualStepDoneUpdate,
  rulesCopiedUpdate,
  rulesExportedUpdate,
  rulesStateQuery,
  type RulesTransferResult,
  type RulesView,
} from '../../src/workflows/rules-messages';
import { firstCycleMail } from '../helpers/cycle-assert';
import { startSetupStack, type SetupStack } from '../helpers/setup-stack';

/** The validator's reason for refusing an Update (the client wraps it in WorkflowUpdateFailedError). */
async function refusalOf(update: Promise<unknown>): Promise<string> {
  try {
    await update;
  } catch (err) {
    return ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
  }
  throw new Error('expected the update to be refused');
}

const previous = (id: string) => {
  const r = parseRuleUpdate(id);
  return formatRuleUpdate({ year: r.year, sequence: r.sequence - 1 });
};

describe('a rule update transfer', () => {
  let stack: SetupStack;
  let downloads: string;
  beforeAll(async () => {
    stack = await startSetupStack({ approval: { policy: 'any' } });
    downloads = path.join(stack.dir, 'downloads');
  });
  afterAll(() => stack.close());

  const waitFor = (handle: WorkflowHandle, test: (v: RulesView) => boolean) =>
    stack.waitForView(handle, rulesStateQuery, test);
  const exportAll = (ids: string[]) =>
    ids.map((version) => stack.sim.control.exportRuleUpdate({ siteId: 'plant', version, folder: downloads }));
  const report = (files: RuleFileRecord[]) =>
    files.map((f) => ({ fileName: f.fileName, sha256: f.sha256.slice(0, 16), size: f.size }));
  const carry = (files: RuleFileRecord[]) => {
    fs.mkdirSync(stack.importFolder, { recursive: true });
    for (const f of files) fs.copyFileSync(f.path, path.join(stack.importFolder, f.fileName));
  };
  const relayRuleUpdate = async () =>
    (await stack.agApi.getComputer({ computerId: 21 })).securityUpdates!.components.find(
      (c) => c.name === RULE_UPDATE_COMPONENT,
    )!.version;

  it('exports, carries, verifies, waits for approval and the manual import, and confirms the manager reports the newest', async () => {
    const handle = await stack.start('rulesTransferWorkflow', 'rules', {});
    const waiting = await waitFor(handle, (v) => v.state === 'awaiting-export');
    const { current, latest } = waiting;
    expect(waiting.pending!.ids.length).toBeGreaterThan(0);
    expect(waiting.pending!.ids.at(-1)).toBe(latest);
    expect(waiting.pending!.ids[0]).not.toBe(current);
    const exportMail = await firstCycleMail(stack, handle.workflowId, 'manual-step');
    expect(exportMail.text).toContain('Administration → Updates → Security → Rules');
    expect(exportMail.text).toContain(latest!);

    const files = exportAll(waiting.pending!.ids);
    await handle.executeUpdate(rulesExportedUpdate, { args: [{ by: 'second@plant.example', files: report(files) }] });
    await waitFor(handle, (v) => v.state === 'awaiting-transfer');
    carry(files);
    await handle.executeUpdate(rulesCopiedUpdate, { args: [{ by: 'carrier@plant.example' }] });

    const verified = await waitFor(handle, (v) => v.state === 'awaiting-approval');
    expect(verified.files.map((f) => [f.status, f.sha256Full, f.sizeArrived])).toEqual(
      files.map((f) => ['verified', f.sha256, f.size]),
    );
    const approvalMail = await firstCycleMail(stack, handle.workflowId, 'approval-request');
    expect(approvalMail.subject).toContain('rule transfer');
    expect(approvalMail.text).toContain(`from rule update ${current} to ${latest}`);
    for (const f of files) expect(approvalMail.text).toContain(f.sha256);
    // An approver exported the files: the site's policy bars them from approving their import.
    expect(await refusalOf(handle.executeUpdate(approveUpdate, { args: [{ by: 'second@plant.example' }] }))).toContain(
      'forbids the carrier',
    );
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'approver@plant.example' }] });

    const importing = await waitFor(handle, (v) => v.waitingFor?.what === 'manual:import-rules');
    expect(importing.waitingFor!.instructions!.join('\n')).toContain(path.join(stack.importFolder, files[0]!.fileName));
    expect(await relayRuleUpdate()).toBe(current);
    for (const f of files) {
      await stack.sim.control.importRuleUpdate({ siteId: 'plant', path: path.join(stack.importFolder, f.fileName) });
    }
    await handle.executeUpdate(manualStepDoneUpdate, {
      args: [{ step: 'import-rules', by: 'operator@plant.example' }],
    });

    const result = (await handle.result()) as RulesTransferResult;
    await recordHistory(handle, 'rules-completed');
    expect(result).toMatchObject({ state: 'completed', before: current, after: latest });
    expect(result.files.map((f) => f.status)).toEqual(files.map(() => 'imported'));
    expect(await relayRuleUpdate()).toBe(latest);
    const audit = await stack.audit.timeline(handle.workflowId);
    expect(audit.map((r) => r.type)).toEqual(
      expect.arrayContaining([
        'rules.started',
        'rules.levels',
        'human.rules-exported',
        'human.rules-copied',
        'arrival.verified',
        'human.approved',
        'manual-step.requested',
        'human.manual-step-done',
        'import.completed',
        'rules.ended',
      ]),
    );
    expect(audit.at(-1)!.outcome).toBe('completed');
    // The status is true for the final state: the manager's level is the new one, the old one is "before".
    const final = await handle.query(rulesStateQuery);
    expect(final).toMatchObject({ current: latest, before: current });
    // No carried file stays in the import folder, and each removal is audited with who did it.
    for (const f of files) expect(fs.existsSync(path.join(stack.importFolder, f.fileName))).toBe(false);
    expect(final.files.map((f) => f.inFolder)).toEqual(files.map(() => 'removed'));
    const removed = audit.filter((r) => r.type === 'rules.file-removed');
    expect(removed.map((r) => r.data?.path).sort()).toEqual(
      files.map((f) => path.join(stack.importFolder, f.fileName)).sort(),
    );
    expect(removed.every((r) => r.actor?.who === `rules ${handle.workflowId}`)).toBe(true);
  });

  it('refuses a rule update older than the one the air-gapped manager has, as a bundle rollback is refused', async () => {
    stack.sim.control.publishUpdate();
    const current = await relayRuleUpdate();
    const older = previous(current);

    const asked = await stack.start('rulesTransferWorkflow', 'rules', { only: [older] });
    const refused = (await asked.result()) as RulesTransferResult;
    expect(refused.state).toBe('failed');
    expect(refused.reason).toContain(`rollback refused: rule update ${older}`);

    const handle = await stack.start('rulesTransferWorkflow', 'rules', {});
    await waitFor(handle, (v) => v.state === 'awaiting-export');
    const [stale] = exportAll([older]);
    const refusal = await refusalOf(
      handle.executeUpdate(rulesExportedUpdate, { args: [{ by: 'carrier@plant.example', files: report([stale!]) }] }),
    );
    expect(refusal).toContain(`rollback refused: ${stale!.fileName} is rule update ${older}`);
    expect((await handle.query(rulesStateQuery)).files).toEqual([]);
    await handle.executeUpdate(cancelUpdate, { args: [{ by: 'operator@plant.example', reason: 'test over' }] });
    expect(((await handle.result()) as RulesTransferResult).state).toBe('cancelled');
  });

  it('reports a copy whose digest is not the exported one, and waits for a good copy before asking for approval', async () => {
    const handle = await stack.start('rulesTransferWorkflow', 'rules', {});
    const waiting = await waitFor(handle, (v) => v.state === 'awaiting-export');
    const files = exportAll(waiting.pending!.ids);
    await handle.executeUpdate(rulesExportedUpdate, { args: [{ by: 'carrier@plant.example', files: report(files) }] });
    await waitFor(handle, (v) => v.state === 'awaiting-transfer');

    carry(files);
    const damaged = path.join(stack.importFolder, files[0]!.fileName);
    const bytes = fs.readFileSync(damaged);
    bytes[100] = bytes[100]! ^ 0xff;
    fs.writeFileSync(damaged, bytes);
    await handle.executeUpdate(rulesCopiedUpdate, { args: [{ by: 'carrier@plant.example' }] });
    const mismatch = await waitFor(
      handle,
      (v) => v.state === 'awaiting-transfer' && v.files.some((f) => f.status === 'mismatch'),
    );
    const bad = mismatch.files.find((f) => f.status === 'mismatch')!;
    expect(bad.problem).toContain(crypto.createHash('sha256').update(bytes).digest('hex'));
    expect(bad.problem).toContain('is not the exported file');

    carry(files);
    await handle.executeUpdate(rulesCopiedUpdate, { args: [{ by: 'carrier@plant.example' }] });
    const verified = await waitFor(handle, (v) => v.state === 'awaiting-approval');
    expect(verified.files.every((f) => f.status === 'verified')).toBe(true);
    const types = (await stack.audit.timeline(handle.workflowId)).map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['arrival.mismatch', 'arrival.verified']));
    await handle.executeUpdate(cancelUpdate, { args: [{ by: 'operator@plant.example', reason: 'test over' }] });
    await handle.result();
    await recordHistory(handle, 'rules-mismatch-cancelled');
  });
});

describe('rule files a failed transfer leaves in the import folder', () => {
  let stack: SetupStack;
  beforeAll(async () => {
    stack = await startSetupStack({ waits: { importTimeout: '2s' } });
  });
  afterAll(() => stack.close());

  it('keeps them for a retry, names them and audits it, and the next transfer of the site removes them', async () => {
    const downloads = path.join(stack.dir, 'downloads');
    const handle = await stack.start('rulesTransferWorkflow', 'rules', {});
    const waiting = await stack.waitForView(handle, rulesStateQuery, (v) => v.state === 'awaiting-export');
    const files = waiting.pending!.ids.map((version) =>
      stack.sim.control.exportRuleUpdate({ siteId: 'plant', version, folder: downloads }),
    );
    await handle.executeUpdate(rulesExportedUpdate, {
      args: [
        {
          by: 'carrier@plant.example',
          files: files.map((f) => ({ fileName: f.fileName, sha256: f.sha256.slice(0, 16), size: f.size })),
        },
      ],
    });
    await stack.waitForView(handle, rulesStateQuery, (v) => v.state === 'awaiting-transfer');
    fs.mkdirSync(stack.importFolder, { recursive: true });
    for (const f of files) fs.copyFileSync(f.path, path.join(stack.importFolder, f.fileName));
    await handle.executeUpdate(rulesCopiedUpdate, { args: [{ by: 'carrier@plant.example' }] });
    await stack.waitForView(handle, rulesStateQuery, (v) => v.waitingFor?.what === 'manual:import-rules');
    // Confirmed without importing: the manager never reports the update, the transfer fails.
    await handle.executeUpdate(manualStepDoneUpdate, {
      args: [{ step: 'import-rules', by: 'operator@plant.example' }],
    });
    expect(((await handle.result()) as RulesTransferResult).state).toBe('failed');

    const paths = files.map((f) => path.join(stack.importFolder, f.fileName)).sort();
    for (const p of paths) expect(fs.existsSync(p)).toBe(true);
    const kept = (await stack.audit.timeline(handle.workflowId)).filter((r) => r.type === 'rules.file-kept');
    expect(kept.map((r) => r.data?.path).sort()).toEqual(paths);
    const failure = await firstCycleMail(stack, handle.workflowId, 'failure');
    expect(failure.text).toContain('Left in the import folder');
    for (const f of files) expect(failure.text).toContain(f.fileName);

    const next = await stack.start('rulesTransferWorkflow', 'rules', {});
    await stack.waitForView(next, rulesStateQuery, (v) => v.state === 'awaiting-export');
    await next.executeUpdate(cancelUpdate, { args: [{ by: 'operator@plant.example', reason: 'test over' }] });
    expect(((await next.result()) as RulesTransferResult).state).toBe('cancelled');
    for (const p of paths) expect(fs.existsSync(p)).toBe(false);
    const removed = (await stack.audit.timeline(next.workflowId)).filter((r) => r.type === 'rules.stale-removed');
    expect(removed.map((r) => r.data?.path).sort()).toEqual(paths);
    expect(
      removed.every((r) => r.data?.leftBy === handle.workflowId && r.actor?.who === `rules ${next.workflowId}`),
    ).toBe(true);
  });
});

/**
 * One transfer package taken in on the air-gapped installation of an isolated site: verified
 * (signature by a trusted DMZ key, size, SHA-256, site, taken in before, rollback), the zip put
 * into each air-gapped relay's install folder under its own name and checked there, the site's
 * approval if its policy wants one, the import triggered and polled (C3), the zips removed (C4),
 * and the signed receipt written onto the medium with the confirmation code shown (audit, mail).
 * A refused package imports nothing, and the audit and the result say why.
 *
 * Its workflow id is derived from the package's cycle (domain/isolated.ts intakeWorkflowIdOf), so
 * the same package taken in twice while the first intake runs cannot start a second import; once
 * the first has imported, the ledger refuses the package as "already imported by cycle X".
 */
import {
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { PackageFacts } from '../activities/isolated-activities';
import type { createManagerActivities } from '../activities/manager-activities';
import { requiredApprovals, type Actor, type BundleInfo } from '../domain/cycle';
import type { WaitProgress } from '../domain/human-wait';
import type { PlannedHost, SitePlan } from '../domain/site-plan';
import type { RelayOutcome } from '../domain/transfer-receipt';
import { describeFailure, MANAGER_RETRY } from './activity-options';
import { approvalGate, decisionRefusal, endAfterError, gateReason, noteTemporalCancel } from './human-gates';
import { cycleStateQuery, type CycleView, type RelayProgress } from './cycle-messages';
import { intakeStateQuery, type IntakeInput, type IntakeResult, type IntakeState } from './isolated-messages';
import { control, hostProxy, isolated } from './isolated-proxies';
import { noteStray, removeStrayCopies, type StrayCopy } from './stray-copies';
import { proofRules, RunKit } from './run-kit';
import { releaseSiteLockSignal, takeSiteLock, type siteLockWorkflow } from './site-lock';

type ManagerActivities = ReturnType<typeof createManagerActivities>;

const managerProxy = (taskQueue: string, timeouts: { startToCloseTimeout: number; heartbeatTimeout?: number }) =>
  proxyActivities<ManagerActivities>({ taskQueue, ...timeouts, retry: MANAGER_RETRY });

interface IntakeRun {
  kit: RunKit;
  input: IntakeInput;
  by: Actor;
  plan?: SitePlan;
  pkg?: PackageFacts;
  relays: RelayOutcome[];
  placed: string[];
  lock?: ChildWorkflowHandle<typeof siteLockWorkflow>;
  receipt?: { folder: string; code: string };
  /**
   * Runs since the zip may be placed by a person (isolated.placement: person) and a manual relay
   * cleanup is confirmed by a person: false in runs that started before, which keep their path.
   */
  guided: boolean;
  /** Copies a person left under another name or in another folder (guided placement). */
  strays: StrayCopy[];
  /** How the relays are cleaned after the import (guided runs): for the receipt's audit. */
  cleanup?: 'automated' | 'asked';
}

// Asked in the run's first workflow task (see RunKit.waitForPeople on why not later).
const GUIDED_PLACEMENT = 'isolated-guided-placement';

const stateOf = (r: IntakeRun) => r.kit.state as IntakeState;
const systemOf = (r: IntakeRun): Actor => ({ who: `intake ${r.kit.info.workflowId}`, channel: 'system' });
/** How often an intake waiting for its site's turn tries again. */
const LOCK_RETRY_MS = 5_000;
const ENDED: readonly IntakeState[] = ['completed', 'failed', 'refused', 'rejected', 'expired', 'cancelled'];

export async function isolatedIntakeWorkflow(input: IntakeInput): Promise<IntakeResult> {
  const kit = new RunKit('cycle', input.site, 'verifying');
  const r: IntakeRun = {
    kit,
    input,
    by: { who: input.by ?? 'intake', channel: input.by ? 'cli' : 'system' },
    relays: [],
    placed: [],
    strays: [],
    guided: patched(GUIDED_PLACEMENT),
  };
  acceptIntakeActions(r);
  try {
    for (const stage of [openIntake, verifyPackage, placeZips, approveImport, importZips]) {
      const ended = await stage(r);
      if (ended) return ended;
    }
    return await cleanupAndReceipt(r);
  } catch (err) {
    return endAfterError(err, {
      noteCancellation: () => noteTemporalCancel(kit),
      cancelled: async (reason) => {
        await removePlaced(r);
        return finishIntake(r, 'cancelled', reason);
      },
      failed: async (reason) => {
        // Guided runs leave no zip importable on a relay after a failure (a relay that could not
        // read the staged copy, with the one before it already placed).
        if (r.guided && stateOf(r) === 'placing') await removePlaced(r);
        return finishIntake(r, 'failed', reason);
      },
    });
  }
}

function acceptIntakeActions(r: IntakeRun): void {
  const { kit } = r;
  setHandler(intakeStateQuery, () => ({
    ...kit.runState(),
    cycleId: r.pkg?.manifest.cycleId,
    zip: r.pkg?.manifest.zip,
    versions: r.pkg?.manifest.versions,
    relays: r.relays,
    code: r.receipt?.code,
    receiptFolder: r.receipt?.folder,
  }));
  // The web app and `airgap cycle status` read every run of kind cycle through the cycle's view.
  setHandler(cycleStateQuery, (): CycleView => {
    return {
      ...kit.runState(),
      state: kit.state as CycleView['state'],
      trigger: r.by,
      bundle: packageBundle(r),
      relays: (r.plan?.relays ?? []).map((h): RelayProgress => {
        const done = r.relays.find((o) => o.relay === h.name);
        const status = done
          ? done.outcome === 'imported'
            ? 'imported'
            : 'mismatch'
          : r.placed.includes(h.name)
            ? 'verified'
            : 'waiting';
        return {
          name: h.name,
          os: h.os,
          targetFolder: h.installDir,
          status,
          ...(done?.detail ? { problem: done.detail } : {}),
        };
      }),
      approvalsRequired: r.plan ? requiredApprovals(r.plan.approval) : 0,
      approvals: kit.approvals,
      carriers: r.input.by ? [r.input.by] : [],
      importAttempts: r.relays.length,
    };
  });
  kit.acceptDecisions({
    noun: 'the import',
    refusal: (by) =>
      decisionRefusal(
        kit,
        {
          noun: 'this intake',
          waiting: () => stateOf(r) === 'awaiting-approval',
          rules: () => r.plan?.approval,
          carriers: () => (r.input.by ? [r.input.by] : []),
          carrierReason: 'took the package in',
        },
        by,
      ),
    required: () => (r.plan ? requiredApprovals(r.plan.approval) : 0),
    auditData: () => ({ cycleId: r.pkg?.manifest.cycleId, sha256: r.pkg?.manifest.zip.sha256 }),
    afterRejection: 'nothing is imported',
  });
  kit.acceptCancel({
    noun: 'the intake',
    isTerminal: () => ENDED.includes(stateOf(r)),
    refusal: () =>
      stateOf(r) === 'importing' || stateOf(r) === 'cleaning-up' || stateOf(r) === 'writing-receipt'
        ? {
            code: 'not-cancellable',
            message: `the import has started (state: ${stateOf(r)}); it cannot be cancelled halfway`,
          }
        : undefined,
    afterCancel: 'removing what was placed; nothing is imported',
  });
}

async function finishIntake(
  r: IntakeRun,
  final: IntakeState,
  reason?: string,
  extra: Partial<IntakeResult> = {},
): Promise<IntakeResult> {
  const { kit } = r;
  if (r.lock) await r.lock.signal(releaseSiteLockSignal);
  if (r.pkg) await isolated.removeStagedZip({ site: r.input.site, stagedZip: r.pkg.stagedZip });
  if (r.plan) notifyEnd(r, final, reason);
  await kit.close(final, reason, {
    folder: r.input.folder,
    cycleId: r.pkg?.manifest.cycleId,
    manifestSha256: r.pkg?.manifestSha256,
    relays: r.relays,
    code: r.receipt?.code,
    receiptFolder: r.receipt?.folder,
    ...(extra.refusal ? { refusal: extra.refusal } : {}),
  });
  return {
    state: final,
    reason,
    cycleId: r.pkg?.manifest.cycleId,
    relays: r.relays,
    ...(r.receipt ? { code: r.receipt.code, receiptFolder: r.receipt.folder } : {}),
    ...extra,
  };
}

/** The outcome by mail: the code to type on the DMZ side when a receipt was written, the reason otherwise. */
function notifyEnd(r: IntakeRun, final: IntakeState, reason: string | undefined): void {
  const plan = r.plan!;
  const m = r.pkg?.manifest;
  const facts = [
    ...(m ? [{ label: 'Cycle', value: m.cycleId }] : [{ label: 'Package folder', value: r.input.folder }]),
    ...(r.receipt
      ? [
          { label: 'Confirmation code', value: r.receipt.code },
          { label: 'Signed receipt', value: r.receipt.folder },
        ]
      : []),
    ...(reason ? [{ label: final === 'completed' ? 'Outcome' : 'Reason', value: reason }] : []),
  ];
  const lead =
    final === 'completed'
      ? 'The carried package is imported. Carry the signed receipt back to the DMZ side, or type the code there.'
      : final === 'refused'
        ? 'The carried package was refused: nothing was imported.'
        : `The intake of the carried package ended ${final}.`;
  const commands = r.receipt && m ? [`airgap cycle receipt ${m.cycleId} --code ${r.receipt.code}`] : undefined;
  const completed = final === 'completed';
  r.kit.notify(
    completed ? 'result' : 'failure',
    completed ? [...plan.people.operators, ...plan.people.approvers] : plan.people.operators,
    `package intake ${final}`,
    {
      // The mail templates know the run outcomes; a refusal is told as a plain notice.
      ...(final === 'refused' ? {} : { outcome: final }),
      notice: { lead, facts, ...(commands ? { commands } : {}) },
    },
  );
}

async function openIntake(r: IntakeRun): Promise<IntakeResult | undefined> {
  const { kit, input } = r;
  await kit.audit('intake.started', { folder: input.folder, mode: 'isolated', side: 'airgapped' }, r.by);
  r.plan = await control.loadSitePlan({ site: input.site });
  kit.audience = {
    siteName: r.plan.name,
    escalation: r.plan.people.escalation,
    waits: r.plan.waits,
    ...proofRules(r.plan.approval),
  };
  // One intake of a site at a time (two packages found in one pass): the later one waits its turn.
  for (let waited = false; ; waited = true) {
    r.lock = await takeSiteLock(input.site, r.plan.controlQueue, kit.info.workflowId);
    if (r.lock) break;
    if (!waited) kit.note('intake.queued', `another intake of site ${input.site} is open; this one waits its turn`);
    if (kit.cancellation)
      return await finishIntake(r, 'cancelled', `cancelled by ${kit.cancellation.by} while waiting its turn`);
    await sleep(LOCK_RETRY_MS);
  }
  return undefined;
}

/** Verification: any refusal ends the intake before anything reaches a relay. */
async function verifyPackage(r: IntakeRun): Promise<IntakeResult | undefined> {
  const { kit, input } = r;
  const checked = await isolated.verifyTransferPackage({ site: input.site, folder: input.folder });
  if (!checked.ok) {
    const { code, message } = checked.refusal;
    kit.note('package.refused', `${code}: ${message}`);
    await kit.audit('package.refused', { folder: input.folder, refusal: code, message }, systemOf(r));
    return finishIntake(r, 'refused', message, { refusal: code });
  }
  r.pkg = checked.value;
  const m = r.pkg.manifest;
  kit.note('package.verified', `cycle ${m.cycleId}: ${m.zip.name} (${m.zip.size} bytes), signed by ${r.pkg.signer}`);
  await kit.audit(
    'package.verified',
    {
      cycleId: m.cycleId,
      manifestSha256: r.pkg.manifestSha256,
      zip: m.zip,
      versions: m.versions,
      signer: r.pkg.signer,
      installationId: m.installationId,
      previousCycleId: m.previousCycleId,
    },
    systemOf(r),
  );
  if (r.pkg.skipped) {
    kit.note(
      'package.skipped',
      `the package of cycle ${r.pkg.skipped} was never taken in here; this one carries everything newer`,
    );
    await kit.audit('package.skipped', { skipped: r.pkg.skipped }, systemOf(r));
  }
  return undefined;
}

/** The zip into each relay's install folder under its own name, checked there by name, size and SHA-256. */
async function placeZips(r: IntakeRun): Promise<IntakeResult | undefined> {
  const { kit } = r;
  kit.setState('placing');
  if (r.guided && r.pkg!.placement === 'person') return placeByPerson(r);
  const zip = r.pkg!.manifest.zip;
  for (const host of r.plan!.relays) {
    const relay = hostProxy(host);
    await relay.placeBundle({ sourcePath: r.pkg!.stagedZip, fileName: zip.name });
    r.placed.push(host.name);
    const report = await relay.inspectArrival({ fileName: zip.name, size: zip.size, sha256: zip.sha256 });
    if (report.status !== 'ok') {
      await kit.audit('arrival.mismatch', { relay: host.name, status: report.status, message: report.message });
      await removePlaced(r);
      return finishIntake(r, 'failed', `${host.name}: the placed zip did not verify: ${report.message}`);
    }
    kit.note('arrival.verified', `${host.name}: ${zip.name} placed; name, size and SHA-256 match`);
    await kit.audit('arrival.verified', { relay: host.name, sha256: zip.sha256, placed: true }, systemOf(r));
  }
  return undefined;
}

/** What a person is asked to copy where: the file from the medium into each relay's install folder. */
function placementInstructions(r: IntakeRun, hosts: PlannedHost[], problems: string[]): string[] {
  const zip = r.pkg!.manifest.zip;
  const folder = r.input.folder.split(/[\\/]/).at(-1);
  return [
    ...problems.map((p) => `The last copy did not verify: ${p}`),
    `Take ${zip.name} (${zip.size} bytes, SHA-256 ${zip.sha256}) from the package folder ${folder} on the medium.`,
    ...hosts.map((h) => `Copy it, under exactly that name, into ${h.installDir} on the relay ${h.name} (${h.os}).`),
    'Then confirm here: each relay checks the name, size and SHA-256 before anything is imported.',
  ];
}

/**
 * placement: person. A guided manual step: a person copies the zip from the medium onto each
 * relay and confirms; each relay's host worker then checks the name, size and SHA-256. A copy
 * that does not verify is named, and the person is asked again (a new step) for those relays
 * only; nothing is imported until every relay's copy verified.
 */
async function placeByPerson(r: IntakeRun): Promise<IntakeResult | undefined> {
  const { kit } = r;
  const plan = r.plan!;
  const zip = r.pkg!.manifest.zip;
  let waiting = plan.relays;
  let problems: string[] = [];
  for (let attempt = 1; waiting.length > 0; attempt++) {
    const step = attempt === 1 ? 'place-zip' : `place-zip-${attempt}`;
    kit.setState('placing', `waiting for a person to copy ${zip.name} onto ${waiting.map((h) => h.name).join(', ')}`);
    const done = await kit.manualStep(
      {
        step,
        title: `copy ${zip.name} onto ${waiting.map((h) => h.name).join(', ')}`,
        instructions: placementInstructions(r, waiting, problems),
        to: plan.people.operators,
      },
      () => kit.cancellation !== undefined,
    );
    if (done !== 'done') {
      // Whatever the person may have copied already must not stay importable.
      r.placed = plan.relays.map((h) => h.name);
      await removePlaced(r);
      await removeIntakeStrays(r);
      return done === 'aborted'
        ? finishIntake(r, 'cancelled', `cancelled by ${kit.cancellation!.by}: ${kit.cancellation!.reason}`)
        : finishIntake(r, 'expired', 'nobody confirmed the zip copied onto the relays before the deadline');
    }
    kit.setState('placing', 'checking the copies');
    problems = [];
    const still: PlannedHost[] = [];
    for (const host of waiting) {
      const report = await hostProxy(host).inspectArrival({ fileName: zip.name, size: zip.size, sha256: zip.sha256 });
      if (report.status === 'ok') {
        r.placed.push(host.name);
        kit.note('arrival.verified', `${host.name}: ${zip.name} copied by a person; name, size and SHA-256 match`);
        await kit.audit(
          'arrival.verified',
          { relay: host.name, sha256: zip.sha256, placed: false, step, by: kit.manualStepDoneBy(step) },
          systemOf(r),
        );
      } else {
        still.push(host);
        noteStray(r.strays, host.name, report);
        problems.push(`${host.name}: ${report.message}`);
        kit.note('arrival.mismatch', `${host.name}: ${report.status}: ${report.message}`);
        await kit.audit(
          'arrival.mismatch',
          { relay: host.name, status: report.status, message: report.message, step },
          systemOf(r),
        );
      }
    }
    waiting = still;
  }
  // Every relay has its copy under the right name now; a misnamed or misplaced one goes.
  await removeIntakeStrays(r);
  return undefined;
}

/** The guided placement's strays, deleted by each relay's host worker (audited as the intake). */
function removeIntakeStrays(r: IntakeRun): Promise<void> {
  const strays = r.strays.splice(0);
  return CancellationScope.nonCancellable(() =>
    removeStrayCopies(r.kit, strays, {
      remove: (stray) =>
        hostProxy(r.plan!.relays.find((h) => h.name === stray.relay)!).removeStrayCopy({ path: stray.path }),
      auditRemoved: true,
      actor: systemOf(r),
    }),
  );
}

async function removePlaced(r: IntakeRun): Promise<void> {
  if (!r.pkg || !r.plan) return;
  await CancellationScope.nonCancellable(async () => {
    for (const name of r.placed) {
      const host = r.plan!.relays.find((h) => h.name === name)!;
      const removed = await hostProxy(host).removeBundle({ fileName: r.pkg!.manifest.zip.name });
      await r.kit.audit(
        'relay.copy-removed',
        { relay: name, path: removed.path, removed: removed.removed },
        systemOf(r),
      );
    }
    r.placed = [];
  });
}

/** The carried zip as the run knows it once its package is verified (its staged copy on this side). */
function packageBundle(r: IntakeRun): BundleInfo | undefined {
  const m = r.pkg?.manifest;
  return (
    m && { fileName: m.zip.name, path: r.pkg!.stagedZip, size: m.zip.size, sha256: m.zip.sha256, versions: m.versions }
  );
}

async function approveImport(r: IntakeRun): Promise<IntakeResult | undefined> {
  const { kit } = r;
  const needed = requiredApprovals(r.plan!.approval);
  if (needed === 0) return undefined;
  const approvers = r.plan!.approval.approvers;
  const links = kit.approvalLinks('the import');
  const bundle = packageBundle(r);
  if (!bundle) throw new Error('the intake asks for approval before its package was verified');
  const request = (progress: WaitProgress) => ({
    links,
    bundle,
    deadline: progress.startedAt + r.plan!.waits.deadline,
  });
  const gate = await approvalGate(kit, {
    needed,
    approvers,
    escalation: r.plan!.people.escalation,
    subject: kit.info.runId,
    ask: `approve the import of cycle ${r.pkg!.manifest.cycleId}'s package`,
    stillNot: 'the import of the carried package is still not approved',
    request,
    reminder: request,
  });
  if (gate === 'approved') return undefined;
  await removePlaced(r);
  return finishIntake(r, gate, gateReason(kit, gate, 'the import'));
}

/** C3 on each relay; a relay whose import fails is reported in the receipt, not hidden. */
async function importZips(r: IntakeRun): Promise<IntakeResult | undefined> {
  const { kit } = r;
  const plan = r.plan!;
  kit.setState('importing');
  let since = Date.now();
  if (plan.steps.import === 'manual') {
    const names = plan.relays.map((h) => h.name).join(', ');
    const done = await kit.manualStep({
      step: 'import',
      title: `trigger "Download Security Updates" on ${names}`,
      instructions: [
        'Sign in to the air-gapped Deep Security Manager.',
        `Go to Computers, right-click ${names}, and choose Actions → Download Security Updates.`,
        `The relay finds ${r.pkg!.manifest.zip.name} in its install folder and imports it; then confirm here.`,
      ],
      to: plan.people.operators,
    });
    if (done !== 'done') {
      await removePlaced(r);
      return finishIntake(r, 'expired', 'nobody confirmed the manual import before the deadline');
    }
    since = Date.now();
  }
  for (const host of plan.relays) r.relays.push(await importOn(r, host, since));
  return undefined;
}

async function importOn(r: IntakeRun, host: PlannedHost, manualSince: number): Promise<RelayOutcome> {
  const { kit } = r;
  const plan = r.plan!;
  const target = { site: plan.site, relay: host.name, computerId: host.computerId, expect: r.pkg!.manifest.versions };
  const manager = managerProxy(plan.queues.airgappedManager, {
    startToCloseTimeout: plan.waits.importTimeout + 60_000,
    heartbeatTimeout: Math.max(plan.waits.pollInterval * 4, 10_000),
  });
  try {
    let since = manualSince;
    if (plan.steps.import === 'automated') {
      const triggered = await manager.triggerImport(target);
      since = Math.min(Date.now(), triggered.triggeredAt);
      await kit.audit('import.triggered', {
        relay: host.name,
        triggered: triggered.triggered,
        reason: triggered.reason,
      });
    }
    const imported = await manager.awaitImport({
      ...target,
      pollInterval: plan.waits.pollInterval,
      since,
      timeout: plan.waits.importTimeout,
    });
    kit.note('import.completed', `${host.name} reports the package's versions`);
    await kit.audit('import.completed', {
      relay: host.name,
      versions: imported.versions,
      sha256: r.pkg!.manifest.zip.sha256,
    });
    return { relay: host.name, outcome: 'imported', versions: imported.versions };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const detail = describeFailure(err);
    kit.note('import.failed', `${host.name}: ${detail}`);
    await kit.audit('import.failed', { relay: host.name, message: detail });
    const now = await managerProxy(plan.queues.airgappedManager, { startToCloseTimeout: 120_000 })
      .readRelayVersions({ site: plan.site, side: 'airgapped', computerId: host.computerId })
      .then((v) => v.versions)
      .catch(() => []);
    return { relay: host.name, outcome: 'failed', versions: now, detail };
  }
}

const imported = (r: IntakeRun, host: PlannedHost) =>
  r.relays.find((o) => o.relay === host.name)?.outcome === 'imported';

/**
 * steps.relayCleanup: manual. A person deletes the imported zip from each relay and confirms. Asked
 * after the receipt is on the medium: the DMZ side waits for that receipt with its own deadline,
 * and the import it reports is done whether or not anyone confirms the deletion in time. The
 * audit says whether the cleanup was confirmed or nobody confirmed it before the deadline.
 */
async function confirmManualCleanup(r: IntakeRun): Promise<void> {
  const { kit } = r;
  const plan = r.plan!;
  const zip = r.pkg!.manifest.zip;
  const hosts = plan.relays.filter((h) => imported(r, h));
  const done = await kit.manualStep({
    step: 'relay-cleanup',
    title: `delete ${zip.name} from ${hosts.map((h) => h.name).join(', ')}`,
    instructions: [
      ...hosts.map((h) => `On the relay ${h.name} (${h.os}), delete ${zip.name} from ${h.installDir}.`),
      'The import is done: the file is not needed any more, and a stale zip must not be imported again. Then confirm here.',
    ],
    to: plan.people.operators,
  });
  const by = kit.manualStepDoneBy('relay-cleanup');
  for (const host of hosts) {
    const what = done === 'done' ? 'relay.cleanup-confirmed' : 'relay.cleanup-left';
    kit.note(
      what,
      done === 'done'
        ? `${host.name}: ${by} confirmed ${zip.name} deleted`
        : `${host.name}: nobody confirmed ${zip.name} deleted from ${host.installDir}; delete it by hand`,
    );
    await kit.audit(
      what,
      { relay: host.name, fileName: zip.name, confirmed: done === 'done', ...(by ? { by } : {}) },
      kit.manualStepActor('relay-cleanup') ?? systemOf(r),
    );
  }
}

/** C4, the ledger, and the signed receipt with its code. */
async function cleanupAndReceipt(r: IntakeRun): Promise<IntakeResult> {
  const { kit } = r;
  const plan = r.plan!;
  const m = r.pkg!.manifest;
  kit.setState('cleaning-up');
  // Guided runs ask a person to confirm a manual cleanup once the receipt is written (below).
  const confirmLater = r.guided && plan.steps.relayCleanup === 'manual' && plan.relays.some((h) => imported(r, h));
  if (r.guided) r.cleanup = confirmLater ? 'asked' : 'automated';
  for (const host of plan.relays) {
    if (confirmLater && imported(r, host)) continue;
    if (plan.steps.relayCleanup === 'manual' && imported(r, host)) {
      kit.note('relay.cleanup-left', `${host.name}: delete ${m.zip.name} from ${host.installDir} by hand`);
      await kit.audit('relay.cleanup-left', { relay: host.name, fileName: m.zip.name }, systemOf(r));
      continue;
    }
    const removed = await hostProxy(host).removeBundle({ fileName: m.zip.name });
    kit.note('relay.cleaned', `${host.name}: zip deleted`);
    await kit.audit('relay.cleaned', { relay: host.name, path: removed.path, removed: removed.removed }, systemOf(r));
  }
  if (r.relays.some((o) => o.outcome === 'imported')) {
    await isolated.recordImportedPackage({
      site: plan.site,
      entry: {
        cycleId: m.cycleId,
        manifestSha256: r.pkg!.manifestSha256,
        zipSha256: m.zip.sha256,
        versions: m.versions,
        importedAt: new Date(Date.now()).toISOString(),
      },
    });
  }
  kit.setState('writing-receipt');
  const receipt = await isolated.writeTransferReceipt({
    site: plan.site,
    // Onto the medium the package came on, wherever it is mounted.
    packageFolder: r.input.folder,
    cycleId: m.cycleId,
    manifestSha256: r.pkg!.manifestSha256,
    relays: r.relays,
  });
  r.receipt = { folder: receipt.folder, code: receipt.code };
  kit.note('receipt.written', `${receipt.folder}; confirmation code ${receipt.code}`);
  await kit.audit(
    'receipt.written',
    {
      cycleId: m.cycleId,
      folder: receipt.folder,
      receiptSha256: receipt.receiptSha256,
      code: receipt.code,
      relays: r.relays,
      ...(r.guided ? { cleanup: r.cleanup } : {}),
    },
    systemOf(r),
  );
  if (confirmLater) {
    kit.setState('cleaning-up');
    await confirmManualCleanup(r);
  }
  const failed = r.relays.filter((o) => o.outcome !== 'imported');
  if (failed.length > 0) {
    return finishIntake(r, 'failed', `the import failed on ${failed.map((f) => `${f.relay}: ${f.detail}`).join('; ')}`);
  }
  return finishIntake(r, 'completed', `cycle ${m.cycleId} imported on ${r.relays.map((o) => o.relay).join(', ')}`);
}

/**
 * One update cycle of an isolated site, on the DMZ installation: bundle on the DMZ relay (C1),
 * the approvals as in a connected cycle, then the signed transfer package onto the medium, and a
 * wait (reminders, escalation, deadline) for what the air-gapped installation reports back: its
 * signed receipt (`receiptArrived` with the folder, sent by the intake) or the confirmation code a
 * person read off it (`airgap cycle receipt <id> --code`). The cycle closes with the relays'
 * outcomes in its audit, so the DMZ audit shows what the air-gapped side reported.
 */
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { ReceiptFacts } from '../activities/isolated-activities';
import type { createManagerActivities } from '../activities/manager-activities';
import { bundleFreshness } from '../domain/bundle-freshness';
import { isTerminal, requiredApprovals, type Actor, type BundleInfo, type CycleState } from '../domain/cycle';
import type { WaitProgress } from '../domain/human-wait';
import { byRefusal } from '../domain/identity';
import type { SitePlan } from '../domain/site-plan';
import type { TransferManifest } from '../domain/transfer-package';
import type { TransferRefusal } from '../domain/transfer-refusal';
import { describeFailure, MANAGER_RETRY } from './activity-options';
import {
  cycleStateQuery,
  type CycleInput,
  type CycleResult,
  type CycleView,
  type RelayProgress,
} from './cycle-messages';
import { approvalGate, decisionRefusal, endAfterError, gateReason, noteTemporalCancel } from './human-gates';
import { receiptArrivedUpdate, type ReceiptArrivedInput, type SentPackageView } from './isolated-messages';
import { REFUSAL_TYPE, refuse } from './refusal';
import { control, hostProxy, isolated } from './isolated-proxies';
import { proofRules, RunKit } from './run-kit';
import { BUNDLE_SHA256 } from './search-attributes';
import { releaseSiteLockSignal, takeSiteLock, type siteLockWorkflow } from './site-lock';

type ManagerActivities = ReturnType<typeof createManagerActivities>;

const managerProxy = (taskQueue: string) =>
  proxyActivities<ManagerActivities>({ taskQueue, startToCloseTimeout: '2m', retry: MANAGER_RETRY });

/** The DMZ cycle's state. */
interface DmzRun {
  kit: RunKit;
  input: CycleInput;
  trigger: Actor;
  plan?: SitePlan;
  bundle?: BundleInfo;
  sent?: SentPackageView;
  received?: ReceiptFacts & { by: string };
  // A receipt or code being checked: a second one waits for the first's answer.
  checking: boolean;
  lock?: ChildWorkflowHandle<typeof siteLockWorkflow>;
  approvalAsked: boolean;
  /**
   * Runs since the package is written by the DMZ relay's host worker (the control worker only
   * signs): false in runs that started before, which keep writing it from the control worker.
   * Such runs also take a package off the medium when they end cancelled or expired after it.
   */
  byRelay: boolean;
  /** The medium's folder on the DMZ relay machine, once the package is being written there. */
  outbound?: string;
}

// Asked in the run's first workflow task (see RunKit.waitForPeople on why not later).
const PACKAGE_BY_RELAY = 'isolated-package-by-relay';

const stateOf = (d: DmzRun) => d.kit.state as CycleState;
const approvalsRequired = (d: DmzRun) => (d.plan ? requiredApprovals(d.plan.approval) : 0);
const systemOf = (d: DmzRun): Actor => ({ who: `cycle ${d.kit.info.workflowId}`, channel: 'system' });

export async function isolatedDmzCycleWorkflow(input: CycleInput): Promise<CycleResult> {
  const kit = new RunKit('cycle', input.site, 'bundling');
  const d: DmzRun = {
    kit,
    input,
    trigger: input.trigger ?? { who: 'schedule', channel: 'schedule' },
    checking: false,
    approvalAsked: false,
    byRelay: patched(PACKAGE_BY_RELAY),
  };
  acceptDmzActions(d);
  try {
    for (const stage of [openDmzCycle, bundleDmz, approveDmz, sendPackage]) {
      const ended = await stage(d);
      if (ended) return ended;
    }
    return await awaitReceipt(d);
  } catch (err) {
    return endAfterError(err, {
      noteCancellation: () => noteTemporalCancel(kit),
      cancelled: (reason) => finishDmz(d, 'cancelled', reason, 'archive'),
      failed: (reason) => finishDmz(d, 'failed', reason, 'keep'),
    });
  }
}

/** The relays as the cycle view shows them: what the receipt said, once it came. */
function relayView(d: DmzRun): RelayProgress[] {
  return (d.plan?.relays ?? []).map((r) => {
    const reported = d.received?.relays.find((o) => o.relay === r.name);
    return {
      name: r.name,
      os: r.os,
      targetFolder: r.installDir,
      status: reported ? (reported.outcome === 'imported' ? 'imported' : 'mismatch') : 'waiting',
      ...(reported?.detail ? { problem: reported.detail } : {}),
    };
  });
}

/** Refuses a receipt or code the way a validator refuses: the CLI prints the reason, the cycle waits on. */
function refuseTransfer(r: TransferRefusal): never {
  throw ApplicationFailure.create({
    type: REFUSAL_TYPE,
    message: r.message,
    details: [{ code: 'not-allowed', transferRefusal: r.code }],
    nonRetryable: true,
  });
}

async function checkArrived(d: DmzRun, i: ReceiptArrivedInput) {
  const { kit } = d;
  const actor = kit.actor(i);
  d.checking = true;
  try {
    const checked = i.folder
      ? await isolated.verifyTransferReceipt({
          site: d.plan!.site,
          cycleId: kit.info.workflowId,
          manifestSha256: d.sent!.manifestSha256,
          folder: i.folder,
        })
      : await isolated.checkConfirmationCode({
          site: d.plan!.site,
          cycleId: kit.info.workflowId,
          manifestSha256: d.sent!.manifestSha256,
          relays: d.plan!.relays.map((r) => r.name),
          code: i.code!,
        });
    if (!checked.ok) {
      kit.note('receipt.refused', `${checked.refusal.code}: ${checked.refusal.message}`, actor);
      await kit.audit(
        'receipt.refused',
        { refusal: checked.refusal.code, message: checked.refusal.message, folder: i.folder, code: i.code },
        actor,
      );
      refuseTransfer(checked.refusal);
    }
    if (d.received)
      refuse('already-decided', `the cycle already has the air-gapped side's report (by ${d.received.by})`);
    d.received = { ...checked.value, by: i.by };
    kit.note(
      'receipt.accepted',
      `${i.by}: ${checked.value.via === 'code' ? 'confirmation code' : 'signed receipt'} accepted`,
      actor,
    );
    return kit.answer(i.by, `${checked.value.via === 'code' ? 'code' : 'receipt'} accepted; closing the cycle`);
  } finally {
    d.checking = false;
  }
}

function acceptDmzActions(d: DmzRun): void {
  const { kit, trigger } = d;
  const view = (): CycleView => ({
    ...kit.runState(),
    state: stateOf(d),
    trigger,
    bundle: d.bundle,
    relays: relayView(d),
    approvalsRequired: isTerminal(stateOf(d)) && !d.approvalAsked ? 0 : approvalsRequired(d),
    approvals: kit.approvals,
    carriers: [],
    importAttempts: 0,
  });
  setHandler(cycleStateQuery, view);
  setHandler(receiptArrivedUpdate, (i) => checkArrived(d, i), {
    validator: (i) => {
      const byProblem = byRefusal(i.by, 'brought the receipt');
      if (byProblem) refuse('bad-identity', byProblem);
      if (stateOf(d) !== 'awaiting-receipt' || !d.sent) {
        refuse('not-waiting', `this cycle is not waiting for a receipt (state: ${stateOf(d)})`);
      }
      if (d.received || d.checking)
        refuse('already-decided', 'a receipt or code for this cycle is already being taken');
      if (!!i.folder === !!i.code)
        refuse('not-allowed', 'give the receipt folder or the confirmation code, one of them');
    },
  });
  kit.acceptDecisions({
    noun: 'sending the package',
    refusal: (by) =>
      decisionRefusal(
        kit,
        {
          noun: 'this cycle',
          waiting: () => stateOf(d) === 'awaiting-approval',
          rules: () => d.plan?.approval,
          carriers: () => [],
        },
        by,
      ),
    required: () => approvalsRequired(d),
    auditData: () => ({ sha256: d.bundle?.sha256 }),
    afterRejection: 'the cycle ends without writing a package',
  });
  kit.acceptCancel({
    noun: 'the cycle',
    isTerminal: () => isTerminal(stateOf(d)),
    refusal: () => undefined,
    afterCancel: d.byRelay
      ? 'a package already written is removed from the medium; the air-gapped side is not told'
      : 'the package on the medium must not be taken in; the air-gapped side is not told',
  });
}

async function finishDmz(
  d: DmzRun,
  final: CycleState,
  reason: string | undefined,
  retain: 'delete' | 'archive' | 'keep' | undefined,
  mail = true,
): Promise<CycleResult> {
  const { kit } = d;
  // A package that must not be carried, or was left half-written by a failure, leaves the medium.
  if (d.outbound && (['cancelled', 'expired', 'rejected'].includes(final) || !d.sent)) await withdrawPackage(d);
  if (d.plan && d.bundle && retain) {
    const result = await hostProxy(d.plan.dmzRelay).retainBundle({
      path: d.bundle.path,
      mode: retain,
      archiveDir: d.plan.retention.archiveDir,
    });
    kit.note('dmz.bundle-retained', `DMZ bundle: ${result.action}${result.path ? ` (${result.path})` : ''}`);
    await kit.audit('dmz.bundle-retained', { ...result }, systemOf(d));
  }
  if (d.lock) await d.lock.signal(releaseSiteLockSignal);
  if (mail && d.plan) {
    const to =
      final === 'completed' ? [...d.plan.people.operators, ...d.plan.people.approvers] : d.plan.people.operators;
    kit.notify(final === 'failed' ? 'failure' : 'result', to, `cycle ${final}`, {
      outcome: final,
      body: reason,
      bundle: d.bundle,
    });
  }
  await kit.close(final, reason, {
    sha256: d.bundle?.sha256,
    fileName: d.bundle?.fileName,
    versions: d.bundle?.versions,
    manifestSha256: d.sent?.manifestSha256,
    relays: d.received?.relays,
  });
  return { state: final, reason, bundle: d.bundle };
}

async function openDmzCycle(d: DmzRun): Promise<CycleResult | undefined> {
  const { kit, input, trigger } = d;
  await kit.audit('cycle.started', { trigger, mode: 'isolated', side: 'dmz' }, trigger);
  d.plan = await control.loadSitePlan({ site: input.site });
  d.lock = await takeSiteLock(input.site, d.plan.controlQueue, kit.info.workflowId);
  if (!d.lock) {
    return await finishDmz(d, 'cancelled', `another cycle of site ${input.site} is still open`, undefined, false);
  }
  kit.audience = {
    siteName: d.plan.name,
    escalation: d.plan.people.escalation,
    waits: d.plan.waits,
    ...proofRules(d.plan.approval),
  };
  return undefined;
}

/** C1 on the DMZ relay; nothing new when it carries what the last package carried. */
async function bundleDmz(d: DmzRun): Promise<CycleResult | undefined> {
  const { kit } = d;
  const plan = d.plan!;
  const built = await hostProxy(plan.dmzRelay).buildBundle({});
  const dmzVersions = await managerProxy(plan.queues.dmzManager).readRelayVersions({
    site: plan.site,
    side: 'dmz',
    computerId: plan.dmzRelay.computerId,
  });
  d.bundle = {
    fileName: built.fileName,
    path: built.path,
    size: built.size,
    sha256: built.sha256,
    versions: dmzVersions.versions,
  };
  upsertSearchAttributes([{ key: BUNDLE_SHA256, value: built.sha256 }]);
  kit.note('bundle.built', `${built.fileName} (${built.size} bytes, sha256 ${built.sha256})`);
  await kit.audit('bundle.built', { ...d.bundle, rawOutput: built.rawOutput }, systemOf(d));
  // The air-gapped manager is out of reach: "new" is judged against the last package sent.
  const last = await isolated.lastSentPackage({ site: plan.site });
  if (last && bundleFreshness(d.bundle.versions, last.versions).verdict === 'same') {
    return await finishDmz(
      d,
      'nothing-new',
      `the bundle carries nothing newer than the package of cycle ${last.cycleId}`,
      'delete',
      false,
    );
  }
  return undefined;
}

async function approveDmz(d: DmzRun): Promise<CycleResult | undefined> {
  const { kit } = d;
  const needed = approvalsRequired(d);
  if (needed === 0) return undefined;
  d.approvalAsked = true;
  const approvers = d.plan!.approval.approvers;
  const links = [
    kit.link('approve', d.bundle!.sha256, 'Approve sending the package'),
    kit.link('reject', d.bundle!.sha256, 'Reject sending the package'),
  ];
  const bundle = d.bundle;
  if (!bundle) throw new Error('the cycle asks for approval before its bundle was built');
  const request = (progress: WaitProgress) => ({
    links,
    bundle,
    deadline: progress.startedAt + d.plan!.waits.deadline,
  });
  const gate = await approvalGate(kit, {
    needed,
    approvers,
    escalation: d.plan!.people.escalation,
    subject: d.bundle!.sha256,
    ask: 'approve sending the update package to the air-gapped side',
    stillNot: 'the update package is still not approved',
    request,
    reminder: request,
  });
  if (gate !== 'approved') return await finishDmz(d, gate, gateReason(kit, gate, 'the package'), 'archive');
  return undefined;
}

/**
 * A package that must not be carried any more (its cycle ended cancelled or expired), or one a
 * failure left half-written, leaves the medium through the DMZ relay's host worker that wrote it,
 * and leaves the ledger of sent packages. A medium already taken away is reported, and the cycle
 * still ends.
 */
async function withdrawPackage(d: DmzRun): Promise<void> {
  const { kit } = d;
  const plan = d.plan!;
  await CancellationScope.nonCancellable(async () => {
    try {
      const removed = await hostProxy(plan.dmzRelay).removePackage({
        outboundFolder: d.outbound!,
        cycleId: kit.info.workflowId,
        // Not sent: only this cycle's half-written staging folder is its own to remove.
        ...(d.sent ? {} : { stagingOnly: true }),
      });
      const forgot = await isolated.forgetSentPackage({ site: plan.site, cycleId: kit.info.workflowId });
      kit.note(
        'package.removed',
        `${removed.folder}: ${removed.removed ? 'removed from the medium' : 'not on the medium any more'}`,
      );
      await kit.audit('package.removed', { ...removed, forgotten: forgot.forgotten }, systemOf(d));
    } catch (err) {
      if (isCancellation(err)) throw err;
      const why = describeFailure(err);
      kit.note('package.left', `remove the package of this cycle from the medium by hand: ${why}`);
      await kit.audit('package.left', { outboundFolder: d.outbound, message: why }, systemOf(d));
    }
  });
}

/** The package written by the DMZ relay's host worker; the control worker only signs its manifest. */
async function writeOnRelay(
  d: DmzRun,
): Promise<{ folder: string; manifestSha256: string; manifest: TransferManifest }> {
  const { kit } = d;
  const plan = d.plan!;
  const cycleId = kit.info.workflowId;
  const relay = hostProxy(plan.dmzRelay);
  d.outbound = await isolated.outboundFolderOf({ site: plan.site });
  const staged = await relay.stagePackageZip({ outboundFolder: d.outbound, cycleId, zipPath: d.bundle!.path });
  const signed = await isolated.signTransferManifest({
    site: plan.site,
    cycleId,
    zip: staged.zip,
    versions: d.bundle!.versions,
  });
  const published = await relay.publishPackage({
    outboundFolder: d.outbound,
    cycleId,
    manifestText: signed.manifestText,
    signature: signed.signature,
  });
  await isolated.recordSentPackage({
    site: plan.site,
    cycleId,
    manifestSha256: published.manifestSha256,
    versions: d.bundle!.versions,
  });
  return { folder: published.folder, manifestSha256: published.manifestSha256, manifest: signed.manifest };
}

/** The signed package onto the outbound medium, and the courier told what to carry. */
async function sendPackage(d: DmzRun): Promise<CycleResult | undefined> {
  const { kit } = d;
  const plan = d.plan!;
  const written = d.byRelay
    ? await writeOnRelay(d)
    : await isolated.writeTransferPackage({
        site: plan.site,
        cycleId: kit.info.workflowId,
        zipPath: d.bundle!.path,
        versions: d.bundle!.versions,
      });
  const { zip, versions, previousCycleId } = written.manifest;
  d.sent = {
    folder: written.folder,
    manifestSha256: written.manifestSha256,
    zipName: zip.name,
    size: zip.size,
    sha256: zip.sha256,
  };
  const by = d.byRelay ? { by: plan.dmzRelay.name } : {};
  kit.note(
    'package.written',
    `${written.folder} (manifest sha256 ${written.manifestSha256})${by.by ? `, by ${by.by}` : ''}`,
  );
  await kit.audit('package.written', { ...d.sent, ...by, versions, previousCycleId }, systemOf(d));
  return undefined;
}

/** The wait for the receipt (or its code), then the cycle closed with the relays' outcomes. */
async function awaitReceipt(d: DmzRun): Promise<CycleResult> {
  const { kit } = d;
  const plan = d.plan!;
  const operators = plan.people.operators;
  kit.setState('awaiting-receipt');
  const progress: WaitProgress = { startedAt: Date.now(), remindersSent: 0, escalated: false };
  const carry = 'carry the update package to the air-gapped installation and bring its receipt back';
  kit.notify('transfer', operators, carry, {
    deadline: progress.startedAt + plan.waits.deadline,
    notice: {
      lead: 'The signed update package for the air-gapped installation is on the medium.',
      facts: [
        { label: 'Package folder', value: d.sent!.folder },
        { label: 'Zip', value: `${d.sent!.zipName} (${d.sent!.size} bytes)` },
        { label: 'SHA-256', value: d.sent!.sha256 },
      ],
      steps: [
        `Carry the folder ${d.sent!.folder} as it is to the air-gapped installation's intake folder.`,
        'The air-gapped installation verifies and imports it, then writes a signed receipt and shows a confirmation code.',
        'Bring the receipt folder back to this medium, or type the code here.',
      ],
      commands: [`airgap cycle receipt ${kit.info.workflowId} --code <code>`],
    },
  });
  const result = await kit.waitForPeople({
    what: {
      what: 'receipt from the air-gapped side',
      title: carry,
      instructions: [
        `Carry ${d.sent!.folder} to the air-gapped installation's intake folder.`,
        `Bring its receipt back (airgap intake <medium>), or type its code: airgap cycle receipt ${kit.info.workflowId} --code <code>`,
      ],
    },
    from: operators,
    done: () => d.received !== undefined,
    abort: () => kit.cancellation !== undefined,
    remind: (kind, number) =>
      kind === 'escalation'
        ? kit.notify(
            'escalation',
            [...operators, ...plan.people.escalation],
            'no receipt has come back from the air-gapped side',
            {
              since: progress.startedAt,
              number,
            },
          )
        : kit.notify('reminder', operators, carry, { since: progress.startedAt, number }),
    progress,
  });
  if (result === 'aborted') {
    return finishDmz(d, 'cancelled', `cancelled by ${kit.cancellation!.by}: ${kit.cancellation!.reason}`, 'archive');
  }
  if (result === 'deadline') return finishDmz(d, 'expired', 'no receipt came back before the deadline', 'archive');
  return closeWithReceipt(d);
}

async function closeWithReceipt(d: DmzRun): Promise<CycleResult> {
  const { kit } = d;
  const r = d.received!;
  const by: Actor = { who: r.by, channel: 'cli' };
  await kit.audit(
    'receipt.accepted',
    {
      via: r.via,
      relays: r.relays,
      receiptSha256: r.receiptSha256,
      completedAt: r.completedAt,
      installationId: r.installationId,
      signer: r.signer,
      manifestSha256: d.sent!.manifestSha256,
    },
    by,
  );
  for (const relay of r.relays) {
    kit.note(`relay.${relay.outcome}`, `${relay.relay}: ${relay.outcome}${relay.detail ? ` (${relay.detail})` : ''}`);
    await kit.audit('relay.reported', { ...relay }, by);
  }
  const failed = r.relays.filter((o) => o.outcome !== 'imported');
  if (failed.length > 0) {
    const why = failed.map((f) => `${f.relay}${f.detail ? `: ${f.detail}` : ''}`).join('; ');
    return finishDmz(d, 'failed', `the air-gapped side reports the import failed on ${why}`, 'keep');
  }
  return finishDmz(d, 'completed', undefined, d.plan!.retention.dmzBundle);
}

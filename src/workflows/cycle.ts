/**
 * One update cycle of one site (C1–C5): bundle on the DMZ relay, wait for a person to carry the
 * zip, verify what arrived, optionally wait for approval, import on each air-gapped relay,
 * clean up. Durable: it can wait days for a person, survive worker and server restarts, and it
 * never imports twice.
 */
import {
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { createControlActivities, LeftFile } from '../activities/control-activities';
import type { createHostActivities } from '../activities/host-activities';
import type { createManagerActivities } from '../activities/manager-activities';
import type { ArrivalReport } from '../domain/bundle-arrival';
import { bundleFreshness } from '../domain/bundle-freshness';
import type { Refusal } from '../domain/asks';
import {
  digestMatches,
  isTerminal,
  normaliseQuotedDigest,
  requiredApprovals,
  sameActor,
  type Actor,
  type BundleInfo,
  type CycleState,
} from '../domain/cycle';
import type { WaitProgress } from '../domain/human-wait';
import type { PlannedHost, SitePlan } from '../domain/site-plan';
import {
  cycleStateQuery,
  fileCopiedSignal,
  fileCopiedUpdate,
  type CycleInput,
  type CycleResult,
  type CycleView,
  type FileCopiedInput,
  type RelayProgress,
} from './cycle-messages';
import { HOST_RETRY, MANAGER_RETRY, describeFailure } from './activity-options';
import type { ProofKind } from '../domain/proof';
import { iso, RunKit, proofRules } from './run-kit';
import { releaseSiteLockSignal, takeSiteLock, type siteLockWorkflow } from './site-lock';
import { BUNDLE_SHA256 } from './search-attributes';
import { byRefusal } from '../domain/identity';
import {
  approvalGate,
  carryUntilVerified,
  decisionRefusal,
  endAfterError,
  gateReason,
  noteTemporalCancel,
} from './human-gates';
import { refuse } from './refusal';
import { noteStray, removeStrayCopies } from './stray-copies';

export * from './cycle-messages';

type ControlActivities = ReturnType<typeof createControlActivities>;
type ManagerActivities = ReturnType<typeof createManagerActivities>;
type HostActivities = ReturnType<typeof createHostActivities>;

const control = proxyActivities<ControlActivities>({ startToCloseTimeout: '1m', retry: MANAGER_RETRY });

/** Manager API calls run where that manager can be reached: the control queue or its zone's. */
function managerProxy(
  taskQueue: string,
  timeouts: { startToCloseTimeout: number | string; heartbeatTimeout?: number | string } = {
    startToCloseTimeout: '2m',
  },
): ManagerActivities {
  return proxyActivities<ManagerActivities>({ taskQueue, ...timeouts, retry: MANAGER_RETRY });
}

function hostProxy(host: PlannedHost): HostActivities {
  return proxyActivities<HostActivities>({
    taskQueue: host.taskQueue,
    startToCloseTimeout: '1h',
    heartbeatTimeout: '2m',
    retry: HOST_RETRY,
  });
}

/**
 * The bundle of a cycle past C1: the stages after bundleStage run only once it is built, so its
 * absence is a defect in the stage order, said as such rather than asserted away.
 */
function builtBundle(c: CycleRun): BundleInfo {
  if (!c.bundle) throw new Error('the cycle has no bundle: a stage after C1 ran before the bundle was built');
  return c.bundle;
}

/** A cycle's state, shared by the workflow and its stages. */
export interface CycleRun {
  kit: RunKit;
  input: CycleInput;
  trigger: Actor;
  plan?: SitePlan;
  bundle?: BundleInfo;
  relays: RelayProgress[];
  carriers: string[];
  importAttempts: number;
  installedBefore?: CycleView['installedBefore'];
  // Renamed or misplaced copies seen by the verification: tidied up when the cycle ends.
  strays: { relay: string; path: string }[];
  // Added after the first recorded histories: runs that started before keep their old commands.
  // With it, every change to a relay's files is audited, and an unimported copy that a failed
  // cycle keeps is named, remembered and removed by the next cycle of the site.
  tracksRelayFiles: boolean;
  // The lock was taken: this run may touch the site's relays (another open cycle owns them otherwise).
  ownsSite: boolean;
  // Files this run keeps on purpose (a failed import's verified copies): named in the failure mail.
  keptFiles: { host: string; path: string }[];
  // Whether the run reached the point where a copy and an approval were needed (not nothing-new).
  transferNeeded: boolean;
  approvalAsked: boolean;
  lock?: ChildWorkflowHandle<typeof siteLockWorkflow>;
  // How many copies the latest verification found wrong (0 when only some relays were copied).
  arrivalProblems: number;
}

export async function cycleWorkflow(input: CycleInput): Promise<CycleResult> {
  const kit = new RunKit('cycle', input.site, 'bundling');
  const c: CycleRun = {
    kit,
    input,
    trigger: input.trigger ?? { who: 'schedule', channel: 'schedule' as const },
    relays: [],
    carriers: [],
    importAttempts: 0,
    strays: [],
    tracksRelayFiles: patched('relay-file-changes-audited'),
    ownsSite: false,
    keptFiles: [],
    transferNeeded: true,
    approvalAsked: false,
    arrivalProblems: 0,
  };
  acceptCycleActions(c);
  try {
    for (const stage of [openCycle, bundleStage, transferStage, approvalStage, importStage]) {
      const ended = await stage(c);
      if (ended) return ended;
    }
    return await cleanupStage(c);
  } catch (err) {
    // Retries are exhausted (or the failure is permanent): report it once, keep what an operator
    // needs to retry (the DMZ bundle and any verified copies stay where they are).
    return endAfterError(err, {
      noteCancellation: () => noteTemporalCancel(kit),
      cancelled: (reason) => compensate(c, 'cancelled', reason),
      failed: async (reason) => {
        if (c.tracksRelayFiles && c.ownsSite && c.plan && c.bundle && stateOf(c) !== 'bundling')
          await keepForRetry(c, c.plan, c.bundle);
        return finish(c, 'failed', reason);
      },
    });
  }
}

const stateOf = (c: CycleRun) => c.kit.state as CycleState;
const systemOf = (c: CycleRun): Actor => ({ who: `cycle ${c.kit.info.workflowId}`, channel: 'system' });
// A rollback override always needs at least one approver, whatever the site's policy.
const approvalsRequired = (c: CycleRun) =>
  c.plan ? Math.max(requiredApprovals(c.plan.approval), c.input.allowRollback ? 1 : 0) : 0;
/** The "file copied" question is open while some relay still waits for its copy. */
const awaitsCopy = (c: CycleRun) => c.relays.some((r) => r.status === 'waiting' || r.status === 'mismatch');
const relayTargets = (c: CycleRun) =>
  c.relays.map((r) => ({ name: r.name, os: r.os, targetFolder: r.targetFolder, problem: r.problem }));
const remindTo = (c: CycleRun, people: string[]) => (kind: 'reminder' | 'escalation') =>
  kind === 'escalation' ? [...people, ...c.plan!.people.escalation] : people;

function copiedRefusal(c: CycleRun, i: FileCopiedInput): Refusal | undefined {
  if (!c.bundle || (stateOf(c) !== 'awaiting-transfer' && stateOf(c) !== 'verifying')) {
    return { code: 'not-waiting', message: `this cycle is not waiting for a transfer (state: ${stateOf(c)})` };
  }
  const byProblem = byRefusal(i.by, 'copied the file');
  if (byProblem) return { code: 'bad-identity', message: byProblem };
  let quoted: string;
  try {
    quoted = normaliseQuotedDigest(i.sha256 ?? '');
  } catch (err) {
    return { code: 'digest-mismatch', message: (err as Error).message };
  }
  if (!digestMatches(quoted, c.bundle.sha256)) {
    // Never the expected digest, nor part of it: the check is that a person computed it on the relay.
    return {
      code: 'digest-mismatch',
      message: `the digest ${quoted} differs from the SHA-256 of ${c.bundle.fileName}: compute it again on the relay, over the copied file (nothing was recorded)`,
    };
  }
  const targets = i.relay ? c.relays.filter((r) => r.name === i.relay) : c.relays;
  if (i.relay && targets.length === 0) {
    return {
      code: 'unknown-target',
      message: `unknown relay "${i.relay}" (relays of this site: ${c.relays.map((r) => r.name).join(', ')})`,
    };
  }
  if (!targets.some((r) => r.status === 'waiting' || r.status === 'mismatch')) {
    return {
      code: 'already-decided',
      message: i.relay ? `relay ${i.relay} is already ${targets[0]!.status}` : 'every relay already has its copy',
    };
  }
  return undefined;
}
function applyCopied(c: CycleRun, i: FileCopiedInput, proof?: ProofKind): string {
  const { kit } = c;
  const actor = kit.actor(i, proof);
  const marked: string[] = [];
  for (const relay of c.relays) {
    if (i.relay && relay.name !== i.relay) continue;
    if (relay.status !== 'waiting' && relay.status !== 'mismatch') continue;
    relay.status = 'copied';
    relay.copiedBy = i.by;
    delete relay.problem;
    marked.push(relay.name);
  }
  if (!c.carriers.some((c) => sameActor(c, i.by))) c.carriers.push(i.by);
  kit.recordAnswer('file-copied', 'file-copied', i, undefined, proof);
  if (!awaitsCopy(c)) kit.settle('file-copied');
  kit.note('human.file-copied', `${i.by} reports the bundle copied to ${marked.join(', ')}`, actor);
  void kit.audit('human.file-copied', { relays: marked, sha256: c.bundle?.sha256 }, actor);
  return `copy to ${marked.join(', ')} noted; verifying now`;
}
/** The cycle's state query and the Updates (and the Signal) people send it. */
function acceptCycleActions(c: CycleRun): void {
  const { kit, trigger } = c;
  const approvals = kit.approvals;
  const view = (): CycleView => ({
    ...kit.runState(),
    state: stateOf(c),
    trigger,
    bundle: c.bundle,
    installedBefore: c.installedBefore,
    relays: c.relays,
    // An ended run that never reached the gate needed no approval: it shows none outstanding.
    approvalsRequired: isTerminal(stateOf(c)) && !c.approvalAsked ? 0 : approvalsRequired(c),
    approvals,
    carriers: c.carriers,
    importAttempts: c.importAttempts,
  });
  setHandler(cycleStateQuery, view);

  const validateCopied = (i: FileCopiedInput) => {
    const refusal = copiedRefusal(c, i);
    if (refusal) refuse(refusal.code, refusal.message);
  };
  setHandler(
    fileCopiedUpdate,
    (i) => {
      if (!kit.proven) return kit.answer(i.by, applyCopied(c, i));
      // Recorded with its proof, never refused for it; checked proofs are checked on the control worker.
      const proving = kit.proveAction(i, { action: 'file-copied', subject: c.bundle?.sha256 ?? '' }, 'copied');
      if (typeof proving === 'string') return kit.answer(i.by, applyCopied(c, i, proving));
      return proving.then((proof) => {
        validateCopied(i); // another report may have come in while the proof was checked
        return kit.answer(i.by, applyCopied(c, i, proof));
      });
    },
    { validator: validateCopied },
  );
  // Fire-and-forget senders get no answer; an invalid or repeated signal changes nothing.
  setHandler(fileCopiedSignal, (i) => {
    const refusal = copiedRefusal(c, i);
    if (refusal) kit.note('human.file-copied.ignored', `signal from ${i.by} ignored: ${refusal.message}`);
    else applyCopied(c, i, kit.proven ? 'unproven' : undefined);
  });

  const deciding = {
    noun: 'this cycle',
    waiting: () => stateOf(c) === 'awaiting-approval',
    rules: () => c.plan?.approval,
    carriers: () => c.carriers,
  };
  kit.acceptDecisions({
    noun: 'the import',
    refusal: (by) => decisionRefusal(kit, deciding, by),
    required: () => approvalsRequired(c),
    auditData: () => ({ sha256: c.bundle?.sha256 }),
    afterRejection: 'the cycle ends without importing',
  });
  kit.acceptCancel({
    noun: 'the cycle',
    isTerminal: () => isTerminal(stateOf(c)),
    refusal: () =>
      stateOf(c) === 'importing' || stateOf(c) === 'cleaning-up'
        ? {
            code: 'not-cancellable',
            message: `the import has started (state: ${stateOf(c)}); it cannot be cancelled halfway`,
          }
        : undefined,
    afterCancel: 'cleaning up',
  });
}

async function finish(c: CycleRun, final: CycleState, reason?: string, mailOutcome = true): Promise<CycleResult> {
  const { kit } = c;
  // A relay still "waiting" when the run ends was never copied to; the status says so.
  for (const r of c.relays) if (r.status === 'waiting') r.status = c.transferNeeded ? 'not-copied' : 'not-needed';
  if (c.tracksRelayFiles && c.ownsSite && c.plan) {
    // Tidying after an earlier cycle must not change how this one ends.
    await removeLeftFiles(c, c.plan).catch((err: unknown) => {
      if (isCancellation(err)) throw err;
      kit.note('relay.stale-unchecked', `copies left by earlier cycles were not checked: ${describeFailure(err)}`);
    });
  }
  if (c.lock) await c.lock.signal(releaseSiteLockSignal);
  if (mailOutcome && c.plan) {
    const to =
      final === 'completed' ? [...c.plan.people.operators, ...c.plan.people.approvers] : c.plan.people.operators;
    const left = c.keptFiles.map((f) => `${f.host}: ${f.path}`);
    kit.notify(final === 'failed' ? 'failure' : 'result', to, `cycle ${final}`, {
      outcome: final,
      body: left.length
        ? `${reason ?? final}\n\nLeft in place so the import can be retried (the next cycle of this site removes them; ` +
          `if no retry is planned, delete them by hand now):\n${left.map((l) => `- ${l}`).join('\n')}`
        : reason,
      bundle: c.bundle,
    });
  }
  await kit.close(final, reason, {
    sha256: c.bundle?.sha256,
    fileName: c.bundle?.fileName,
    versions: c.bundle?.versions,
    importAttempts: c.importAttempts,
  });
  return { state: final, reason, bundle: c.bundle };
}
/** Removes unimported copies from the air-gapped relays, so no later trigger imports them. */
async function removeRelayCopies(c: CycleRun, p: SitePlan, b: BundleInfo) {
  const { kit } = c;
  for (const host of p.relays) {
    const relay = c.relays.find((r) => r.name === host.name)!;
    const result = await hostProxy(host).removeBundle({ fileName: b.fileName });
    if (result.removed) relay.status = 'removed';
    kit.note('relay.copy-removed', `${host.name}: ${result.removed ? 'unimported copy removed' : 'no copy present'}`);
    if (c.tracksRelayFiles) {
      await kit.audit(
        'relay.copy-removed',
        { relay: host.name, path: result.path, removed: result.removed },
        systemOf(c),
      );
    }
  }
}
async function retainDmzBundle(c: CycleRun, p: SitePlan, b: BundleInfo, mode: 'delete' | 'archive' | 'keep') {
  const { kit } = c;
  const result = await hostProxy(p.dmzRelay).retainBundle({ path: b.path, mode, archiveDir: p.retention.archiveDir });
  kit.note('dmz.bundle-retained', `DMZ bundle: ${result.action}${result.path ? ` (${result.path})` : ''}`);
  await kit.audit('dmz.bundle-retained', { ...result }, c.tracksRelayFiles ? systemOf(c) : undefined);
}
/**
 * Copies an earlier cycle of this site left unimported (a failed import keeps its verified
 * copy for a retry): removed now, or named for a person when they cannot be; each one audited.
 */
async function removeLeftFiles(c: CycleRun, p: SitePlan) {
  const { kit } = c;
  const keep = (f: LeftFile) => c.keptFiles.some((k) => k.host === f.host && k.path === f.path);
  const left = (await control.leftFilesOf({ site: p.site, area: 'cycle' })).filter(
    (f) => f.leftBy !== kit.info.workflowId && !keep(f) && !(c.bundle && f.path.endsWith(c.bundle.fileName)),
  );
  const done: { host: string; path: string }[] = [];
  for (const f of left) {
    const host = f.role === 'dmz' ? p.dmzRelay : p.relays.find((h) => h.name === f.host);
    try {
      if (!host) throw new Error(`${f.host} is no longer a relay of this site`);
      const result =
        f.role === 'dmz'
          ? await hostProxy(host).retainBundle({
              path: f.path,
              mode: p.retention.dmzBundle,
              archiveDir: p.retention.archiveDir,
            })
          : await hostProxy(host)
              .removeStrayCopy({ path: f.path })
              .then((r) => ({
                action: r.removed ? 'deleted' : 'already gone',
                path: r.path,
              }));
      kit.note('relay.stale-removed', `${f.host}: ${result.action}: ${f.path} (left unimported by ${f.leftBy})`);
      await kit.audit(
        'relay.stale-removed',
        { relay: f.host, role: f.role, ...result, path: f.path, leftBy: f.leftBy },
        systemOf(c),
      );
      done.push({ host: f.host, path: f.path });
    } catch (err) {
      kit.note('relay.stale-left', `${f.host}: remove it by hand: ${f.path} (${describeFailure(err)})`);
      await kit.audit(
        'relay.stale-left',
        { relay: f.host, role: f.role, path: f.path, leftBy: f.leftBy, error: describeFailure(err) },
        systemOf(c),
      );
    }
  }
  if (done.length) await control.forgetLeftFiles({ site: p.site, files: done });
}
/** A failed import keeps its verified copies and the DMZ bundle for a retry: named, audited, remembered. */
async function keepForRetry(c: CycleRun, p: SitePlan, b: BundleInfo) {
  const { kit } = c;
  const files: LeftFile[] = [];
  const at = iso(Date.now());
  for (const r of c.relays) {
    if (r.status !== 'verified' && r.status !== 'copied' && r.status !== 'mismatch') continue;
    const host = p.relays.find((h) => h.name === r.name)!;
    const path = `${host.installDir}${host.os === 'windows' ? '\\' : '/'}${b.fileName}`;
    files.push({ site: p.site, area: 'cycle', host: r.name, role: 'relay', path, leftBy: kit.info.workflowId, at });
  }
  files.push({
    site: p.site,
    area: 'cycle',
    host: p.dmzRelay.name,
    role: 'dmz',
    path: b.path,
    leftBy: kit.info.workflowId,
    at,
  });
  await control.noteLeftFiles({ files });
  for (const f of files) {
    c.keptFiles.push({ host: f.host, path: f.path });
    kit.note('relay.copy-kept', `${f.host}: ${f.path} stays for a retry; the next cycle removes it`);
    await kit.audit('relay.copy-kept', { relay: f.host, role: f.role, path: f.path }, systemOf(c));
  }
}
/** Deletes stray copies inside the install folders; names those it may not touch. */
async function removeStrays(c: CycleRun, p: SitePlan) {
  // Added after the first recorded histories: a run that started before takes the old path.
  if (c.strays.length === 0 || !patched('remove-stray-copies')) return;
  await removeStrayCopies(c.kit, c.strays, {
    remove: (stray) => hostProxy(p.relays.find((h) => h.name === stray.relay)!).removeStrayCopy({ path: stray.path }),
    auditRemoved: c.tracksRelayFiles,
    actor: c.tracksRelayFiles ? systemOf(c) : undefined,
  });
}
/** Inspects each copy reported copied; true when every relay's copy is verified. */
async function verifyArrivals(c: CycleRun, p: SitePlan, b: BundleInfo): Promise<boolean> {
  const { kit } = c;
  c.arrivalProblems = 0;
  const reports = await Promise.all(
    c.relays
      .filter((r) => r.status === 'copied')
      .map(async (relay): Promise<[RelayProgress, ArrivalReport]> => {
        const host = p.relays.find((h) => h.name === relay.name)!;
        const report = await hostProxy(host).inspectArrival({ fileName: b.fileName, size: b.size, sha256: b.sha256 });
        return [relay, report];
      }),
  );
  for (const [relay, report] of reports) {
    if (report.status === 'ok') {
      relay.status = 'verified';
      kit.note('arrival.verified', `${relay.name}: name, size and SHA-256 match`);
      await kit.audit('arrival.verified', { relay: relay.name, sha256: b.sha256 });
    } else {
      c.arrivalProblems++;
      relay.status = 'mismatch';
      relay.problem = report.message;
      noteStray(c.strays, relay.name, report);
      kit.note('arrival.mismatch', `${relay.name}: ${report.status}: ${report.message}`);
      await kit.audit('arrival.mismatch', { relay: relay.name, status: report.status, message: report.message });
    }
  }
  return c.relays.every((r) => r.status === 'verified');
}
/** Compensation for a cycle that ends before importing: nothing unapproved stays importable. */
async function compensate(c: CycleRun, final: CycleState, reason: string): Promise<CycleResult> {
  const { kit } = c;
  return CancellationScope.nonCancellable(async () => {
    if (c.plan && c.bundle) {
      kit.setState('cleaning-up', `cleaning up after ${final}`);
      await removeRelayCopies(c, c.plan, c.bundle);
      await removeStrays(c, c.plan);
      await retainDmzBundle(c, c.plan, c.bundle, 'archive');
    }
    return finish(c, final, reason);
  });
}
/** The site plan, the site lock (another open cycle of the site wins) and the relays. */
async function openCycle(c: CycleRun): Promise<CycleResult | undefined> {
  const { kit, input, trigger } = c;
  await kit.audit('cycle.started', { trigger, allowRollback: input.allowRollback }, trigger);
  c.plan = await control.loadSitePlan({ site: input.site });
  c.lock = await takeSiteLock(input.site, c.plan.controlQueue, kit.info.workflowId);
  if (!c.lock) {
    // Another cycle of this site is open (a schedule run, a trigger, a manual start): this one
    // steps aside quietly; the open one carries on.
    return await finish(c, 'cancelled', `another cycle of site ${input.site} is still open`, false);
  }
  c.ownsSite = true;
  kit.audience = {
    siteName: c.plan.name,
    escalation: c.plan.people.escalation,
    waits: c.plan.waits,
    ...proofRules(c.plan.approval),
  };
  c.relays = c.plan.relays.map((r) => ({ name: r.name, os: r.os, targetFolder: r.installDir, status: 'waiting' }));
  return undefined;
}

/** C1: bundle on the DMZ relay, then decide whether it is worth anyone's time. */
async function bundleStage(c: CycleRun): Promise<CycleResult | undefined> {
  const { kit, input } = c;
  const dmz = hostProxy(c.plan!.dmzRelay);
  const built = await dmz.buildBundle({});
  const dmzVersions = await managerProxy(c.plan!.queues.dmzManager).readRelayVersions({
    site: c.plan!.site,
    side: 'dmz',
    computerId: c.plan!.dmzRelay.computerId,
  });
  const bundle: BundleInfo = {
    fileName: built.fileName,
    path: built.path,
    size: built.size,
    sha256: built.sha256,
    versions: dmzVersions.versions,
  };
  c.bundle = bundle;
  upsertSearchAttributes([{ key: BUNDLE_SHA256, value: bundle.sha256 }]);
  kit.note('bundle.built', `${bundle.fileName} (${bundle.size} bytes, sha256 ${bundle.sha256})`);
  await kit.audit(
    'bundle.built',
    { ...c.bundle, rawOutput: built.rawOutput },
    c.tracksRelayFiles ? systemOf(c) : undefined,
  );

  const installed = await managerProxy(c.plan!.queues.airgappedManager).readRelayVersions({
    site: c.plan!.site,
    side: 'airgapped',
    computerId: c.plan!.relays[0]!.computerId,
  });
  c.installedBefore = installed.versions;
  const fresh = bundleFreshness(bundle.versions, installed.versions);
  if (fresh.verdict === 'same') {
    c.transferNeeded = false;
    if (c.tracksRelayFiles) await retainDmzBundle(c, c.plan!, c.bundle, 'delete');
    else await dmz.retainBundle({ path: bundle.path, mode: 'delete' });
    return await finish(c, 'nothing-new', 'the bundle carries nothing newer than the site has', false);
  }
  if (fresh.verdict === 'older') {
    const detail = fresh.older.map((o) => `${o.name} ${o.installed} → ${o.bundle}`).join(', ');
    if (!input.allowRollback) {
      c.transferNeeded = false;
      await retainDmzBundle(c, c.plan!, c.bundle, 'archive');
      return await finish(c, 'failed', `rollback refused: the bundle is older than what the site has (${detail})`);
    }
    const by = input.allowRollback.by;
    kit.note('rollback.override', `rollback allowed by ${by}: ${input.allowRollback.reason} (${detail})`);
    await kit.audit('rollback.override', { ...input.allowRollback, detail }, { who: by, channel: 'cli' });
  }

  return undefined;
}

/** C2: a person carries the zip; each copy is verified before anything is imported. */
async function transferStage(c: CycleRun): Promise<CycleResult | undefined> {
  const { kit } = c;
  const bundle = builtBundle(c);
  kit.setState('awaiting-transfer');
  const operators = c.plan!.people.operators;
  const copiedLinks = () => [kit.link('file-copied', bundle.sha256, 'I have copied the file')];
  const transferWait: WaitProgress = { startedAt: Date.now(), remindersSent: 0, escalated: false };
  const deadline = () => transferWait.startedAt + c.plan!.waits.deadline;
  kit.notify('transfer', operators, 'copy the bundle to the air-gapped relay', {
    links: copiedLinks(),
    bundle,
    relays: relayTargets(c),
    pickup: { relay: c.plan!.dmzRelay.name, path: bundle.path },
    deadline: deadline(),
  });
  kit.ask({
    id: 'file-copied',
    action: 'file-copied',
    subject: bundle.sha256,
    title: 'copy the bundle to the air-gapped relay',
    from: operators,
    since: transferWait.startedAt,
  });
  const carried = await carryUntilVerified(kit, {
    wait: {
      what: { what: 'file copied to every air-gapped relay' },
      from: operators,
      done: () => c.relays.some((r) => r.status === 'copied'),
      abort: () => kit.cancellation !== undefined,
      remind: (kind, number) =>
        kit.notify(
          kind,
          remindTo(c, operators)(kind),
          kind === 'escalation' ? 'the bundle has still not been copied' : 'copy the bundle to the air-gapped relay',
          {
            links: kind === 'reminder' ? copiedLinks() : [],
            since: transferWait.startedAt,
            deadline: deadline(),
            number,
          },
        ),
      progress: transferWait,
      ask: 'file-copied',
    },
    verify: () => verifyArrivals(c, c.plan!, bundle),
    again: () => {
      const problems = c.arrivalProblems > 0;
      kit.setState('awaiting-transfer', problems ? 'a copy did not verify; waiting for a new copy' : undefined);
      if (problems) {
        kit.askAgain('file-copied');
        kit.notify('arrival-problem', operators, 'the copy did not verify: copy the bundle again', {
          links: copiedLinks(),
          relays: relayTargets(c),
          since: transferWait.startedAt,
          deadline: deadline(),
        });
      }
    },
  });
  kit.settle('file-copied');
  if (carried === 'aborted')
    return await compensate(c, 'cancelled', `cancelled by ${kit.cancellation!.by}: ${kit.cancellation!.reason}`);
  if (carried === 'deadline')
    return await compensate(c, 'expired', 'nobody reported the file copied before the deadline');

  return undefined;
}

/** The approval gate before import. */
async function approvalStage(c: CycleRun): Promise<CycleResult | undefined> {
  const { kit } = c;
  const bundle = builtBundle(c);
  const needed = approvalsRequired(c);
  if (needed > 0) {
    c.approvalAsked = true;
    const approvers = c.plan!.approval.approvers;
    const decisionLinks = [
      kit.link('approve', bundle.sha256, 'Approve the import'),
      kit.link('reject', bundle.sha256, 'Reject the import'),
    ];
    const policy = c.plan!.approval.policy === 'n-of-m' ? `${needed} of ${approvers.length} approvers` : undefined;
    const request = (progress: WaitProgress) => ({
      links: decisionLinks,
      askedBy: c.carriers.join(', '),
      bundle,
      policy,
      deadline: progress.startedAt + c.plan!.waits.deadline,
    });
    const gate = await approvalGate(kit, {
      needed,
      approvers,
      escalation: c.plan!.people.escalation,
      subject: bundle.sha256,
      ask: 'approve the import',
      stillNot: 'the import is still not approved',
      request,
      reminder: request,
    });
    if (gate !== 'approved') return await compensate(c, gate, gateReason(kit, gate, 'the import'));
  }

  return undefined;
}

/** C3: import on each relay, then wait until it reports the bundle's versions. */
async function importStage(c: CycleRun): Promise<CycleResult | undefined> {
  const { kit } = c;
  const bundle = builtBundle(c);
  const operators = c.plan!.people.operators;
  kit.setState('importing');
  let manualSince = Date.now();
  if (c.plan!.steps.import === 'manual') {
    const names = c.plan!.relays.map((r) => r.name).join(', ');
    const result = await kit.manualStep({
      step: 'import',
      title: `trigger "Download Security Updates" on ${names}`,
      instructions: [
        'Sign in to the air-gapped Deep Security Manager.',
        `Go to Computers, right-click ${names}, and choose Actions → Download Security Updates.`,
        `The relay finds ${bundle.fileName} in its install folder and imports it; then confirm here.`,
      ],
      to: operators,
    });
    if (result !== 'done') return await finish(c, 'expired', 'nobody confirmed the manual import before the deadline');
    manualSince = Date.now();
  }
  for (const host of c.plan!.relays) {
    const relay = c.relays.find((r) => r.name === host.name)!;
    const target = { site: c.plan!.site, relay: host.name, computerId: host.computerId, expect: bundle.versions };
    let since = manualSince;
    if (c.plan!.steps.import === 'automated') {
      c.importAttempts++;
      const triggered = await managerProxy(c.plan!.queues.airgappedManager).triggerImport(target);
      since = Math.min(Date.now(), triggered.triggeredAt);
      kit.note('import.triggered', `${host.name}: ${triggered.reason}`);
      await kit.audit('import.triggered', {
        relay: host.name,
        triggered: triggered.triggered,
        reason: triggered.reason,
      });
    }
    const imported = await managerProxy(c.plan!.queues.airgappedManager, {
      startToCloseTimeout: c.plan!.waits.importTimeout + 60_000,
      heartbeatTimeout: Math.max(c.plan!.waits.pollInterval * 4, 10_000),
    }).awaitImport({
      ...target,
      pollInterval: c.plan!.waits.pollInterval,
      since,
      timeout: c.plan!.waits.importTimeout,
    });
    relay.status = 'imported';
    kit.note('import.completed', `${host.name} reports the bundle's versions`);
    await kit.audit('import.completed', { relay: host.name, versions: imported.versions, sha256: bundle.sha256 });
  }

  return undefined;
}

/** C4: cleanup after a verified import. */
async function cleanupStage(c: CycleRun): Promise<CycleResult> {
  const { kit } = c;
  const bundle = builtBundle(c);
  const operators = c.plan!.people.operators;
  kit.setState('cleaning-up');
  if (c.plan!.steps.relayCleanup === 'manual') {
    const result = await kit.manualStep({
      step: 'relay-cleanup',
      title: 'delete the imported zip from the air-gapped relay(s)',
      instructions: c.plan!.relays.map(
        (r) => `On ${r.name}: delete ${r.installDir}${r.os === 'windows' ? '\\' : '/'}${bundle.fileName}`,
      ),
      to: operators,
    });
    if (result === 'done') {
      for (const r of c.relays) r.status = 'cleaned';
      if (c.tracksRelayFiles) {
        const by = kit.manualStepActor('relay-cleanup');
        for (const r of c.plan!.relays) {
          const path = `${r.installDir}${r.os === 'windows' ? '\\' : '/'}${bundle.fileName}`;
          await kit.audit('relay.cleaned', { relay: r.name, path, manual: true }, by);
        }
      }
    } else {
      kit.note('relay.cleanup-unconfirmed', 'nobody confirmed the relay cleanup; the import itself succeeded');
      if (c.tracksRelayFiles) {
        for (const r of c.plan!.relays) {
          const path = `${r.installDir}${r.os === 'windows' ? '\\' : '/'}${bundle.fileName}`;
          kit.note('relay.cleanup-left', `${r.name}: delete it by hand: ${path}`);
          await kit.audit('relay.cleanup-left', { relay: r.name, path }, systemOf(c));
        }
      }
    }
  } else {
    for (const host of c.plan!.relays) {
      const removed = await hostProxy(host).removeBundle({ fileName: bundle.fileName });
      c.relays.find((r) => r.name === host.name)!.status = 'cleaned';
      kit.note('relay.cleaned', `${host.name}: zip deleted after the import`);
      if (c.tracksRelayFiles) {
        await kit.audit(
          'relay.cleaned',
          { relay: host.name, path: removed.path, removed: removed.removed },
          systemOf(c),
        );
      }
    }
    await removeStrays(c, c.plan!);
  }
  await retainDmzBundle(c, c.plan!, bundle, c.plan!.retention.dmzBundle);
  return await finish(c, 'completed');
}

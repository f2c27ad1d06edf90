/**
 * One update cycle of one site (C1–C5): bundle on the DMZ relay, wait for a person to carry the
 * zip, verify what arrived, optionally wait for approval, import on each air-gapped relay,
 * clean up. Durable: it can wait days for a person, survive worker and server restarts, and it
 * never imports twice.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  condition,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
} from '@temporalio/workflow';
import type { createControlActivities } from '../activities/control-activities';
import type { createHostActivities } from '../activities/host-activities';
import type { createManagerActivities } from '../activities/manager-activities';
import type { LinkAction, NoticePurpose, NoticeRequest } from '../activities/types';
import type { ArrivalReport } from '../domain/bundle-arrival';
import { bundleFreshness } from '../domain/bundle-freshness';
import {
  approvalRefusal,
  digestMatches,
  isTerminal,
  normaliseQuotedDigest,
  requiredApprovals,
  sameActor,
  type Actor,
  type BundleInfo,
  type CycleState,
} from '../domain/cycle';
import type { AuditEvent } from '../domain/audit';
import { nextWaitEvent, type WaitProgress } from '../domain/human-wait';
import type { PlannedHost, SitePlan } from '../domain/site-plan';
import {
  approveUpdate,
  cancelUpdate,
  cycleStateQuery,
  fileCopiedSignal,
  fileCopiedUpdate,
  manualStepDoneUpdate,
  rejectUpdate,
  type ActionAnswer,
  type CycleInput,
  type CycleResult,
  type CycleView,
  type FileCopiedInput,
  type RelayProgress,
  type TimelineEntry,
} from './cycle-messages';
import { BUNDLE_SHA256, KIND, SITE, STATE } from './search-attributes';

export * from './cycle-messages';

type ControlActivities = ReturnType<typeof createControlActivities>;
type ManagerActivities = ReturnType<typeof createManagerActivities>;
type HostActivities = ReturnType<typeof createHostActivities>;

// Manager API calls: transient faults (5xx, timeouts, 429 after the adapter's own back-off) retry
// with back-off; a permanent answer (auth, 4xx) fails at once and the cycle reports it.
const MANAGER_RETRY = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 8,
  nonRetryableErrorTypes: ['PermanentApiError', 'ImportRejected', 'UnknownSite'],
};
// Mail must never be lost and never block the cycle: retried for a day, and not awaited on the
// cycle's main path.
const MAIL_RETRY = { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5m' };
// Host operations hash and copy files that can be gigabytes: generous timeouts, heartbeats.
const HOST_RETRY = { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 5 };

const control = proxyActivities<ControlActivities>({ startToCloseTimeout: '1m', retry: MANAGER_RETRY });
const mail = proxyActivities<ControlActivities>({
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '1d',
  retry: MAIL_RETRY,
});
// The audit store is local to the worker (SQLite, or a database it reaches); a local activity
// keeps the history small: one marker per record instead of three events.
const local = proxyLocalActivities<ControlActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

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
    retry: { ...HOST_RETRY, nonRetryableErrorTypes: ['BundleOutputUnrecognised', 'PathOutsideInstallDir'] },
  });
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function cycleWorkflow(input: CycleInput): Promise<CycleResult> {
  const info = workflowInfo();
  const startedAt = Date.now();
  const trigger: Actor = input.trigger ?? { who: 'schedule', channel: 'schedule' };

  // ---- state visible through the query --------------------------------------------------------
  let state: CycleState = 'bundling';
  let stateSince = startedAt;
  let plan: SitePlan | undefined;
  let bundle: BundleInfo | undefined;
  let relays: RelayProgress[] = [];
  let waitingFor: CycleView['waitingFor'];
  const approvals: { by: string; at: string; comment?: string }[] = [];
  const carriers: string[] = [];
  const timeline: TimelineEntry[] = [];
  let importAttempts = 0;
  let installedBefore: CycleView['installedBefore'];
  let outcome: CycleView['outcome'];
  let rejection: { by: string; comment?: string } | undefined;
  let cancellation: { by: string; reason: string } | undefined;
  const manualDone = new Map<string, string>();
  let auditSeq = 0;
  let noticeSeq = 0;
  // Mail and audit writes started from handlers are not awaited there; the cycle awaits them all
  // before it closes, so no record or notice is dropped.
  const pending: Promise<unknown>[] = [];

  const view = (): CycleView => ({
    id: info.workflowId,
    site: input.site,
    state,
    stateSince: iso(stateSince),
    startedAt: iso(startedAt),
    trigger,
    bundle,
    installedBefore,
    relays,
    waitingFor,
    approvalsRequired: plan
      ? requiredApprovals(plan.approval) + (input.allowRollback && plan.approval.policy === 'none' ? 1 : 0)
      : 0,
    approvals,
    carriers,
    importAttempts,
    outcome,
    timeline,
  });
  setHandler(cycleStateQuery, view);

  upsertSearchAttributes([
    { key: SITE, value: input.site },
    { key: KIND, value: 'cycle' },
    { key: STATE, value: state },
  ]);

  async function audit(type: string, data?: Record<string, unknown>, actor?: Actor, auditOutcome?: string) {
    const event: AuditEvent = {
      id: `${info.workflowId}/${info.runId}/${++auditSeq}`,
      workflowId: info.workflowId,
      runId: info.runId,
      site: input.site,
      kind: 'cycle',
      type,
      at: iso(Date.now()),
      actor,
      outcome: auditOutcome,
      data,
    };
    const write = local.recordAudit(event);
    pending.push(write);
    await write;
  }

  function note(type: string, summary: string, actor?: Actor) {
    timeline.push({ at: iso(Date.now()), type, summary, actor });
  }

  function setState(next: CycleState, summary?: string) {
    state = next;
    stateSince = Date.now();
    upsertSearchAttributes([{ key: STATE, value: next }]);
    note(`state.${next}`, summary ?? next);
  }

  /** Sends without blocking the cycle: SMTP down delays mail, it does not stop the cycle. */
  function notify(purpose: NoticePurpose, to: string[], ask: string, extra: Partial<NoticeRequest> = {}) {
    if (!plan || to.length === 0) return;
    const request: NoticeRequest = {
      purpose,
      site: plan.site,
      siteName: plan.name,
      workflowId: info.workflowId,
      noticeId: `${info.runId}/${++noticeSeq}`,
      to,
      ask,
      bundle,
      relays: relays.map((r) => ({ name: r.name, os: r.os, targetFolder: r.targetFolder, problem: r.problem })),
      links: [],
      ...extra,
    };
    pending.push(
      mail.notify(request).catch(async (err: unknown) => {
        note('mail.undeliverable', `${purpose} mail could not be sent: ${(err as Error).message}`);
        await audit('mail.undeliverable', { purpose, to, error: (err as Error).message });
      }),
    );
  }

  const link = (action: LinkAction, subject: string, label: string) => ({ action, subject, label });

  // ---- operator actions -------------------------------------------------------------------------
  const answer = (by: string, message: string): ActionAnswer => ({
    accepted: true,
    state,
    message,
    by,
    at: iso(Date.now()),
  });

  function copiedRefusal(input: FileCopiedInput): string | undefined {
    if (!bundle || (state !== 'awaiting-transfer' && state !== 'verifying')) {
      return `this cycle is not waiting for a transfer (state: ${state})`;
    }
    if (!input.by?.trim()) return 'say who copied the file (--by)';
    let quoted: string;
    try {
      quoted = normaliseQuotedDigest(input.sha256 ?? '');
    } catch (err) {
      return (err as Error).message;
    }
    if (!digestMatches(quoted, bundle.sha256)) {
      return `the digest ${quoted} does not match this cycle's bundle ${bundle.fileName} (sha256 ${bundle.sha256.slice(0, 12)}…)`;
    }
    const targets = input.relay ? relays.filter((r) => r.name === input.relay) : relays;
    if (input.relay && targets.length === 0) {
      return `unknown relay "${input.relay}" (relays of this site: ${relays.map((r) => r.name).join(', ')})`;
    }
    if (!targets.some((r) => r.status === 'waiting' || r.status === 'mismatch')) {
      return input.relay ? `relay ${input.relay} is already ${targets[0]!.status}` : 'every relay already has its copy';
    }
    return undefined;
  }

  function applyCopied(input: FileCopiedInput): string {
    const actor: Actor = { who: input.by, channel: input.channel ?? 'cli', address: input.address };
    const marked: string[] = [];
    for (const relay of relays) {
      if (input.relay && relay.name !== input.relay) continue;
      if (relay.status !== 'waiting' && relay.status !== 'mismatch') continue;
      relay.status = 'copied';
      relay.copiedBy = input.by;
      delete relay.problem;
      marked.push(relay.name);
    }
    if (!carriers.some((c) => sameActor(c, input.by))) carriers.push(input.by);
    note('human.file-copied', `${input.by} reports the bundle copied to ${marked.join(', ')}`, actor);
    void audit('human.file-copied', { relays: marked, sha256: bundle?.sha256 }, actor);
    return `copy to ${marked.join(', ')} noted; verifying now`;
  }

  setHandler(fileCopiedUpdate, (i) => answer(i.by, applyCopied(i)), {
    validator: (i) => {
      const refusal = copiedRefusal(i);
      if (refusal) throw new Error(refusal);
    },
  });
  // Fire-and-forget senders get no answer; an invalid or repeated signal changes nothing.
  setHandler(fileCopiedSignal, (i) => {
    const refusal = copiedRefusal(i);
    if (refusal) note('human.file-copied.ignored', `signal from ${i.by} ignored: ${refusal}`);
    else applyCopied(i);
  });

  function decisionRefusal(by: string): string | undefined {
    if (state !== 'awaiting-approval' || !plan) return `this cycle is not waiting for approval (state: ${state})`;
    if (!by?.trim()) return 'say who decides (--by)';
    return approvalRefusal(
      plan.approval,
      by,
      carriers,
      approvals.map((a) => a.by),
    );
  }

  setHandler(
    approveUpdate,
    (i) => {
      const actor: Actor = { who: i.by, channel: i.channel ?? 'cli', address: i.address };
      approvals.push({ by: i.by, at: iso(Date.now()), comment: i.comment });
      note('human.approved', `${i.by} approved the import${i.comment ? `: ${i.comment}` : ''}`, actor);
      void audit('human.approved', { comment: i.comment, sha256: bundle?.sha256 }, actor);
      return answer(i.by, `approval by ${i.by} recorded (${approvals.length} of ${view().approvalsRequired})`);
    },
    {
      validator: (i) => {
        const refusal = decisionRefusal(i.by);
        if (refusal) throw new Error(refusal);
      },
    },
  );

  setHandler(
    rejectUpdate,
    (i) => {
      const actor: Actor = { who: i.by, channel: i.channel ?? 'cli', address: i.address };
      rejection = { by: i.by, comment: i.comment };
      note('human.rejected', `${i.by} rejected the import: ${i.comment}`, actor);
      void audit('human.rejected', { comment: i.comment, sha256: bundle?.sha256 }, actor);
      return answer(i.by, `rejected by ${i.by}; the cycle ends without importing`);
    },
    {
      validator: (i) => {
        if (!i.comment?.trim()) throw new Error('a rejection needs a comment saying why (--comment)');
        const refusal = decisionRefusal(i.by);
        if (refusal && !refusal.includes('already approved')) throw new Error(refusal);
      },
    },
  );

  setHandler(
    cancelUpdate,
    (i) => {
      const actor: Actor = { who: i.by, channel: i.channel ?? 'cli', address: i.address };
      cancellation = { by: i.by, reason: i.reason };
      note('human.cancelled', `${i.by} cancelled the cycle: ${i.reason}`, actor);
      void audit('human.cancelled', { reason: i.reason }, actor);
      return answer(i.by, `cancel requested by ${i.by}; cleaning up`);
    },
    {
      validator: (i) => {
        if (!i.by?.trim()) throw new Error('say who cancels (--by)');
        if (!i.reason?.trim()) throw new Error('a cancel needs a reason (--reason)');
        if (isTerminal(state)) throw new Error(`this cycle has already ended (state: ${state})`);
        if (state === 'importing' || state === 'cleaning-up') {
          throw new Error(`the import has started (state: ${state}); it cannot be cancelled halfway`);
        }
        if (cancellation) throw new Error(`already cancelled by ${cancellation.by}`);
      },
    },
  );

  setHandler(
    manualStepDoneUpdate,
    (i) => {
      const actor: Actor = { who: i.by, channel: i.channel ?? 'cli', address: i.address };
      manualDone.set(i.step, i.by);
      note('human.manual-step-done', `${i.by} confirmed the manual step "${i.step}"`, actor);
      void audit('human.manual-step-done', { step: i.step, comment: i.comment }, actor);
      return answer(i.by, `manual step "${i.step}" confirmed by ${i.by}`);
    },
    {
      validator: (i) => {
        if (!i.by?.trim()) throw new Error('say who did the step (--by)');
        if (waitingFor?.what !== `manual:${i.step}`) {
          throw new Error(`this cycle is not waiting for the manual step "${i.step}" (state: ${state})`);
        }
      },
    },
  );

  // ---- waits for people ---------------------------------------------------------------------------
  /**
   * Waits until `done()` or `abort()` holds, sending reminders and one escalation on the way.
   * Resolves 'done', 'aborted', or 'deadline'.
   */
  async function waitForPeople(
    what: string,
    from: string[],
    done: () => boolean,
    abort: () => boolean,
    remind: (kind: 'reminder' | 'escalation') => void,
    progress: WaitProgress = { startedAt: Date.now(), remindersSent: 0, escalated: false },
  ): Promise<'done' | 'aborted' | 'deadline'> {
    const policy = plan!.waits;
    for (;;) {
      const next = nextWaitEvent(policy, progress);
      waitingFor = {
        what,
        from,
        since: iso(progress.startedAt),
        until: iso(progress.startedAt + policy.deadline),
        nextReminder: next.kind === 'deadline' ? undefined : iso(next.at),
      };
      if (abort()) return 'aborted';
      if (done()) return 'done';
      const woke = await condition(() => abort() || done(), Math.max(next.at - Date.now(), 1));
      if (woke) continue;
      if (next.kind === 'deadline') return 'deadline';
      if (next.kind === 'reminder') progress.remindersSent++;
      else progress.escalated = true;
      note(next.kind, `${next.kind} sent for: ${what}`);
      void audit(`wait.${next.kind}`, { what, remindersSent: progress.remindersSent });
      remind(next.kind);
    }
  }

  async function manualStep(step: string, title: string, instructions: string, to: string[]) {
    notify('manual-step', to, title, {
      body: instructions,
      links: [link('manual-done', step, `I have done: ${title}`)],
    });
    void audit('manual-step.requested', { step, title });
    const result = await waitForPeople(
      `manual:${step}`,
      to,
      () => manualDone.has(step),
      () => false,
      (kind) =>
        notify(kind, kind === 'escalation' ? [...to, ...plan!.people.escalation] : to, `reminder: ${title}`, {
          body: instructions,
          links: [link('manual-done', step, `I have done: ${title}`)],
        }),
    );
    waitingFor = undefined;
    if (result === 'deadline')
      throw ApplicationFailure.nonRetryable(`nobody confirmed "${title}" before the deadline`, 'ManualStepExpired');
  }

  // ---- the cycle ----------------------------------------------------------------------------------
  async function finish(final: CycleState, reason?: string, mailOutcome = true): Promise<CycleResult> {
    waitingFor = undefined;
    setState(final, reason ? `${final}: ${reason}` : final);
    outcome = { state: final, reason, at: iso(Date.now()) };
    await audit(
      'cycle.ended',
      { reason, sha256: bundle?.sha256, fileName: bundle?.fileName, versions: bundle?.versions, importAttempts },
      undefined,
      final,
    );
    if (mailOutcome && plan) {
      const to = final === 'completed' ? [...plan.people.operators, ...plan.people.approvers] : plan.people.operators;
      notify(final === 'failed' ? 'failure' : 'result', [...new Set(to)], `cycle ${final}`, {
        outcome: final,
        body: reason,
      });
    }
    // A write started by a handler may itself start another (mail failure → audit record).
    for (let settled = 0; settled < pending.length;) {
      const batch = pending.slice(settled);
      settled = pending.length;
      await Promise.all(batch);
    }
    await condition(allHandlersFinished);
    return { state: final, reason, bundle };
  }

  /** Removes unimported copies from the air-gapped relays, so no later trigger imports them. */
  async function removeRelayCopies(p: SitePlan, b: BundleInfo) {
    for (const host of p.relays) {
      const relay = relays.find((r) => r.name === host.name)!;
      const result = await hostProxy(host).removeBundle({ fileName: b.fileName });
      if (result.removed) relay.status = 'removed';
      note('relay.copy-removed', `${host.name}: ${result.removed ? 'unimported copy removed' : 'no copy present'}`);
    }
  }

  async function retainDmzBundle(p: SitePlan, b: BundleInfo, mode: 'delete' | 'archive' | 'keep') {
    const result = await hostProxy(p.dmzRelay).retainBundle({ path: b.path, mode, archiveDir: p.retention.archiveDir });
    note('dmz.bundle-retained', `DMZ bundle: ${result.action}${result.path ? ` (${result.path})` : ''}`);
    await audit('dmz.bundle-retained', { ...result });
  }

  /** Compensation for a cycle that ends before importing: nothing unapproved stays importable. */
  async function compensate(final: CycleState, reason: string): Promise<CycleResult> {
    await CancellationScope.nonCancellable(async () => {
      if (plan && bundle) {
        setState('cleaning-up', `cleaning up after ${final}`);
        await removeRelayCopies(plan, bundle);
        await retainDmzBundle(plan, bundle, 'archive');
      }
    });
    return CancellationScope.nonCancellable(() => finish(final, reason));
  }

  try {
    await audit('cycle.started', { trigger, allowRollback: input.allowRollback }, trigger);
    plan = await control.loadSitePlan({ site: input.site });
    relays = plan.relays.map((r) => ({ name: r.name, os: r.os, targetFolder: r.installDir, status: 'waiting' }));

    // C1: bundle on the DMZ relay, then decide whether it is worth anyone's time.
    const dmz = hostProxy(plan.dmzRelay);
    const built = await dmz.buildBundle({});
    const dmzVersions = await managerProxy(plan.queues.dmzManager).readRelayVersions({
      site: plan.site,
      side: 'dmz',
      computerId: plan.dmzRelay.computerId,
    });
    bundle = {
      fileName: built.fileName,
      path: built.path,
      size: built.size,
      sha256: built.sha256,
      versions: dmzVersions.versions,
    };
    upsertSearchAttributes([{ key: BUNDLE_SHA256, value: bundle.sha256 }]);
    note('bundle.built', `${bundle.fileName} (${bundle.size} bytes, sha256 ${bundle.sha256})`);
    await audit('bundle.built', { ...bundle, rawOutput: built.rawOutput });

    const installed = await managerProxy(plan.queues.airgappedManager).readRelayVersions({
      site: plan.site,
      side: 'airgapped',
      computerId: plan.relays[0]!.computerId,
    });
    installedBefore = installed.versions;
    const fresh = bundleFreshness(bundle.versions, installed.versions);
    if (fresh.verdict === 'same') {
      await dmz.retainBundle({ path: bundle.path, mode: 'delete' });
      return await finish('nothing-new', 'the bundle carries nothing newer than the site has', false);
    }
    if (fresh.verdict === 'older') {
      const detail = fresh.older.map((o) => `${o.name} ${o.installed} → ${o.bundle}`).join(', ');
      if (!input.allowRollback) {
        await retainDmzBundle(plan, bundle, 'archive');
        return await finish('failed', `rollback refused: the bundle is older than what the site has (${detail})`);
      }
      note(
        'rollback.override',
        `rollback allowed by ${input.allowRollback.by}: ${input.allowRollback.reason} (${detail})`,
      );
      await audit(
        'rollback.override',
        { ...input.allowRollback, detail },
        { who: input.allowRollback.by, channel: 'cli' },
      );
    }

    // C2: a person carries the zip; verify each copy before anything is imported.
    setState('awaiting-transfer');
    const operators = plan.people.operators;
    const copiedLinks = () => [link('file-copied', bundle!.sha256, 'I have copied the file')];
    notify('transfer', operators, 'copy the bundle to the air-gapped relay', { links: copiedLinks() });
    const transferWait: WaitProgress = { startedAt: Date.now(), remindersSent: 0, escalated: false };
    for (;;) {
      const result = await waitForPeople(
        'file copied to every air-gapped relay',
        operators,
        () => relays.some((r) => r.status === 'copied'),
        () => cancellation !== undefined,
        (kind) =>
          notify(
            kind,
            kind === 'escalation' ? [...operators, ...plan!.people.escalation] : operators,
            kind === 'escalation' ? 'the bundle has still not been copied' : 'reminder: copy the bundle',
            { links: copiedLinks() },
          ),
        transferWait,
      );
      if (result === 'aborted')
        return await compensate('cancelled', `cancelled by ${cancellation!.by}: ${cancellation!.reason}`);
      if (result === 'deadline')
        return await compensate('expired', 'nobody reported the file copied before the deadline');

      setState('verifying');
      const toVerify = relays.filter((r) => r.status === 'copied');
      const reports = await Promise.all(
        toVerify.map(async (relay): Promise<[RelayProgress, ArrivalReport]> => {
          const host = plan!.relays.find((h) => h.name === relay.name)!;
          return [
            relay,
            await hostProxy(host).inspectArrival({
              fileName: bundle!.fileName,
              size: bundle!.size,
              sha256: bundle!.sha256,
            }),
          ];
        }),
      );
      const problems: RelayProgress[] = [];
      for (const [relay, report] of reports) {
        if (report.status === 'ok') {
          relay.status = 'verified';
          note('arrival.verified', `${relay.name}: name, size and SHA-256 match`);
          await audit('arrival.verified', { relay: relay.name, sha256: bundle.sha256 });
        } else {
          relay.status = 'mismatch';
          relay.problem = report.message;
          problems.push(relay);
          note('arrival.mismatch', `${relay.name}: ${report.status}: ${report.message}`);
          await audit('arrival.mismatch', { relay: relay.name, status: report.status, message: report.message });
        }
      }
      if (relays.every((r) => r.status === 'verified')) break;
      setState('awaiting-transfer', problems.length ? 'a copy did not verify; waiting for a new copy' : undefined);
      if (problems.length > 0) {
        notify('arrival-problem', operators, 'the copy did not verify: copy the bundle again', {
          links: copiedLinks(),
        });
      }
    }
    waitingFor = undefined;

    // Approval gate before import.
    const needed = view().approvalsRequired;
    if (needed > 0) {
      setState('awaiting-approval');
      const approvers = plan.approval.approvers;
      const decisionLinks = [
        link('approve', bundle.sha256, 'Approve the import'),
        link('reject', bundle.sha256, 'Reject'),
      ];
      notify('approval-request', approvers, 'approve the import', {
        links: decisionLinks,
        askedBy: carriers.join(', '),
      });
      const result = await waitForPeople(
        `${needed} approval(s)`,
        approvers,
        () => approvals.length >= needed,
        () => rejection !== undefined || cancellation !== undefined,
        (kind) =>
          notify(
            kind,
            kind === 'escalation' ? [...approvers, ...plan!.people.escalation] : approvers,
            'reminder: approve the import',
            { links: decisionLinks, askedBy: carriers.join(', ') },
          ),
      );
      if (rejection) return await compensate('rejected', `rejected by ${rejection.by}: ${rejection.comment}`);
      if (result === 'aborted')
        return await compensate('cancelled', `cancelled by ${cancellation!.by}: ${cancellation!.reason}`);
      if (result === 'deadline') return await compensate('expired', 'the import was not approved before the deadline');
      waitingFor = undefined;
    }

    // C3: import on each relay, then wait until it reports the bundle's versions.
    setState('importing');
    if (plan.steps.import === 'manual') {
      await manualStep(
        'import',
        'trigger "Download Security Updates" on the air-gapped relay(s)',
        `On the air-gapped manager: Computers → right-click ${plan.relays.map((r) => r.name).join(', ')} → ` +
          `Download Security Updates. The relay imports ${bundle.fileName} from its install folder.`,
        operators,
      );
    }
    for (const host of plan.relays) {
      const relay = relays.find((r) => r.name === host.name)!;
      const target = { site: plan.site, relay: host.name, computerId: host.computerId, expect: bundle.versions };
      let since = Date.now();
      if (plan.steps.import === 'automated') {
        importAttempts++;
        const triggered = await managerProxy(plan.queues.airgappedManager).triggerImport(target);
        since = Math.min(since, triggered.triggeredAt);
        note('import.triggered', `${host.name}: ${triggered.reason}`);
        await audit('import.triggered', { relay: host.name, triggered: triggered.triggered, reason: triggered.reason });
      }
      const imported = await managerProxy(plan.queues.airgappedManager, {
        startToCloseTimeout: plan.waits.importTimeout,
        heartbeatTimeout: Math.max(plan.waits.pollInterval * 4, 10_000),
      }).awaitImport({ ...target, pollInterval: plan.waits.pollInterval, since, timeout: plan.waits.importTimeout });
      relay.status = 'imported';
      note('import.completed', `${host.name} reports the bundle's versions`);
      await audit('import.completed', { relay: host.name, versions: imported.versions, sha256: bundle.sha256 });
    }

    // C4: cleanup after a verified import.
    setState('cleaning-up');
    if (plan.steps.relayCleanup === 'manual') {
      await manualStep(
        'relay-cleanup',
        'delete the zip from the air-gapped relay(s)',
        plan.relays
          .map((r) => `On ${r.name}: delete ${r.installDir}${r.os === 'windows' ? '\\' : '/'}${bundle!.fileName}`)
          .join('\n'),
        operators,
      );
      for (const r of relays) r.status = 'cleaned';
    } else {
      for (const host of plan.relays) {
        await hostProxy(host).removeBundle({ fileName: bundle.fileName });
        relays.find((r) => r.name === host.name)!.status = 'cleaned';
        note('relay.cleaned', `${host.name}: zip deleted after the import`);
      }
    }
    await retainDmzBundle(plan, bundle, plan.retention.dmzBundle);
    return await finish('completed');
  } catch (err) {
    if (isCancellation(err)) {
      cancellation ??= { by: 'temporal', reason: 'the workflow was cancelled from Temporal' };
      return compensate('cancelled', cancellation.reason);
    }
    // Retries are exhausted (or the failure is permanent): report it once, keep what an operator
    // needs to retry (the DMZ bundle and any verified copies stay where they are).
    const reason = describeFailure(err);
    return CancellationScope.nonCancellable(() => finish('failed', reason));
  }
}

function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure) {
    const cause = err.cause as (Error & { type?: string }) | undefined;
    return `${err.activityType} failed: ${cause?.message ?? err.message}`;
  }
  return (err as Error)?.message ?? String(err);
}

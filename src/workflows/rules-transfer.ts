/**
 * One transfer of rule updates (.dsru) across the gap (R1–R3): find which updates the air-gapped
 * manager lacks, have a person export them on the DMZ manager and report them with their SHA-256,
 * carry them, verify name, size and SHA-256 in the import folder, wait for approval, have a person
 * import them in the air-gapped console (no REST endpoint exists for either end), then confirm
 * through the API that the manager reports them. An update not newer than the manager's is refused.
 */
import { isCancellation, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { createControlActivities, LeftFile } from '../activities/control-activities';
import type { createManagerHostActivities } from '../activities/manager-host-activities';
import type { createRulesActivities } from '../activities/rules-activities';
import type { createSetupActivities } from '../activities/setup-activities';
import type { PlainNotice } from '../activities/types';
import type { Refusal } from '../domain/asks';
import { requiredApprovals, sameActor, type Actor } from '../domain/cycle';
import type { WaitProgress } from '../domain/human-wait';
import {
  checkExportReport,
  copyInstructions,
  describePending,
  exportInstructions,
  importInstructions,
  isTerminalRulesState,
  pendingRuleUpdates,
  transferSummary,
  type PendingRuleUpdates,
  type RulesPlan,
  type RulesState,
  type VerifiedRuleFile,
} from '../domain/rules';
import { compareRuleUpdates, isRuleUpdate } from '../domain/versions';
import {
  rulesCopiedUpdate,
  rulesExportedUpdate,
  rulesStateQuery,
  type RuleFileProgress,
  type RulesExportedInput,
  type RulesTransferInput,
  type RulesTransferResult,
  type RulesView,
} from './rules-messages';
import { HOST_RETRY, MANAGER_RETRY, describeFailure } from './activity-options';
import type { ProofKind } from '../domain/proof';
import type { ActionBase } from './run-messages';
import { iso, RunKit, proofRules } from './run-kit';
import { byRefusal } from '../domain/identity';
import {
  approvalGate,
  cancelReason,
  carryUntilVerified,
  decisionRefusal,
  endAfterError,
  gateReason,
  noteTemporalCancel,
} from './human-gates';
import { refuse } from './refusal';

export * from './rules-messages';

type SetupActivities = ReturnType<typeof createSetupActivities>;
type RulesActivities = ReturnType<typeof createRulesActivities>;
type ManagerHostActivities = ReturnType<typeof createManagerHostActivities>;
type ControlActivities = ReturnType<typeof createControlActivities>;

const setup = proxyActivities<SetupActivities>({
  startToCloseTimeout: '1m',
  retry: MANAGER_RETRY,
});
const control = proxyActivities<ControlActivities>({ startToCloseTimeout: '1m', retry: MANAGER_RETRY });

function managerProxy(taskQueue: string, startToCloseTimeout: number | string = '2m', heartbeatTimeout?: number) {
  return proxyActivities<RulesActivities>({
    taskQueue,
    startToCloseTimeout,
    ...(heartbeatTimeout ? { heartbeatTimeout } : {}),
    retry: MANAGER_RETRY,
  });
}

function hostProxy(taskQueue: string) {
  return proxyActivities<ManagerHostActivities>({ taskQueue, startToCloseTimeout: '10m', retry: HOST_RETRY });
}

type ImportFolder = NonNullable<RulesPlan['importFolder']>;

/** A rule transfer's state, shared by the workflow and its stages. */
export interface RulesRun {
  kit: RunKit;
  input: RulesTransferInput;
  trigger: Actor;
  id: string;
  plan?: RulesPlan;
  current?: string;
  // What the air-gapped manager had when the transfer started; `current` follows the manager.
  before?: string;
  latest?: string;
  pending?: PendingRuleUpdates;
  files: RuleFileProgress[];
  carriers: string[];
  tracksRuleFiles: boolean;
  approvalAsked: boolean;
}

export async function rulesTransferWorkflow(input: RulesTransferInput): Promise<RulesTransferResult> {
  const kit = new RunKit('rules', input.site, 'planning');
  const r: RulesRun = {
    kit,
    input,
    trigger: input.trigger ?? { who: 'cli', channel: 'cli' as const },
    id: kit.info.workflowId,
    files: [],
    carriers: [],
    // Added after the first runs: carried files are removed from the import folder when the transfer
    // ends (kept, named and remembered after a failure), and each removal is audited.
    tracksRuleFiles: patched('rule-files-tidied'),
    approvalAsked: false,
  };
  acceptRuleActions(r);
  try {
    const ended = await readLevels(r);
    if (ended) return ended;
    const target = r.plan!.importFolder!;
    const exported = await askForExport(r);
    if (exported) return exported;
    const carried = await carryFiles(r, target);
    if (carried) return carried;
    const left = await stillToImport(r);
    if ('state' in left) return left;
    const decided = await approveImport(r, target, left.summary);
    if (decided) return decided;
    return await importAndConfirm(r, target, left.toImport);
  } catch (err) {
    return endAfterError(err, {
      noteCancellation: () => noteTemporalCancel(kit),
      cancelled: () => cancelled(r),
      failed: (reason) => finish(r, 'failed', reason),
    });
  }
}

const stateOf = (r: RulesRun) => r.kit.state as RulesState;
const systemOf = (r: RulesRun): Actor => ({ who: `rules ${r.id}`, channel: 'system' });
const approvalsRequired = (r: RulesRun) => (r.plan ? requiredApprovals(r.plan.approval) : 0);
const cancelled = (r: RulesRun) => finish(r, 'cancelled', cancelReason(r.kit));
const remindTo = (r: RulesRun, people: string[], kind: 'reminder' | 'escalation') =>
  kind === 'escalation' ? [...people, ...r.plan!.people.escalation] : people;
const baseName = (path: string) => path.split(/[\\/]/).at(-1)!;

/** The run's query and the Updates people send it: reports, decisions, a cancel. */
function acceptRuleActions(r: RulesRun): void {
  const { kit, trigger } = r;
  const approvals = kit.approvals;
  const state = () => stateOf(r);
  const view = (): RulesView => ({
    ...kit.runState(),
    state: state(),
    trigger,
    current: r.current,
    before: r.before !== r.current ? r.before : undefined,
    latest: r.latest,
    pending: r.pending,
    files: r.files,
    importFolder: r.plan?.importFolder && { host: r.plan.importFolder.host, folder: r.plan.importFolder.folder },
    // An ended run that never reached the gate needed no approval: it shows none outstanding.
    approvalsRequired: isTerminalRulesState(state()) && !r.approvalAsked ? 0 : approvalsRequired(r),
    approvals,
    carriers: r.carriers,
  });
  setHandler(rulesStateQuery, view);

  const addCarrier = (who: string) => {
    if (!r.carriers.some((c) => sameActor(c, who))) r.carriers.push(who);
  };

  // ---- operator actions -------------------------------------------------------------------------
  function exportedRefusal(i: RulesExportedInput): Refusal | undefined {
    if (state() !== 'awaiting-export' || !r.current || !r.latest) {
      return {
        code: 'not-waiting',
        message: `this rule transfer is not waiting for exported files (state: ${state()})`,
      };
    }
    const byProblem = byRefusal(i.by, 'exported the files');
    if (byProblem) return { code: 'bad-identity', message: byProblem };
    try {
      checkExportReport(i.files, { current: r.current, latest: r.latest });
    } catch (err) {
      return { code: 'not-allowed', message: (err as Error).message };
    }
    return undefined;
  }

  setHandler(
    rulesExportedUpdate,
    (i) => {
      const actor = kit.actor(i);
      r.files = checkExportReport(i.files, { current: r.current!, latest: r.latest! }).map((f) => ({
        ...f,
        status: 'exported' as const,
        exportedBy: i.by,
      }));
      addCarrier(i.by);
      const names = r.files.map((f) => `${f.fileName} (${f.ruleUpdate}, sha256 ${f.sha256}…)`).join(', ');
      kit.note('human.rules-exported', `${i.by} reports exported: ${names}`, actor);
      void kit.audit(
        'human.rules-exported',
        { files: r.files.map(({ fileName, ruleUpdate, sha256, size }) => ({ fileName, ruleUpdate, sha256, size })) },
        actor,
      );
      return kit.answer(
        i.by,
        `${r.files.length} exported file(s) recorded: ${r.files.map((f) => f.fileName).join(', ')}`,
      );
    },
    {
      validator: (i) => {
        const refusal = exportedRefusal(i);
        if (refusal) refuse(refusal.code, refusal.message);
      },
    },
  );

  const copied = (i: ActionBase & { comment?: string }, proof?: ProofKind) => {
    const actor = kit.actor(i, proof);
    const marked = r.files.filter((f) => f.status === 'exported' || f.status === 'mismatch');
    for (const f of marked) {
      f.status = 'copied';
      delete f.problem;
    }
    addCarrier(i.by);
    kit.note('human.rules-copied', `${i.by} reports ${marked.map((f) => f.fileName).join(', ')} copied`, actor);
    void kit.audit('human.rules-copied', { files: marked.map((f) => f.fileName), comment: i.comment }, actor);
    return kit.answer(i.by, `copy of ${marked.length} file(s) noted; verifying now`);
  };
  const validateCopied = (i: ActionBase) => {
    if (state() !== 'awaiting-transfer') {
      refuse('not-waiting', `this rule transfer is not waiting for a copy (state: ${state()})`);
    }
    const byProblem = byRefusal(i.by, 'copied the files');
    if (byProblem) refuse('bad-identity', byProblem);
    if (!r.files.some((f) => f.status === 'exported' || f.status === 'mismatch')) {
      refuse('already-decided', 'every file is already reported copied; wait for the verification');
    }
  };
  setHandler(
    rulesCopiedUpdate,
    (i) => {
      if (!kit.proven) return copied(i);
      // Recorded with its proof (os-user where the site allows it), never refused for it.
      const proving = kit.proveAction(i, { action: 'file-copied', subject: kit.info.runId }, 'copied');
      if (typeof proving === 'string') return copied(i, proving);
      return proving.then((proof) => {
        validateCopied(i); // the run may have moved on while the proof was checked
        return copied(i, proof);
      });
    },
    { validator: (i) => validateCopied(i) },
  );

  const deciding = {
    noun: 'this rule transfer',
    waiting: () => state() === 'awaiting-approval',
    rules: () => r.plan?.approval,
    carriers: () => r.carriers,
  };
  kit.acceptDecisions({
    noun: 'the import',
    refusal: (by) => decisionRefusal(kit, deciding, by),
    required: () => approvalsRequired(r),
    auditData: () => ({ files: r.files.map((f) => f.fileName) }),
    afterRejection: 'the transfer ends without importing',
  });
  kit.acceptCancel({
    noun: 'this rule transfer',
    isTerminal: () => isTerminalRulesState(state()),
    refusal: () =>
      state() === 'confirming'
        ? {
            code: 'not-cancellable',
            message: 'the import was confirmed; the run only checks that the manager reports it',
          }
        : undefined,
    afterCancel: 'the transfer stops; nothing is imported',
  });
}

const fileFacts = (r: RulesRun) =>
  r.files.map((f) => ({
    label: `${f.ruleUpdate}`,
    value: `${f.fileName}: ${f.status}${f.problem ? ` — ${f.problem}` : ''}${f.inFolder ? ` (${f.inFolder} in the import folder)` : ''}`,
  }));

/**
 * Carried files leave the import folder when the transfer ends, so no later import in the
 * console takes a stale or unapproved one. After a failure the verified ones stay for a retry:
 * named, audited and remembered, and the next transfer of the site removes them.
 */
async function tidyImportFolder(r: RulesRun, final: RulesState) {
  const { kit, id } = r;
  const system = () => systemOf(r);
  const target = r.plan?.importFolder;
  if (!r.plan || !target) return;
  const hosts = hostProxy(target.taskQueue);
  const sep = target.os === 'windows' ? '\\' : '/';
  const pathOf = (fileName: string) => `${target.folder}${target.folder.endsWith(sep) ? '' : sep}${fileName}`;
  const keepForRetry = final === 'failed';
  const kept: LeftFile[] = [];
  for (const f of r.files) {
    if (f.status === 'exported') continue;
    if (keepForRetry && (f.status === 'verified' || f.status === 'imported')) {
      f.inFolder = 'kept';
      kept.push({
        site: r.plan.site,
        area: 'rules',
        host: target.host,
        role: 'rules',
        path: pathOf(f.fileName),
        leftBy: id,
        at: iso(Date.now()),
      });
      continue;
    }
    try {
      const r = await hosts.removeRuleFile({ fileName: f.fileName });
      if (r.removed) f.inFolder = 'removed';
      kit.note('rules.file-removed', `${target.host}: ${r.removed ? 'removed' : 'not present'}: ${r.path}`);
      await kit.audit('rules.file-removed', { host: target.host, path: r.path, removed: r.removed }, system());
    } catch (err) {
      f.inFolder = 'left';
      kit.note('rules.file-left', `${target.host}: remove it by hand: ${pathOf(f.fileName)} (${describeFailure(err)})`);
      await kit.audit('rules.file-left', { host: target.host, path: pathOf(f.fileName) }, system());
    }
  }
  if (kept.length) {
    await control.noteLeftFiles({ files: kept });
    for (const k of kept) {
      kit.note('rules.file-kept', `${k.host}: ${k.path} stays for a retry; the next rule transfer removes it`);
      await kit.audit('rules.file-kept', { host: k.host, path: k.path }, system());
    }
  }
  // Files an earlier transfer of this site kept for a retry that never came.
  const mine = new Set(r.files.map((f) => f.fileName));
  const earlier = (await control.leftFilesOf({ site: r.plan.site, area: 'rules' })).filter(
    (f) => f.leftBy !== id && !mine.has(baseName(f.path)),
  );
  const done: { host: string; path: string }[] = [];
  for (const f of earlier) {
    try {
      if (f.host !== target.host) throw new Error(`${f.host} is no longer the rules host of this site`);
      const r = await hosts.removeRuleFile({ fileName: baseName(f.path) });
      kit.note(
        'rules.stale-removed',
        `${f.host}: ${r.removed ? 'removed' : 'already gone'}: ${f.path} (left by ${f.leftBy})`,
      );
      await kit.audit(
        'rules.stale-removed',
        { host: f.host, path: f.path, removed: r.removed, leftBy: f.leftBy },
        system(),
      );
      done.push({ host: f.host, path: f.path });
    } catch (err) {
      kit.note('rules.stale-left', `${f.host}: remove it by hand: ${f.path} (${describeFailure(err)})`);
      await kit.audit('rules.stale-left', { host: f.host, path: f.path, leftBy: f.leftBy }, system());
    }
  }
  if (done.length) await control.forgetLeftFiles({ site: r.plan.site, files: done });
}

async function finish(r: RulesRun, final: RulesState, reason?: string, after?: string): Promise<RulesTransferResult> {
  const { kit } = r;
  if (r.tracksRuleFiles) {
    // Tidying the import folder must not change how the transfer ends.
    await tidyImportFolder(r, final).catch((err: unknown) => {
      if (isCancellation(err)) throw err;
      kit.note('rules.files-unchecked', `the import folder was not tidied: ${describeFailure(err)}`);
    });
  }
  const keptPaths = r.plan?.importFolder
    ? r.files.filter((f) => f.inFolder === 'kept' || f.inFolder === 'left').map((f) => f.fileName)
    : [];
  if (r.plan && final !== 'nothing-new') {
    const to =
      final === 'completed' ? [...r.plan.people.operators, ...r.plan.people.approvers] : r.plan.people.operators;
    kit.notify(final === 'failed' ? 'failure' : 'result', to, `rule transfer ${final}`, {
      outcome: final,
      body: reason,
      notice: {
        lead:
          final === 'completed'
            ? `The air-gapped manager now reports rule update ${after}.`
            : `The rule transfer ended: ${final}${reason ? ` — ${reason}` : ''}.`,
        facts: [
          { label: 'Before', value: r.before ?? 'unknown' },
          ...(after ? [{ label: 'After', value: after }] : []),
          ...fileFacts(r),
          ...(keptPaths.length
            ? [
                {
                  label: 'Left in the import folder',
                  value: `${keptPaths.join(', ')} in ${r.plan.importFolder!.folder} on ${r.plan.importFolder!.host}: delete by hand if no retry is planned`,
                },
              ]
            : []),
        ],
      },
    });
  }
  await kit.close(final, reason, {
    before: r.before,
    after,
    files: r.files.map(({ fileName, ruleUpdate, sha256Full, sizeArrived, status }) => ({
      fileName,
      ruleUpdate,
      sha256: sha256Full,
      size: sizeArrived,
      status,
    })),
  });
  return { state: final, reason, before: r.before, after, files: r.files };
}

/** Checks each carried file in the import folder; true when every one verified. */
async function verifyRuleFiles(r: RulesRun, taskQueue: string): Promise<boolean> {
  const { kit } = r;
  const reports = await hostProxy(taskQueue).inspectRuleFiles({
    files: r.files.map(({ fileName, ruleUpdate, sha256, size }) => ({ fileName, ruleUpdate, sha256, size })),
  });
  for (const report of reports) {
    const f = r.files.find((x) => x.fileName === report.fileName)!;
    if (report.status === 'ok') {
      f.status = 'verified';
      f.sha256Full = report.sha256;
      f.sizeArrived = report.size;
      delete f.problem;
      kit.note('arrival.verified', `${f.fileName}: name, size and SHA-256 match`);
      await kit.audit('arrival.verified', {
        file: f.fileName,
        ruleUpdate: f.ruleUpdate,
        sha256: report.sha256,
        size: report.size,
      });
    } else {
      f.status = 'mismatch';
      f.problem = report.message;
      kit.note('arrival.mismatch', `${f.fileName}: ${report.status}: ${report.message}`);
      await kit.audit('arrival.mismatch', { file: f.fileName, status: report.status, message: report.message });
    }
  }
  return r.files.every((f) => f.status === 'verified');
}

/** Reads both managers' rule update levels and decides what is missing; a result ends the run. */
async function readLevels(r: RulesRun): Promise<RulesTransferResult | undefined> {
  const { kit, input, trigger } = r;
  await kit.audit('rules.started', { trigger, only: input.only }, trigger);
  r.plan = await setup.loadRulesPlan({ site: input.site });
  kit.audience = {
    siteName: r.plan.name,
    escalation: r.plan.people.escalation,
    waits: r.plan.waits,
    ...proofRules(r.plan.approval),
  };
  const target = r.plan.importFolder;
  if (!target) {
    return await finish(
      r,
      'failed',
      'the site does not say where carried .dsru files go: set sites[].rules.importFolder and rules.host (or airgapped.manager.host)',
    );
  }
  const [dmz, ag] = await Promise.all([
    managerProxy(r.plan.queues.dmzManager).readRuleUpdateLevel({
      site: r.plan.site,
      side: 'dmz',
      computerIds: r.plan.dmzComputerIds,
    }),
    managerProxy(r.plan.queues.airgappedManager).readRuleUpdateLevel({
      site: r.plan.site,
      side: 'airgapped',
      computerIds: r.plan.airgappedComputerIds,
    }),
  ]);
  if (!dmz.level || !ag.level) {
    const which = !dmz.level ? 'DMZ' : 'air-gapped';
    return await finish(r, 'failed', `the ${which} manager's computers report no Deep Security Rule Update`);
  }
  r.latest = dmz.level;
  r.current = ag.level;
  r.before = ag.level;
  kit.note('rules.levels', `air-gapped manager has ${r.current}; DMZ manager has ${r.latest}`);
  await kit.audit('rules.levels', { current: r.current, latest: r.latest });

  r.pending = pendingRuleUpdates(r.current, r.latest);
  if (input.only && input.only.length > 0) {
    for (const wanted of input.only) {
      if (!isRuleUpdate(wanted)) return await finish(r, 'failed', `"${wanted}" is not a rule update id such as 26-047`);
      if (compareRuleUpdates(wanted, r.current) <= 0) {
        return await finish(
          r,
          'failed',
          `rollback refused: rule update ${wanted} is not newer than ${r.current}, which the air-gapped manager already has`,
        );
      }
      if (compareRuleUpdates(wanted, r.latest) > 0) {
        return await finish(
          r,
          'failed',
          `the DMZ manager does not have rule update ${wanted} (its newest is ${r.latest})`,
        );
      }
    }
    const ids = [...new Set(input.only)].sort(compareRuleUpdates);
    r.pending = { current: r.current, latest: r.latest, ids, incomplete: false };
  }
  if (r.pending.ids.length === 0) {
    return await finish(r, 'nothing-new', `the air-gapped manager already has ${r.current}, the DMZ manager's newest`);
  }

  return undefined;
}

/** R1: a person exports the updates on the DMZ manager and reports them with their digests. */
async function askForExport(r: RulesRun): Promise<RulesTransferResult | undefined> {
  const { kit, id } = r;
  const pending = r.pending!;
  kit.setState('awaiting-export', `to export: ${describePending(pending)}`);
  const operators = r.plan!.people.operators;
  const exportSteps = exportInstructions({
    pending: pending,
    dmzConsole: r.plan!.consoles.dmz,
    command: `airgap rules exported ${id} --by <you> --file <name>=<sha256> (one --file per file)`,
  });
  const exportNotice: PlainNotice = {
    lead: `The air-gapped manager of ${r.plan!.name} has rule update ${r.current}; the DMZ manager has ${r.latest}. Please export the missing rule updates.`,
    steps: exportSteps,
    commands: [`npx airgap rules exported ${id} --by <you> --file DSRU-xx-nnn.dsru=<sha256>`],
  };
  const exportWait: WaitProgress = { startedAt: Date.now(), remindersSent: 0, escalated: false };
  kit.notify('manual-step', operators, 'export the rule updates on the DMZ manager', {
    notice: exportNotice,
    deadline: exportWait.startedAt + r.plan!.waits.deadline,
  });
  const exported = await kit.waitForPeople({
    what: {
      what: 'rule updates exported',
      title: 'export the rule updates on the DMZ manager',
      instructions: exportSteps,
    },
    from: operators,
    done: () => r.files.length > 0,
    abort: () => kit.cancellation !== undefined,
    remind: (kind, number) =>
      kit.notify(kind, remindTo(r, operators, kind), 'export the rule updates on the DMZ manager', {
        since: exportWait.startedAt,
        deadline: exportWait.startedAt + r.plan!.waits.deadline,
        number,
      }),
    progress: exportWait,
  });
  if (exported === 'aborted') return await cancelled(r);
  if (exported === 'deadline')
    return await finish(r, 'expired', 'nobody reported the exported files before the deadline');

  return undefined;
}

/** R2: a person carries them into the import folder; each is checked there before any import. */
async function carryFiles(r: RulesRun, target: ImportFolder): Promise<RulesTransferResult | undefined> {
  const { kit, id } = r;
  const operators = r.plan!.people.operators;
  kit.setState('awaiting-transfer');
  const copySteps = copyInstructions({ host: target.host, folder: target.folder, files: r.files });
  const transferWait: WaitProgress = { startedAt: Date.now(), remindersSent: 0, escalated: false };
  const copyNotice = (lead: string): PlainNotice => ({
    lead,
    steps: copySteps,
    facts: r.files.map((f) => ({ label: f.fileName, value: `rule update ${f.ruleUpdate}, SHA-256 ${f.sha256}…` })),
    commands: [`npx airgap rules copied ${id} --by <you>`],
  });
  kit.notify('transfer', operators, 'copy the rule updates to the air-gapped side', {
    notice: copyNotice('Carry the exported rule updates across the gap.'),
    deadline: transferWait.startedAt + r.plan!.waits.deadline,
  });
  const copied = await carryUntilVerified(kit, {
    wait: {
      what: {
        what: 'rule update files copied to the import folder',
        title: 'copy the .dsru files',
        instructions: copySteps,
      },
      from: operators,
      done: () => r.files.some((f) => f.status === 'copied'),
      abort: () => kit.cancellation !== undefined,
      remind: (kind, number) =>
        kit.notify(kind, remindTo(r, operators, kind), 'copy the rule updates to the air-gapped side', {
          since: transferWait.startedAt,
          deadline: transferWait.startedAt + r.plan!.waits.deadline,
          number,
        }),
      progress: transferWait,
    },
    verify: () => verifyRuleFiles(r, target.taskQueue),
    again: () => {
      kit.setState('awaiting-transfer', 'a file did not verify; waiting for a new copy');
      kit.notify('arrival-problem', operators, 'a rule update file did not verify: copy it again', {
        notice: copyNotice(
          `Not every file arrived intact: ${r.files
            .filter((f) => f.problem)
            .map((f) => f.problem)
            .join(' ')}`,
        ),
        deadline: transferWait.startedAt + r.plan!.waits.deadline,
      });
    },
  });
  if (copied === 'aborted') return await cancelled(r);
  if (copied === 'deadline') return await finish(r, 'expired', 'nobody reported the files copied before the deadline');

  return undefined;
}

/** The manager may have moved on meanwhile (a bundle cycle also carries rule updates). */
async function stillToImport(
  r: RulesRun,
): Promise<RulesTransferResult | { toImport: (RuleFileProgress & VerifiedRuleFile)[]; summary: string[] }> {
  const { kit } = r;
  const now = await managerProxy(r.plan!.queues.airgappedManager).readRuleUpdateLevel({
    site: r.plan!.site,
    side: 'airgapped',
    computerIds: r.plan!.airgappedComputerIds,
  });
  if (now.level && compareRuleUpdates(now.level, r.current!) > 0) {
    r.current = now.level;
    for (const f of r.files) {
      if (compareRuleUpdates(f.ruleUpdate, r.current) <= 0) f.status = 'superseded';
    }
    kit.note('rules.superseded', `the air-gapped manager now has ${r.current}; older files are not imported`);
    await kit.audit('rules.superseded', {
      current: r.current,
      files: r.files.filter((f) => f.status === 'superseded').map((f) => f.fileName),
    });
  }
  const toImport = r.files.filter((f) => f.status === 'verified') as (RuleFileProgress & VerifiedRuleFile)[];
  if (toImport.length === 0) {
    return await finish(r, 'nothing-new', `the air-gapped manager already has ${r.current}; nothing left to import`);
  }
  const summary = transferSummary(toImport, r.current!);
  await kit.audit('rules.summary', { summary });

  return { toImport, summary };
}

/** The approval gate before import. */
async function approveImport(
  r: RulesRun,
  target: ImportFolder,
  summary: string[],
): Promise<RulesTransferResult | undefined> {
  const { kit, id } = r;
  const needed = approvalsRequired(r);
  if (needed > 0) {
    r.approvalAsked = true;
    const approvers = r.plan!.approval.approvers;
    const notice = (): PlainNotice => ({
      lead: `These rule updates were exported on the DMZ manager, carried by ${r.carriers.join(', ')}, and verified by SHA-256 in ${target.folder} on ${target.host}. They are imported only after approval${r.plan!.approval.policy === 'n-of-m' ? ` (${needed} of ${approvers.length} approvers)` : ''}.`,
      heading: 'What would be imported',
      lines: summary,
      commands: [
        `npx airgap rules approve ${id} --by <you>`,
        `npx airgap rules reject ${id} --by <you> --comment "<why>"`,
      ],
    });
    const gate = await approvalGate(kit, {
      needed,
      approvers,
      escalation: r.plan!.people.escalation,
      subject: kit.info.runId,
      ask: 'approve the import of rule updates',
      stillNot: 'the rule update import is still not approved',
      request: (progress) => ({
        notice: notice(),
        links: kit.approvalLinks('the rule update import'),
        deadline: progress.startedAt + r.plan!.waits.deadline,
      }),
      reminder: () => ({ notice: notice(), links: kit.approvalLinks('the rule update import') }),
    });
    if (gate === 'cancelled') return await cancelled(r);
    if (gate !== 'approved') return await finish(r, gate, gateReason(kit, gate, 'the import'));
  }

  return undefined;
}

/** R3: a person imports them in the air-gapped console (no REST endpoint); the API confirms. */
async function importAndConfirm(
  r: RulesRun,
  target: ImportFolder,
  toImport: (RuleFileProgress & VerifiedRuleFile)[],
): Promise<RulesTransferResult> {
  const { kit } = r;
  const operators = r.plan!.people.operators;
  kit.setState('importing');
  const imported = await kit.manualStep(
    {
      step: 'import-rules',
      title: `import ${toImport.map((f) => f.ruleUpdate).join(', ')} on the air-gapped manager`,
      instructions: importInstructions({
        agConsole: r.plan!.consoles.airgapped,
        host: target.host,
        folder: target.folder,
        files: toImport,
      }),
      to: operators,
    },
    () => kit.cancellation !== undefined,
  );
  if (imported === 'aborted') return await cancelled(r);
  if (imported === 'deadline') return await finish(r, 'expired', 'nobody confirmed the import before the deadline');

  kit.setState('confirming');
  const newest = toImport.at(-1)!.ruleUpdate;
  const seen = await managerProxy(
    r.plan!.queues.airgappedManager,
    r.plan!.waits.importTimeout + 60_000,
    Math.max(r.plan!.waits.pollInterval * 4, 10_000),
  ).awaitRuleUpdate({
    site: r.plan!.site,
    computerIds: r.plan!.airgappedComputerIds,
    expect: newest,
    pollInterval: r.plan!.waits.pollInterval,
    timeout: r.plan!.waits.importTimeout,
  });
  for (const f of toImport) f.status = 'imported';
  r.current = seen.level;
  kit.note('import.completed', `the air-gapped manager reports rule update ${seen.level}`);
  await kit.audit('import.completed', {
    before: r.before,
    after: seen.level,
    files: toImport.map((f) => ({ fileName: f.fileName, ruleUpdate: f.ruleUpdate, sha256: f.sha256Full })),
    perComputer: seen.perComputer,
  });
  return await finish(r, 'completed', undefined, seen.level);
}

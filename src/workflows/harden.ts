/**
 * Set-up and hardening of an air-gapped site (S1, S2 → H1–H8), and keeping it so. `plan` reads
 * the air-gapped manager and says item by item what would change (it changes nothing); `check`
 * does the same on a Schedule and tells the operators what drifted back; `apply` asks for approval
 * (stating what the site loses), applies each item through the API, dsm_c on the manager host, or
 * a guided manual step, then reads everything back and reports item by item.
 *
 * Nothing is undone when an apply fails halfway: each applied item takes a cloud feature away,
 * and switching it back on in an air-gapped site would only bring back the connection errors.
 */
import { isCancellation, proxyActivities, setHandler } from '@temporalio/workflow';
import type { createHardeningActivities } from '../activities/hardening-activities';
import type { createManagerHostActivities } from '../activities/manager-host-activities';
import type { createSetupActivities } from '../activities/setup-activities';
import type { PlainNotice } from '../activities/types';
import {
  driftedItems,
  hardeningApproval,
  isTerminalHardenState,
  itemsToApply,
  lossLines,
  planHardening,
  planLines,
  VENDOR_WARNING,
  verifyItem,
  type HardenState,
  type HardeningPlan,
  type PlannedItem,
} from '../domain/hardening';
import {
  hardenStateQuery,
  type HardenInput,
  type HardenItemView,
  type HardenResult,
  type HardenView,
} from './harden-messages';
import { MANAGER_RETRY, describeFailure } from './activity-options';
import { RunKit } from './run-kit';
import {
  approvalGate,
  cancelReason,
  decisionRefusal,
  endAfterError,
  gateReason,
  noteTemporalCancel,
} from './human-gates';

export * from './harden-messages';

type SetupActivities = ReturnType<typeof createSetupActivities>;
type HardeningActivities = ReturnType<typeof createHardeningActivities>;
type ManagerHostActivities = ReturnType<typeof createManagerHostActivities>;

// dsm_c talks to the manager's database: a few retries for a busy host, none for a refusal.
const DSM_C_RETRY = {
  initialInterval: '5s',
  backoffCoefficient: 2,
  maximumInterval: '2m',
  maximumAttempts: 4,
  nonRetryableErrorTypes: ['HostCommandError', 'InvalidCommandArgumentError', 'DsmCNotConfigured'],
};

const setup = proxyActivities<SetupActivities>({ startToCloseTimeout: '1m', retry: MANAGER_RETRY });

function managerProxy(taskQueue: string): HardeningActivities {
  return proxyActivities<HardeningActivities>({ taskQueue, startToCloseTimeout: '2m', retry: MANAGER_RETRY });
}

function dsmCProxy(taskQueue: string): ManagerHostActivities {
  return proxyActivities<ManagerHostActivities>({ taskQueue, startToCloseTimeout: '11m', retry: DSM_C_RETRY });
}

function toView(item: PlannedItem): HardenItemView {
  return {
    id: item.id,
    title: item.title,
    how: item.how,
    why: item.why,
    current: item.current,
    desired: item.desired,
    status: item.status,
    loses: item.loses,
    ...(item.note ? { note: item.note } : {}),
    ...(item.how === 'manual' ? { instructions: item.instructions } : {}),
  };
}

export async function hardenWorkflow(input: HardenInput): Promise<HardenResult> {
  const mode = input.mode ?? 'check';
  const kit = new RunKit('harden', input.site, 'reading');
  const trigger = input.trigger ?? { who: 'schedule', channel: 'schedule' as const };
  const id = kit.info.workflowId;

  let plan: HardeningPlan | undefined;
  let items: HardenItemView[] = [];
  let approvalAsked = false;
  const approvals = kit.approvals;
  const state = () => kit.state as HardenState;
  const approvalRules = () => (plan ? hardeningApproval(plan) : undefined);

  setHandler(hardenStateQuery, (): HardenView => ({
    ...kit.runState(),
    state: state(),
    mode,
    trigger,
    items,
    warning: VENDOR_WARNING,
    // An ended apply that never reached the gate (nothing to do, a failed read) needed no approval.
    approvalsRequired: mode === 'apply' && (!kit.outcome || approvalAsked) ? (approvalRules()?.required ?? 1) : 0,
    approvals,
  }));

  // ---- operator actions -------------------------------------------------------------------------
  // Four eyes: whoever asked for the hardening may not approve it unless the site allows a carrier to.
  const requester = () => (trigger.channel === 'schedule' ? [] : [trigger.who]);
  const deciding = {
    noun: 'this hardening run',
    waiting: () => state() === 'awaiting-approval',
    rules: approvalRules,
    carriers: requester,
    carrierReason: "asked for this hardening and the site's policy forbids approving one's own request",
  };

  kit.acceptDecisions({
    noun: 'the hardening',
    refusal: (by) => decisionRefusal(kit, deciding, by),
    required: () => approvalRules()?.required ?? 1,
    auditData: () => ({ items: items.map((x) => x.id) }),
    afterRejection: 'nothing is changed',
  });
  kit.acceptCancel({
    noun: 'this hardening run',
    isTerminal: () => isTerminalHardenState(state()),
    refusal: () => undefined,
    afterCancel: 'items already applied stay applied',
  });

  // ---- endings ------------------------------------------------------------------------------------
  const outcomeLines = () =>
    items.map((x) => `${x.id} ${x.title}: ${x.outcome ?? x.status}${x.detail ? ` — ${x.detail}` : ''}`);

  async function finish(final: HardenState, reason?: string): Promise<HardenResult> {
    // A drift check that cannot read the manager must not fail silently: it is the only watch.
    if (plan && mode === 'check' && final === 'failed') {
      kit.notify('failure', plan.people.operators, 'the drift check could not read the site', {
        outcome: final,
        notice: { lead: `The scheduled hardening drift check of ${plan.name} failed: ${reason}` },
      });
    }
    if (plan && mode === 'apply' && final !== 'nothing-to-do') {
      const to = final === 'completed' ? [...plan.people.operators, ...plan.approval.approvers] : plan.people.operators;
      kit.notify(final === 'failed' ? 'failure' : 'result', to, `hardening ${final}`, {
        outcome: final,
        body: reason,
        notice: {
          lead:
            final === 'completed'
              ? `Site ${plan.name} is in the air-gapped set-up the vendor prescribes; every item was verified or confirmed.`
              : `The hardening of ${plan.name} ended: ${final}${reason ? ` — ${reason}` : ''}. Items applied before stay applied.`,
          heading: 'Item by item',
          lines: outcomeLines(),
        },
      });
    }
    await kit.close(final, reason, {
      mode,
      items: items.map(({ id: item, status, outcome, current, how }) => ({ item, status, outcome, current, how })),
    });
    return { state: final, mode, reason, items };
  }

  const markNotDone = () => {
    for (const x of items) if (x.outcome === undefined) x.outcome = 'not-done';
  };

  // ---- the run ------------------------------------------------------------------------------------
  try {
    await kit.audit('harden.started', { mode, trigger }, trigger);
    plan = await setup.loadHardeningPlan({ site: input.site });
    const p = plan;
    kit.audience = { siteName: p.name, escalation: p.people.escalation, waits: p.waits };
    const manager = managerProxy(p.managerQueue);
    const read = async (): Promise<PlannedItem[]> => {
      const obs = await manager.readHardeningState({
        site: p.site,
        relayComputerId: p.relayComputerId,
        ...(p.settings.policyId ? { policyId: p.settings.policyId } : {}),
      });
      return planHardening(p.settings, obs, { console: p.console, ...(p.dsmCPath ? { dsmCPath: p.dsmCPath } : {}) });
    };

    const planned = await read();
    items = planned.map(toView);
    kit.note(
      'harden.assessed',
      `${itemsToApply(planned).length} of ${planned.length} item(s) not in the prescribed state`,
    );
    await kit.audit('harden.assessed', {
      items: planned.map(({ id: item, current, desired, status, how }) => ({ item, current, desired, status, how })),
    });

    if (mode === 'plan') return await finish('planned');

    if (mode === 'check') {
      const drifted = driftedItems(planned);
      if (drifted.length === 0) return await finish('in-desired-state');
      const ids = drifted.map((d) => d.id).join(', ');
      kit.note('harden.drift', `not in the prescribed state: ${ids}`);
      await kit.audit('harden.drift', {
        items: drifted.map((d) => ({ item: d.id, current: d.current, desired: d.desired })),
      });
      kit.notify('failure', p.people.operators, `settings have drifted: ${ids}`, {
        notice: {
          lead: `The drift check found settings of ${p.name} that are not (or no longer) in the air-gapped set-up the vendor prescribes.`,
          heading: 'Not in the prescribed state',
          lines: planLines(drifted),
          commands: [`npx airgap harden ${p.site} --plan`, `npx airgap harden ${p.site} --apply --by <you>`],
        },
      });
      return await finish('drifted', `not in the prescribed state: ${ids}`);
    }

    // ---- apply: approval first, stating plainly what the site loses -------------------------------
    const work = itemsToApply(planned);
    if (work.length === 0) {
      for (const x of items) x.outcome = 'already';
      return await finish('nothing-to-do', 'every item is already in the prescribed state');
    }
    for (const x of items) if (x.status === 'ok') x.outcome = 'already';

    const rules = approvalRules()!;
    approvalAsked = true;
    const notice = (): PlainNotice => ({
      lead:
        `Hardening ${p.name} switches off the features below on its air-gapped manager, as the vendor prescribes for sites ` +
        `whose agents cannot reach the vendor's cloud. WHAT THE SITE LOSES: ${VENDOR_WARNING.join(' ')}`,
      facts: [{ label: 'Asked by', value: trigger.who }],
      heading: 'Item by item: what changes, how, and what is lost',
      lines: lossLines(work),
      commands: [
        `npx airgap harden approve ${id} --by <you>`,
        `npx airgap harden reject ${id} --by <you> --comment "<why>"`,
      ],
    });
    const gate = await approvalGate(kit, {
      needed: rules.required,
      approvers: rules.approvers,
      escalation: p.people.escalation,
      subject: kit.info.runId,
      ask: 'approve the hardening (detection drops)',
      remindAs: 'reminder: approve the hardening',
      stillNot: 'the hardening is still not approved',
      request: (progress) => ({
        notice: notice(),
        links: kit.approvalLinks('the hardening'),
        deadline: progress.startedAt + p.waits.deadline,
      }),
      reminder: () => ({ notice: notice(), links: kit.approvalLinks('the hardening') }),
    });
    if (gate !== 'approved') return await finish(gate, gateReason(kit, gate, 'the hardening'));

    // ---- apply each item ----------------------------------------------------------------------------
    kit.setState('applying');
    const applied: PlannedItem[] = [];
    // Automated items first: a person's manual step, which may take days, holds nothing else back.
    const ordered = [...work.filter((i) => i.how !== 'manual'), ...work.filter((i) => i.how === 'manual')];
    for (const item of ordered) {
      const view = items.find((x) => x.id === item.id)!;
      if (kit.cancellation) break;
      if (item.how === 'manual') {
        const done = await kit.manualStep(
          {
            step: item.id,
            title: `${item.id}: ${item.title}`,
            instructions: item.instructions,
            to: p.people.operators,
          },
          () => kit.cancellation !== undefined,
        );
        if (done === 'aborted') break;
        if (done === 'deadline') {
          markNotDone();
          return await finish('expired', `nobody confirmed ${item.id} (${item.title}) before the deadline`);
        }
        applied.push(item);
        await kit.audit('harden.item-confirmed', { item: item.id, by: kit.manualStepDoneBy(item.id) });
        continue;
      }
      try {
        const change = item.change!;
        const result =
          change.kind === 'dsm_c'
            ? await dsmCProxy(p.settings.dsmC!.taskQueue).changeManagerSetting({
                name: change.name,
                value: change.value,
              })
            : await manager.applyHardeningChange({ site: p.site, change });
        const said = 'applied' in result ? result.applied : `${result.command}: ${result.stdout.trim()}`;
        kit.note('harden.item-applied', `${item.id} ${item.title}: ${said}`);
        await kit.audit('harden.item-applied', { item: item.id, how: item.how, change, result });
        applied.push(item);
      } catch (err) {
        if (isCancellation(err)) throw err;
        view.outcome = 'failed';
        view.detail = describeFailure(err);
        kit.note('harden.item-failed', `${item.id} ${item.title}: ${view.detail}`);
        await kit.audit('harden.item-failed', { item: item.id, how: item.how, error: view.detail });
      }
    }

    // ---- verify: read everything back --------------------------------------------------------------
    kit.setState('verifying');
    const after = await read();
    for (const item of applied) {
      const view = items.find((x) => x.id === item.id)!;
      const now = after.find((a) => a.id === item.id)!;
      const verdict = verifyItem(now);
      view.current = now.current;
      view.status = now.status;
      view.outcome = verdict.outcome;
      view.detail = verdict.detail;
      kit.note(`harden.item-${verdict.outcome}`, `${item.id} ${item.title}: ${verdict.detail}`);
      await kit.audit('harden.item-verified', { item: item.id, outcome: verdict.outcome, detail: verdict.detail });
    }
    if (kit.cancellation) {
      markNotDone();
      return await finish('cancelled', cancelReason(kit));
    }
    const problems = items.filter((x) => x.outcome === 'failed' || x.outcome === 'not-verified');
    if (problems.length > 0) {
      return await finish(
        'failed',
        `not in the prescribed state after the apply: ${problems.map((x) => `${x.id} (${x.detail})`).join('; ')}`,
      );
    }
    return await finish('completed');
  } catch (err) {
    markNotDone();
    return endAfterError(err, {
      noteCancellation: () => noteTemporalCancel(kit),
      cancelled: (reason) => finish('cancelled', reason),
      failed: (reason) => finish('failed', reason),
    });
  }
}

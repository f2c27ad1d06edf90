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
import { proxyActivities, setHandler } from '@temporalio/workflow';
import type { createHardeningActivities } from '../activities/hardening-activities';
import type { createSetupActivities } from '../activities/setup-activities';
import {
  hardeningApproval,
  isTerminalHardenState,
  itemsToApply,
  planHardening,
  VENDOR_WARNING,
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
import { MANAGER_RETRY } from './activity-options';
import { RunKit, proofRules } from './run-kit';
import { afterApply, applyItems, askApproval, checkDrift, verifyApplied, type HardenStage } from './harden-stages';
import { decisionRefusal, endAfterError, gateReason, noteTemporalCancel } from './human-gates';

export * from './harden-messages';

type SetupActivities = ReturnType<typeof createSetupActivities>;
type HardeningActivities = ReturnType<typeof createHardeningActivities>;

const setup = proxyActivities<SetupActivities>({ startToCloseTimeout: '1m', retry: MANAGER_RETRY });

function managerProxy(taskQueue: string): HardeningActivities {
  return proxyActivities<HardeningActivities>({ taskQueue, startToCloseTimeout: '2m', retry: MANAGER_RETRY });
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
    kit.audience = { siteName: p.name, escalation: p.people.escalation, waits: p.waits, ...proofRules(p.approval) };
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
    const stage: HardenStage = { kit, plan: p, items, trigger, finish, markNotDone };
    kit.note(
      'harden.assessed',
      `${itemsToApply(planned).length} of ${planned.length} item(s) not in the prescribed state`,
    );
    await kit.audit('harden.assessed', {
      items: planned.map(({ id: item, current, desired, status, how }) => ({ item, current, desired, status, how })),
    });

    if (mode === 'plan') return await finish('planned');

    if (mode === 'check') return await checkDrift(stage, planned);

    // ---- apply: approval first, stating plainly what the site loses -------------------------------
    const work = itemsToApply(planned);
    if (work.length === 0) {
      for (const x of items) x.outcome = 'already';
      return await finish('nothing-to-do', 'every item is already in the prescribed state');
    }
    for (const x of items) if (x.status === 'ok') x.outcome = 'already';

    approvalAsked = true;
    const gate = await askApproval(stage, work);
    if (gate !== 'approved') return await finish(gate, gateReason(kit, gate, 'the hardening'));

    // ---- apply each item ----------------------------------------------------------------------------
    const applied = await applyItems(stage, work, manager);
    if ('expired' in applied) return await finish('expired', applied.expired);

    // ---- verify: read everything back --------------------------------------------------------------
    kit.setState('verifying');
    await verifyApplied(stage, applied.items, await read());
    return await afterApply(stage);
  } catch (err) {
    markNotDone();
    return endAfterError(err, {
      noteCancellation: () => noteTemporalCancel(kit),
      cancelled: (reason) => finish('cancelled', reason),
      failed: (reason) => finish('failed', reason),
    });
  }
}

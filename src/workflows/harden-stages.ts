/**
 * The stages of a hardening run after the site was read: the drift check's report, the approval
 * (stating plainly what the site loses), applying each item, and reading everything back. The
 * workflow (harden.ts) calls them in order; each acts through the run's kit.
 */
import { isCancellation, proxyActivities } from '@temporalio/workflow';
import type { createHardeningActivities } from '../activities/hardening-activities';
import type { createManagerHostActivities } from '../activities/manager-host-activities';
import type { PlainNotice } from '../activities/types';
import type { Actor } from '../domain/cycle';
import {
  driftedItems,
  hardeningApproval,
  lossLines,
  planLines,
  VENDOR_WARNING,
  verifyItem,
  type HardenState,
  type HardeningPlan,
  type PlannedItem,
} from '../domain/hardening';
import type { HardenItemView, HardenResult } from './harden-messages';
import { approvalGate, cancelReason, type GateOutcome } from './human-gates';
import { describeFailure } from './activity-options';
import type { RunKit } from './run-kit';

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

function dsmCProxy(taskQueue: string): ManagerHostActivities {
  return proxyActivities<ManagerHostActivities>({ taskQueue, startToCloseTimeout: '11m', retry: DSM_C_RETRY });
}

/** What the stages share with the workflow: its kit, the site's plan, the item views, its ending. */
export interface HardenStage {
  kit: RunKit;
  plan: HardeningPlan;
  items: HardenItemView[];
  trigger: Actor;
  finish(final: HardenState, reason?: string): Promise<HardenResult>;
  markNotDone(): void;
}

/** `check`: tells the operators what drifted back, or that nothing did. */
export async function checkDrift({ kit, plan: p, finish }: HardenStage, planned: PlannedItem[]): Promise<HardenResult> {
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

/** `apply` asks first, stating item by item what changes and what the site loses. */
export function askApproval({ kit, plan: p, trigger }: HardenStage, work: PlannedItem[]): Promise<GateOutcome> {
  const rules = hardeningApproval(p);
  const id = kit.info.workflowId;
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
  return approvalGate(kit, {
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
}

/**
 * Applies each item (automated ones first: a person's manual step, which may take days, holds
 * nothing else back) until done or cancelled. A failed item is noted and the rest go on.
 */
export async function applyItems(
  { kit, plan: p, items, markNotDone }: HardenStage,
  work: PlannedItem[],
  manager: HardeningActivities,
): Promise<{ items: PlannedItem[] } | { expired: string }> {
  kit.setState('applying');
  const applied: PlannedItem[] = [];
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
        return { expired: `nobody confirmed ${item.id} (${item.title}) before the deadline` };
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
  return { items: applied };
}

/** Reads each applied item back and records its verdict. */
export async function verifyApplied(
  { kit, items }: HardenStage,
  applied: PlannedItem[],
  after: PlannedItem[],
): Promise<void> {
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
}

/** How an apply ends once everything was read back. */
export async function afterApply({ kit, items, finish, markNotDone }: HardenStage): Promise<HardenResult> {
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
}

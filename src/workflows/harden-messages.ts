/**
 * Messages of the set-up and hardening workflow (S1, H1–H8). One workflow, three modes: `plan`
 * reads and says item by item what would change; `check` is the scheduled drift check (reads,
 * tells the operators what drifted back); `apply` asks for approval, applies, verifies, reports.
 * Approve, reject and cancel are the cycle's Updates (same names and inputs).
 */
import { defineQuery } from '@temporalio/workflow';
import type { Actor } from '../domain/cycle';
import type { ApplyHow, HardenState, HardeningItemId, ItemOutcome, ItemStatus } from '../domain/hardening';
import type { RunState } from './run-messages';

export * from './run-messages';
export { approveUpdate, cancelUpdate, rejectUpdate, type CancelInput, type DecisionInput } from './cycle-messages';

export type HardenMode = 'plan' | 'check' | 'apply';

export interface HardenInput {
  site: string;
  mode: HardenMode;
  /** Who or what started the run; a Schedule leaves it out. */
  trigger?: Actor;
}

/** One item as the run reports it. */
export interface HardenItemView {
  id: HardeningItemId;
  title: string;
  how: ApplyHow;
  why: string;
  current: string;
  desired: string;
  status: ItemStatus;
  loses: string;
  note?: string;
  /** Apply mode: how the item ended. */
  outcome?: ItemOutcome;
  detail?: string;
  /** Manual items: the exact steps a person is asked to do. */
  instructions?: string[];
}

export interface HardenResult {
  state: HardenState;
  mode: HardenMode;
  reason?: string;
  items: HardenItemView[];
}

export interface HardenView extends RunState {
  state: HardenState;
  mode: HardenMode;
  trigger: Actor;
  items: HardenItemView[];
  /** What the vendor warns the site loses, said in the approval request. */
  warning: readonly string[];
  approvalsRequired: number;
  approvals: { by: string; at: string; comment?: string }[];
}

export const hardenStateQuery = defineQuery<HardenView>('hardenState');

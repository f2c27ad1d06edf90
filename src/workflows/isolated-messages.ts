/**
 * Messages of an isolated site's two workflows. The DMZ cycle waits for `receiptArrived`: a
 * receipt folder the intake (or a person) found on the medium, or a confirmation code a person
 * typed. The Update's handler verifies it through an activity and answers with the refusal's
 * reason when it does not hold; the cycle then keeps waiting.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ComponentVersion } from '../domain/cycle';
import type { RelayOutcome } from '../domain/transfer-receipt';
import type { ActionAnswer, ActionBase, RunState } from './run-messages';

export * from './run-messages';

/** A receipt folder (`airgap-receipt-<cycle>/`) or a typed code: exactly one of them. */
export interface ReceiptArrivedInput extends ActionBase {
  folder?: string;
  code?: string;
}

export const receiptArrivedUpdate = defineUpdate<ActionAnswer, [ReceiptArrivedInput]>('receiptArrived');

/** What the DMZ cycle wrote onto the medium. */
export interface SentPackageView {
  folder: string;
  manifestSha256: string;
  zipName: string;
  size: number;
  sha256: string;
}

/** What the DMZ cycle learnt from the air-gapped side. */
export interface ReceivedView {
  via: 'receipt' | 'code';
  by: string;
  relays: RelayOutcome[];
  completedAt?: string;
}

export interface IntakeInput {
  site: string;
  /** The package folder on the medium (`airgap-package-<cycle>/`). */
  folder: string;
  /** Who took it in: the intake poller, or the person running `airgap intake`. */
  by?: string;
}

export type IntakeState =
  | 'verifying'
  | 'placing'
  | 'awaiting-approval'
  | 'importing'
  | 'cleaning-up'
  | 'writing-receipt'
  | 'completed'
  | 'failed'
  | 'refused'
  | 'rejected'
  | 'expired'
  | 'cancelled';

export interface IntakeResult {
  state: IntakeState;
  reason?: string;
  /** The refusal's code, when the package was refused. */
  refusal?: string;
  cycleId?: string;
  /** The code to type on the DMZ side, when a receipt was written. */
  code?: string;
  receiptFolder?: string;
  relays?: RelayOutcome[];
}

export interface IntakeView extends RunState {
  cycleId?: string;
  zip?: { name: string; size: number; sha256: string };
  versions?: ComponentVersion[];
  relays: RelayOutcome[];
  code?: string;
  receiptFolder?: string;
}

export const intakeStateQuery = defineQuery<IntakeView>('intakeState');

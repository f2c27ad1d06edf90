/**
 * How a refusal travels from a workflow's Update validator to the CLI and the web app: an
 * ApplicationFailure of type `Refusal` whose details carry the code. Imports only
 * @temporalio/common, so client code may use `refusalOf` without loading the workflow runtime.
 */
import { ApplicationFailure } from '@temporalio/common';
import { isRefusalCode, type Refusal, type RefusalCode } from '../domain/asks';

export const REFUSAL_TYPE = 'Refusal';

/** Refuses the action at hand: call from an Update validator. */
export function refuse(code: RefusalCode, message: string): never {
  throw ApplicationFailure.create({ type: REFUSAL_TYPE, message, details: [{ code }], nonRetryable: true });
}

/**
 * The typed refusal inside an error from `executeUpdate` (its cause) or the failure itself; a
 * validator's plain Error (runs started before refusals were typed) counts as `not-allowed`.
 */
export function refusalOf(err: unknown): Refusal | undefined {
  const failure = (err as { cause?: unknown })?.cause ?? err;
  if (!(failure instanceof ApplicationFailure)) return undefined;
  const code = (failure.details?.[0] as { code?: unknown } | undefined)?.code;
  if (failure.type === REFUSAL_TYPE && isRefusalCode(code)) return { code, message: failure.message };
  return { code: 'not-allowed', message: failure.message };
}

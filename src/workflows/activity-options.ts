/**
 * Retry presets and failure wording shared by every workflow. Manager API calls: transient faults
 * (5xx, timeouts, 429 after the adapter's own back-off) retry with back-off; a permanent answer
 * (auth, 4xx, a rejected import, a timed-out import) fails the step at once. Host operations hash
 * and copy files that can be gigabytes: fewer, slower retries.
 */
import { ActivityFailure, ChildWorkflowFailure } from '@temporalio/workflow';

export const MANAGER_RETRY = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 8,
  nonRetryableErrorTypes: [
    'PermanentApiError',
    'ImportRejected',
    'ImportTimedOut',
    'RuleImportTimedOut',
    'UnknownSite',
  ],
};

export const HOST_RETRY = { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 5 };

/** "awaitImport failed: relay-1 did not import the bundle: …" — what an operator reads. */
export function describeFailure(err: unknown): string {
  if (err instanceof ChildWorkflowFailure && err.cause) return describeFailure(err.cause);
  if (err instanceof ActivityFailure) {
    const cause = err.cause as Error | undefined;
    return `${err.activityType} failed: ${cause?.message ?? err.message}`;
  }
  return (err as Error)?.message ?? String(err);
}

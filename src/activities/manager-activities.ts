/**
 * Activities that talk to a Deep Security manager's REST API. They run on the control worker or
 * on the worker of the manager's zone. A transient fault (5xx, timeout, 429 after the adapter's
 * own back-off) is thrown as is and Temporal retries it; a permanent answer becomes a
 * non-retryable failure that carries the manager's message.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { isRetryable, type ComputerState, type DeepSecurityApi } from '../adapters/deep-security-api';
import { reportsAtLeast } from '../domain/bundle-freshness';
import type { ComponentVersion } from '../domain/cycle';
import type {
  AwaitImportInput,
  ImportInput,
  ManagerSide,
  RelayVersions,
  RelayVersionsInput,
  TriggerImportResult,
} from './types';

export interface ManagerDeps {
  api(site: string, side: ManagerSide): DeepSecurityApi;
  /** Pause between polls; replaced in tests of the activity alone. */
  sleep?: (ms: number) => Promise<void>;
}

/** Permanent API errors fail the activity at once; everything else is left to Temporal's retry. */
export async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isRetryable(err)) throw err;
    throw ApplicationFailure.nonRetryable(`${what}: ${(err as Error).message}`, 'PermanentApiError', {
      name: (err as Error).name,
    });
  }
}

export function componentsOf(computer: ComputerState): ComponentVersion[] {
  return (computer.securityUpdates?.components ?? []).map((c) => ({ name: c.name, version: c.version }));
}

const UPDATING = new Set(['in-progress', 'updating', 'pending']);

export function createManagerActivities(deps: ManagerDeps) {
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const computer = (site: string, side: ManagerSide, computerId: number) =>
    call(`reading computer ${computerId} on the ${side} manager of ${site}`, () =>
      deps.api(site, side).getComputer({ computerId }),
    );

  return {
    async readRelayVersions(input: RelayVersionsInput): Promise<RelayVersions> {
      const c = await computer(input.site, input.side, input.computerId);
      return {
        versions: componentsOf(c),
        agentStatus: c.agentStatus ?? 'unknown',
        updateStatus: c.securityUpdates?.status,
        updateMessage: c.securityUpdates?.statusMessage,
      };
    },

    /**
     * C3 trigger. Idempotent across retries and worker crashes: when the relay already reports
     * the bundle's versions, or an update is already running on it, nothing is sent again — a
     * cycle never imports twice.
     */
    async triggerImport(input: ImportInput): Promise<TriggerImportResult & { triggeredAt: number }> {
      const now = Date.now();
      const c = await computer(input.site, 'airgapped', input.computerId);
      if (reportsAtLeast(componentsOf(c), input.expect)) {
        return { triggered: false, reason: 'the relay already reports the bundle versions', triggeredAt: now };
      }
      if (c.securityUpdates?.status && UPDATING.has(c.securityUpdates.status)) {
        return { triggered: false, reason: 'an update is already running on the relay', triggeredAt: now };
      }
      const task = await call(`triggering the security update of ${input.relay}`, () =>
        deps.api(input.site, 'airgapped').triggerSecurityUpdate({ computerId: input.computerId, timeout: 'one-hour' }),
      );
      return {
        triggered: true,
        reason: `scheduled task ${task.taskId} runs "check for security updates"`,
        triggeredAt: now,
      };
    },

    /**
     * Polls until the relay reports at least the bundle's versions. A failed update status newer
     * than the trigger means the relay rejected the zip: permanent. The deadline survives
     * retries through the heartbeat details.
     */
    async awaitImport(
      input: AwaitImportInput & { since: number; timeout: number },
    ): Promise<{ versions: ComponentVersion[] }> {
      const ctx = Context.current();
      const startedAt = (ctx.info.heartbeatDetails as { startedAt?: number } | undefined)?.startedAt ?? Date.now();
      for (;;) {
        const c = await computer(input.site, 'airgapped', input.computerId);
        const versions = componentsOf(c);
        const status = c.securityUpdates?.status;
        ctx.heartbeat({ startedAt, status });
        if (reportsAtLeast(versions, input.expect)) return { versions };
        const changed = c.securityUpdates?.lastChanged ?? 0;
        if (status === 'failed' && changed >= input.since) {
          throw ApplicationFailure.nonRetryable(
            `${input.relay} did not import the bundle: ${c.securityUpdates?.statusMessage ?? 'update failed'}`,
            'ImportRejected',
          );
        }
        if (Date.now() - startedAt > input.timeout) {
          throw ApplicationFailure.nonRetryable(
            `${input.relay} did not report the bundle's versions within ${Math.round(input.timeout / 1000)} s ` +
              `(agent ${c.agentStatus ?? 'unknown'}, update status ${status ?? 'unknown'})`,
            'ImportTimedOut',
          );
        }
        await sleep(input.pollInterval);
      }
    },
  };
}

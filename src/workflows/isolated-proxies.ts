/**
 * The activities both sides of an isolated site call, with the same options on either side: the
 * control worker's (plan, audit, mail), the medium's (copying and hashing a zip of gigabytes onto or
 * off the medium) and a relay's. Each side's manager calls keep their own timeouts in its workflow.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { createControlActivities } from '../activities/control-activities';
import type { createHostActivities } from '../activities/host-activities';
import type { createIsolatedActivities } from '../activities/isolated-activities';
import type { PlannedHost } from '../domain/site-plan';
import { HOST_RETRY, MANAGER_RETRY } from './activity-options';

type ControlActivities = ReturnType<typeof createControlActivities>;
type HostActivities = ReturnType<typeof createHostActivities>;
type IsolatedActivities = ReturnType<typeof createIsolatedActivities>;

export const control = proxyActivities<ControlActivities>({ startToCloseTimeout: '1m', retry: MANAGER_RETRY });

export const isolated = proxyActivities<IsolatedActivities>({
  startToCloseTimeout: '1h',
  retry: { ...HOST_RETRY, nonRetryableErrorTypes: ['NotIsolated', 'MediumConflictError'] },
});

export const hostProxy = (host: PlannedHost) =>
  proxyActivities<HostActivities>({
    taskQueue: host.taskQueue,
    startToCloseTimeout: '1h',
    heartbeatTimeout: '2m',
    retry: HOST_RETRY,
  });

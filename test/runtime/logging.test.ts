import { declareActivityOnlyQueue, isExpectedNoise } from '../../src/runtime/logging';

describe('worker logging', () => {
  const noWorkflows = 'No workflows registered, not polling for workflow tasks';

  it('drops the "no workflows" warning only for a queue declared activity-only', () => {
    declareActivityOnlyQueue('airgap-host-relay-1');
    expect(isExpectedNoise({ level: 'WARN', message: noWorkflows, meta: { taskQueue: 'airgap-host-relay-1' } })).toBe(
      true,
    );
    // The same warning from the control queue (which must have workflows) still shows.
    expect(isExpectedNoise({ level: 'WARN', message: noWorkflows, meta: { taskQueue: 'airgap-control' } })).toBe(false);
    expect(isExpectedNoise({ level: 'WARN', message: noWorkflows })).toBe(false);
    // Other warnings from an activity-only queue still show.
    expect(
      isExpectedNoise({ level: 'WARN', message: 'Activity failed', meta: { taskQueue: 'airgap-host-relay-1' } }),
    ).toBe(false);
  });
});

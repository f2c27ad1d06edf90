/** The manager adapter against the simulated managers, over real HTTPS with the simulator's CA. */
import { inspect } from 'node:util';
import {
  ApiConfigurationError,
  createDeepSecurityApi,
  isRetryable,
  PermanentApiError,
  RateLimitedError,
  TransientApiError,
  UntrustedCertificateError,
  type DeepSecurityApi,
} from '../../src/adapters/deep-security-api';
import { freePort } from '../../src/runtime/dev-server';
import { startFixture, type SimFixture } from '../sim/fixture';

let f: SimFixture;
let airgap: DeepSecurityApi;
const sleeps: number[] = [];
const fastBackoff = {
  backoffBaseMs: 10,
  sleep: async (ms: number) => {
    sleeps.push(ms);
    await new Promise((r) => setTimeout(r, 1));
  },
};

beforeAll(async () => {
  f = await startFixture({ agentsPerRelay: 3, importDelayMs: 100 });
  airgap = createDeepSecurityApi(f.site.airgapped.manager, f.env.TEST_AIRGAP_API_KEY, fastBackoff);
});
afterAll(() => f.cleanup());
afterEach(() => {
  f.sim.control.clearFaults();
  sleeps.length = 0;
});

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe('reading the managers', () => {
  test('getComputer returns status, update status, components, agent version and relay flag', async () => {
    const relay = await airgap.getComputer({ computerId: 21 });
    const expected = f.sim.control.snapshot().managers['plant/airgapped']!.computers[21]!;
    expect(relay).toMatchObject({
      id: 21,
      hostName: 'plant-airgap-relay-1',
      agentVersion: expected.agentVersion,
      agentStatus: 'active',
      isRelay: true,
      securityUpdates: { status: expected.updateStatus.status },
    });
    const rules = relay.securityUpdates!.components.find((c) => c.group === 'rules')!;
    expect(rules).toMatchObject({ name: 'Deep Security Rule Update', version: expected.components.ruleUpdate });
    expect(relay.securityUpdates!.components.map((c) => c.version)).toContain(expected.components.virusPattern);
  });

  test('an agent is not a relay', async () => {
    await expect(airgap.getComputer({ computerId: 101 })).resolves.toMatchObject({ isRelay: false, relayListId: 1 });
  });

  test('listComputers pages through every computer by id', async () => {
    const first = await airgap.listComputers({ maxItems: 3 });
    expect(first.computers.map((c) => c.id)).toEqual([21, 22, 101]);
    expect(first.nextAfterId).toBe(101);
    const second = await airgap.listComputers({ maxItems: 3, afterId: first.nextAfterId });
    const third = await airgap.listComputers({ maxItems: 3, afterId: second.nextAfterId });
    const all = [...first.computers, ...second.computers, ...third.computers].map((c) => c.id);
    expect(all).toEqual([21, 22, 101, 102, 103, 104, 105, 106]);
    expect(third.nextAfterId).toBeUndefined();
  });

  test('managerVersion reads X-DSM-Version and follows a simulated upgrade', async () => {
    await expect(airgap.managerVersion()).resolves.toEqual({ version: '20.0.877', header: 'Deep Security/20.0.877' });
    f.sim.control.setManagerVersion({ siteId: 'plant', side: 'airgapped', version: '20.0.1559' });
    await expect(airgap.managerVersion()).resolves.toMatchObject({ version: '20.0.1559' });
  });
});

describe('changing the managers', () => {
  test('triggerSecurityUpdate creates a run-once task that is gone once it ran', async () => {
    const task = await airgap.triggerSecurityUpdate({ computerId: 101, timeout: 'two-hours' });
    expect(task).toMatchObject({ computerId: 101, timeout: 'two-hours' });
    expect(task.taskId).toBeGreaterThan(0);
    expect(f.sim.control.snapshot().managers['plant/airgapped']!.tasks).toEqual({});
    await f.sim.control.settle();
  });

  test('system settings are read and written one at a time and in a batch (S1, H3)', async () => {
    await expect(airgap.getSystemSetting({ name: 'platformSettingSmartProtectionFeedbackEnabled' })).resolves.toEqual({
      name: 'platformSettingSmartProtectionFeedbackEnabled',
      value: 'true',
    });
    await airgap.setSystemSetting({ name: 'platformSettingSmartProtectionFeedbackEnabled', value: 'false' });
    const batch = await airgap.setSystemSettings({
      settings: {
        platformSettingUpdateSecurityPrimarySourceMode: 'Other Update Source',
        platformSettingUpdateSecurityPrimarySourceUrl: 'https://localhost:4122',
      },
    });
    expect(batch).toEqual({
      platformSettingUpdateSecurityPrimarySourceMode: 'Other Update Source',
      platformSettingUpdateSecurityPrimarySourceUrl: 'https://localhost:4122',
    });
    expect(f.sim.control.snapshot().managers['plant/airgapped']!.systemSettings).toMatchObject({
      platformSettingSmartProtectionFeedbackEnabled: 'false',
      platformSettingUpdateSecurityPrimarySourceUrl: 'https://localhost:4122',
    });
  });

  test('policy and computer settings can turn Smart Scan off (H1)', async () => {
    await airgap.setPolicySetting({ policyId: 1, name: 'antiMalwareSettingSmartScanState', value: 'Off' });
    await expect(
      airgap.getPolicySetting({ policyId: 1, name: 'antiMalwareSettingSmartScanState' }),
    ).resolves.toMatchObject({
      value: 'Off',
    });
    await airgap.setComputerSetting({ computerId: 22, name: 'antiMalwareSettingSmartScanState', value: 'Automatic' });
    await expect(
      airgap.getComputerSetting({ computerId: 22, name: 'antiMalwareSettingSmartScanState' }),
    ).resolves.toMatchObject({
      value: 'Automatic',
    });
  });

  test('the policy names its real-time scan configuration, whose H4-H6 switches can be turned off', async () => {
    const policy = await airgap.getPolicy({ policyId: 1 });
    expect(policy).toMatchObject({ id: 1, webReputationState: 'on', realTimeScanConfigurationId: 1 });
    const updated = await airgap.modifyAntiMalwareConfiguration({
      configurationId: policy.realTimeScanConfigurationId!,
      changes: { memoryScanEnabled: false, machineLearningEnabled: false, behaviorMonitoringEnabled: false },
    });
    expect(updated).toMatchObject({ scanType: 'real-time', memoryScanEnabled: false, machineLearningEnabled: false });
    await expect(airgap.getAntiMalwareConfiguration({ configurationId: 1 })).resolves.toMatchObject({
      behaviorMonitoringEnabled: false,
    });
  });

  test('web reputation is switched off on the policy (H2)', async () => {
    const policy = await airgap.setPolicyModuleState({ policyId: 1, module: 'webReputation', state: 'off' });
    expect(policy.webReputationState).toBe('off');
  });
});

describe('errors', () => {
  test('a value the manager refuses is a permanent error carrying the status and its message', async () => {
    const err = await failure(
      airgap.setSystemSetting({ name: 'platformSettingSmartProtectionFeedbackEnabled', value: 'nope' }),
    );
    expect(err).toBeInstanceOf(PermanentApiError);
    expect(err).toMatchObject({ status: 400, retryable: false });
    expect((err as PermanentApiError).managerMessage).toContain('Invalid value');
    expect(isRetryable(err)).toBe(false);
  });

  test('an unknown computer is a permanent 404 with the manager message', async () => {
    const err = await failure(airgap.getComputer({ computerId: 999 }));
    expect(err).toMatchObject({ name: 'PermanentApiError', status: 404 });
    expect(err.message).toContain('Unable to find the computer with ID 999');
  });

  test('a wrong API key is a permanent 401 and the key appears nowhere in the error', async () => {
    const env = { ...f.env, TEST_AIRGAP_API_KEY: 'wrong-key-abcdef' };
    const err = await failure(
      createDeepSecurityApi(f.site.airgapped.manager, env.TEST_AIRGAP_API_KEY).getComputer({ computerId: 21 }),
    );
    expect(err).toMatchObject({ name: 'PermanentApiError', status: 401 });
    expect(inspect(err, { depth: 10 })).not.toContain('wrong-key-abcdef');
    expect(JSON.stringify(err)).not.toContain('wrong-key-abcdef');
  });

  test('an unset key variable is a configuration error naming the variable', async () => {
    const err = await failure(createDeepSecurityApi(f.site.airgapped.manager, undefined).managerVersion());
    expect(err).toBeInstanceOf(ApiConfigurationError);
    expect(err.message).toContain('TEST_AIRGAP_API_KEY is unset');
  });

  test('5xx answers are transient and retryable', async () => {
    f.sim.control.injectFault({ kind: 'server-error', count: 1, status: 502 });
    const err = await failure(airgap.getComputer({ computerId: 21 }));
    expect(err).toBeInstanceOf(TransientApiError);
    expect(err).toMatchObject({ status: 502, retryable: true });
    expect(isRetryable(err)).toBe(true);
  });

  test('429 answers are retried with growing delays and the call then succeeds', async () => {
    f.sim.control.injectFault({ kind: 'rate-limit', count: 3 });
    await expect(airgap.managerVersion()).resolves.toMatchObject({ version: expect.any(String) });
    expect(sleeps).toHaveLength(3);
    expect(sleeps[2]!).toBeGreaterThan(sleeps[0]!);
  });

  test('429 beyond the retries is a retryable RateLimitedError', async () => {
    f.sim.control.injectFault({ kind: 'rate-limit', count: 50 });
    const api = createDeepSecurityApi(f.site.airgapped.manager, f.env.TEST_AIRGAP_API_KEY, {
      ...fastBackoff,
      rateLimitRetries: 2,
    });
    const err = await failure(api.managerVersion());
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err).toMatchObject({ attempts: 3, retryable: true });
  });

  test('a manager that does not answer in time is transient', async () => {
    f.sim.control.injectFault({ kind: 'stall', count: 1, ms: 3000 });
    const manager = { ...f.site.airgapped.manager, requestTimeout: 300 };
    const err = await failure(createDeepSecurityApi(manager, f.env.TEST_AIRGAP_API_KEY).getPolicy({ policyId: 1 }));
    expect(err).toBeInstanceOf(TransientApiError);
    expect(err.message).toContain('timed out');
  });

  test('a refused connection is transient', async () => {
    const manager = { ...f.site.airgapped.manager, url: `https://127.0.0.1:${await freePort()}/api` };
    const err = await failure(createDeepSecurityApi(manager, f.env.TEST_AIRGAP_API_KEY).managerVersion());
    expect(err).toBeInstanceOf(TransientApiError);
    expect(err.message).toContain('ECONNREFUSED');
  });

  test('without the CA the certificate is refused, permanently', async () => {
    const manager = { ...f.site.airgapped.manager, caFile: undefined };
    const err = await failure(createDeepSecurityApi(manager, f.env.TEST_AIRGAP_API_KEY).managerVersion());
    expect(err).toBeInstanceOf(UntrustedCertificateError);
    expect(isRetryable(err)).toBe(false);
  });

  test('verification stays on even when NODE_TLS_REJECT_UNAUTHORIZED=0 is set', async () => {
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const manager = { ...f.site.airgapped.manager, caFile: undefined };
      await expect(createDeepSecurityApi(manager, f.env.TEST_AIRGAP_API_KEY).managerVersion()).rejects.toBeInstanceOf(
        UntrustedCertificateError,
      );
    } finally {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
    }
  });

  test('an unreadable CA file is a configuration error naming the file', async () => {
    const manager = { ...f.site.airgapped.manager, caFile: '/nonexistent/ca.pem' };
    await expect(createDeepSecurityApi(manager, f.env.TEST_AIRGAP_API_KEY).managerVersion()).rejects.toThrow(
      'cannot read caFile /nonexistent/ca.pem',
    );
  });

  test('the API key never appears in any error the adapter produced', async () => {
    f.sim.control.injectFault({ kind: 'server-error', count: 1 });
    const errors = [
      await failure(airgap.getComputer({ computerId: 21 })),
      await failure(airgap.getComputer({ computerId: 999 })),
      await failure(
        createDeepSecurityApi(
          { ...f.site.airgapped.manager, caFile: undefined },
          f.env.TEST_AIRGAP_API_KEY,
        ).managerVersion(),
      ),
    ];
    for (const err of errors) {
      expect(inspect(err, { depth: 10 })).not.toContain(f.env.TEST_AIRGAP_API_KEY);
      expect(err.message).not.toContain(f.env.TEST_AIRGAP_API_KEY);
    }
  });
});

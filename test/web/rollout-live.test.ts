/**
 * A real rollout's page: the run provider turns the rollout's state into the U1 → U5 picture, and
 * a halt stands out with its reason on the page and in the picture.
 */
import { createApp } from '../../src/web/app';
import { noAuth } from '../../src/web/auth';
import { createRunProvider } from '../../src/web/temporal-providers';
import { startUpgradeStack, type UpgradeStack } from '../helpers/upgrade-stack';
import { KEYS, RecordingGateway, squash } from './support';

describe('a rollout page over a real rollout', () => {
  let stack: UpgradeStack;
  beforeAll(async () => {
    stack = await startUpgradeStack({
      waits: { reminderEvery: '10m', escalateAfter: '10m', deadline: '2500ms' },
      upgrade: { verifyTimeout: '2s', pollInterval: '100ms', maxPollInterval: '300ms' },
    });
  });
  afterAll(() => stack.close());

  it('draws U1 → U5 in order with state and versions, and shows the halt with its reason', async () => {
    const handle = await stack.start({ manager: '20.0.1000', relay: '20.0.1.100', agent: '20.0.1.100' });
    await stack.waitForStep(handle, 'U1-upgrade');
    const provider = createRunProvider(stack.client, stack.audit);
    const app = createApp({
      actions: new RecordingGateway(),
      keys: KEYS,
      auth: noAuth(),
      runs: provider,
      temporalUi: { url: 'http://127.0.0.1:8233', namespace: stack.config.temporal.namespace },
    });

    const waiting = await provider.run(handle.workflowId);
    expect(waiting!.rollout!.stages.map((s) => [s.id, s.status, s.target])).toEqual([
      ['U1', 'awaiting-upgrade', '20.0.1000'],
      ['U2', 'pending', '20.0.1.100'],
      ['U3', 'pending', '20.0.1000'],
      ['U4', 'pending', '20.0.1.100'],
      ['U5', 'pending', '20.0.1.100'],
    ]);
    const before = waiting!.rollout!.stages[0]!.before;
    expect(before).toMatch(/^\d+\.\d+/);

    await stack.waitFor(handle, (v) => v.halted !== undefined, 6000);
    const page = squash(await (await app.request(`/runs/${encodeURIComponent(handle.workflowId)}`)).text());
    expect(page).toContain(
      '<strong>Problem:</strong> halted at U1: nobody confirmed the upgrade of U1 before the deadline',
    );
    expect(page).toMatch(
      /<g class="stage stage-fail" data-stage="U1" data-status="failed"><title>U1 DMZ Manager \(\+ database\): failed; was [^;]+ → target 20\.0\.1000 → now \?; nobody confirmed/,
    );
    const order = ['U1', 'U2', 'U3', 'U4', 'U5'].map((id) => page.indexOf(`data-stage="${id}"`));
    expect(order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1]!))).toBe(true);
    expect(page).toContain('U5 agents: no wave started yet');
    await handle.terminate('test over');
  }, 60_000);
});

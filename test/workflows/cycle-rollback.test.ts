import { carryBundle } from '../../src/sim';
import { approveUpdate, fileCopiedUpdate } from '../../src/workflows/cycle-messages';
import { relayImports } from '../helpers/cycle-assert';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';

describe('rollback protection', () => {
  let stack: CycleStack;
  beforeAll(async () => {
    stack = await startCycleStack({ approvers: ['approver@plant.example'] });
    // Someone imported a newer rule update on the air-gapped side by hand: the DMZ bundle is older.
    await stack.restartSim((state) => {
      for (const manager of Object.values(state.managers)) {
        if (manager.side !== 'airgapped') continue;
        for (const c of Object.values(manager.computers)) c.components = { ...c.components, ruleUpdate: '99-001' };
      }
    });
  });
  afterAll(() => stack.close());

  it('refuses to import a bundle older than what the site has, names the component, and imports nothing', async () => {
    const handle = await stack.startCycle();
    const result = await handle.result();
    expect(result.state).toBe('failed');
    expect(result.reason).toMatch(/rollback refused: .*Deep Security Rule Update 99-001 → \d\d-\d{3}/);
    expect(Object.values(relayImports(stack)).every((n) => n === 0)).toBe(true);
  });

  it('imports an older bundle only with an explicit, recorded override and an approval', async () => {
    const handle = await stack.startCycle({
      allowRollback: { by: 'lead@plant.example', reason: 'rule 99-001 breaks the PLC' },
    });
    const view = await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer');
    expect(view.approvalsRequired).toBe(1);
    await carryBundle({ bundlePath: view.bundle!.path, relays: stack.site.airgapped.relays });
    await handle.executeUpdate(fileCopiedUpdate, { args: [{ by: 'op@plant.example', sha256: view.bundle!.sha256 }] });
    await stack.waitFor(handle, (v) => v.state === 'awaiting-approval');
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'approver@plant.example' }] });
    // The simulated relay itself keeps the newer rules (it never downgrades); the cycle's own
    // verification then waits for versions that never come, so it fails on the import timeout.
    const records = await stack.audit.timeline(handle.workflowId);
    expect(records.find((r) => r.type === 'rollback.override')).toMatchObject({
      actor: { who: 'lead@plant.example' },
      data: { reason: 'rule 99-001 breaks the PLC' },
    });
    expect(records.some((r) => r.type === 'human.approved')).toBe(true);
    await handle.terminate('test over');
  });
});

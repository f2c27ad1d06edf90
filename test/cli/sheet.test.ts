/**
 * `airgap cycle sheet <id>`: the courier sheet of a waiting cycle from the real run, as text and as
 * JSON (ISO times), the same model the web page renders.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { zonedTime } from '../../src/domain/cron-words';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'airgap.js');

/** Runs the CLI without blocking this process: the stack's workers here must answer its Query. */
function airgap(stack: CycleStack, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, '--config', stack.configFile, ...args],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          ...stack.env,
          TEMPORAL_ADDRESS: testTemporalAddress(),
          TEMPORAL_NAMESPACE: TEST_NAMESPACE,
        },
      },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('airgap cycle sheet', () => {
  let stack: CycleStack;
  beforeAll(async () => {
    stack = await startCycleStack();
  });
  afterAll(() => stack.close());

  it('prints what to carry, from where, to which folder, the check command per relay, the deadline and who to tell', async () => {
    stack.sim.control.publishUpdate();
    const handle = await stack.startCycle();
    const view = await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer');
    const bundle = view.bundle!;
    const relay = stack.site.airgapped.relays[0]!;
    const target = view.relays[0]!.targetFolder;

    const text = await airgap(stack, 'cycle', 'sheet', handle.workflowId);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`File:      ${bundle.fileName}   (do not rename it)`);
    expect(text.stdout).toContain(`SHA-256:   ${bundle.sha256.match(/.{8}/g)!.join(' ')}`);
    expect(text.stdout).toContain(
      `Take it from the DMZ relay ${stack.site.dmz.relay.name} (linux), folder ${path.dirname(bundle.path)}`,
    );
    expect(text.stdout).toContain(`[ ] ${relay.name} (linux) — now waiting`);
    expect(text.stdout).toContain(`    check:  sha256sum '${target.replace(/\/$/, '')}/${bundle.fileName}'`);
    // The transfer wait's deadline, in the site's zone with how far away it is.
    expect(text.stdout).toContain(`Deadline:  ${zonedTime(Date.parse(view.waitingFor!.until!), 'UTC')} (in `);
    expect(text.stdout).toContain('Then tell: operator@plant.example');

    const jsonOut = await airgap(stack, '--json', 'cycle', 'sheet', handle.workflowId);
    const json = JSON.parse(jsonOut.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ file: bundle.fileName, sha256: bundle.sha256, sizeBytes: bundle.size });
    expect(json.deadline).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const missing = await airgap(stack, 'cycle', 'sheet', 'no-such-cycle');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cycle no-such-cycle has no bundle to carry');
    await handle.terminate('test over');
  }, 90_000);
});

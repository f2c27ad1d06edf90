/**
 * Workflow code must stay deterministic: every committed history in test/histories replays
 * against today's workflow bundle, and a deliberately non-deterministic change is caught.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { testWorkflowBundlePath } from '../helpers/env';

const dir = path.join(__dirname, '..', 'histories');
const histories = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({
    name: f.replace(/\.json$/, ''),
    // `<workflow id>.run-<n>.json`: an earlier run of a workflow that continued as new.
    workflowId: f.replace(/\..*$/, ''),
    history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))),
  }));

async function replayAll(workflowBundle: { code: string } | { codePath: string }) {
  const results = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) results.push(result);
  return results;
}

describe('replaying recorded workflow histories', () => {
  it('has recorded histories to replay, including a completed and an expired cycle', () => {
    expect(histories.map((h) => h.workflowId)).toEqual(expect.arrayContaining(['cycle-completed', 'cycle-expired']));
  });

  it('has a recorded history of every workflow type the workers register, and of a rollout that continued as new', () => {
    const index = fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'workflows', 'index.ts'), 'utf8');
    const registered = [...index.matchAll(/export \{ (\w+) \}/g)].map((m) => m[1]);
    const recorded = new Set(
      histories.map((h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name),
    );
    expect(registered.length).toBeGreaterThanOrEqual(7);
    expect(registered.filter((type) => !recorded.has(type))).toEqual([]);
    const lastEvents = histories.map((h) => h.history.events?.at(-1));
    expect(lastEvents.some((e) => e?.workflowExecutionContinuedAsNewEventAttributes)).toBe(true);
    expect(
      histories.some((h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId),
    ).toBe(true);
  });

  it('replays every recorded history against the current workflow code without a determinism error', async () => {
    const results = await replayAll({ codePath: testWorkflowBundlePath() });
    expect(results.map((r) => [r.workflowId, r.error?.message])).toEqual(
      histories.map((h) => [h.workflowId, undefined]),
    );
  });

  it('catches a non-deterministic change to any workflow', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/nondeterministic'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never,
    });
    const results = await replayAll({ code: bundle.code });
    expect(results.length).toBe(histories.length);
    for (const r of results) expect(r.error?.name).toMatch(/DeterminismViolationError|ReplayError/);
  });
});

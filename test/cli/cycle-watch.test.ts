/**
 * `cycle start` says its first outcome, `cycle status --watch` follows a run until it needs a
 * person or ends, and --json prints times as ISO-8601 strings, never epoch milliseconds. Real
 * Temporal, real simulator, the CLI's own main() in this process.
 */
import { main } from '../../src/cli/main';
import { carryBundle } from '../../src/sim';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';

let stack: CycleStack;
const saved = { TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE };

beforeAll(async () => {
  stack = await startCycleStack();
  // The CLI reaches the test run's Temporal server as an external cluster.
  process.env.TEMPORAL_ADDRESS = testTemporalAddress();
  process.env.TEMPORAL_NAMESPACE = TEST_NAMESPACE;
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await stack.close();
});

async function airgap(...args: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    const code = await main(['node', 'airgap', '--config', stack.configFile, ...args]);
    return { code, out: chunks.join('') };
  } finally {
    write.mockRestore();
  }
}

/** Every number in a JSON value that looks like a time (epoch milliseconds or seconds since 2001). */
function epochNumbers(value: unknown, at = '$'): string[] {
  if (typeof value === 'number') return value > 978_307_200 ? [`${at}=${value}`] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => epochNumbers(v, `${at}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => epochNumbers(v, `${at}.${k}`));
  }
  return [];
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const SHOWN = /\d{4}-\d{2}-\d{2} \d{2}:\d{2} [A-Z][\w+-]* \((in .+|.+ ago|now)\)/;

describe('cycle start, status --watch and times (CLI)', () => {
  it('start says what to carry; --watch stops at once when a person is needed; copied then --watch follows to the end', async () => {
    stack.sim.control.publishUpdate();
    const started = await airgap('cycle', 'start', stack.site.id, '--by', 'op@plant.example');
    expect(started.code).toBe(0);
    const id = /started cycle (\S+)/.exec(started.out)![1]!;
    expect(started.out).toContain('awaiting-transfer: carry ');
    const view = await stack.view(stack.client.workflow.getHandle(id));
    expect(started.out).toContain(`${view.bundle!.path} (${view.bundle!.size} bytes, sha256 ${view.bundle!.sha256})`);
    expect(started.out).toContain(`${view.relays[0]!.name} → ${view.relays[0]!.targetFolder}`);

    const waiting = await airgap('cycle', 'status', id, '--watch');
    expect(waiting.code).toBe(0);
    expect(waiting.out).toMatch(/needs a person: file copied/);
    // Human times: minute precision, a zone, how far away; no raw ISO with milliseconds.
    expect(waiting.out).toMatch(new RegExp(`state awaiting-transfer since ${SHOWN.source}`));
    expect(waiting.out).not.toMatch(/\d{2}:\d{2}:\d{2}\.\d{3}Z/);

    await carryBundle({ bundlePath: view.bundle!.path, relays: stack.site.airgapped.relays });
    const copied = await airgap('cycle', 'copied', id, '--by', 'op@plant.example', '--sha256', view.bundle!.sha256);
    expect(copied.code).toBe(0);
    const followed = await airgap('cycle', 'status', id, '--watch');
    expect(followed.code).toBe(0);
    expect(followed.out).toMatch(/ended completed at /);
    const end = await stack.view(stack.client.workflow.getHandle(id));
    expect(end.state).toBe('completed');
    // Each change was printed: the history entries after the copy appear in the watch output.
    const lastEntry = end.timeline.at(-1)!;
    expect(followed.out).toContain(lastEntry.summary);

    const json = await airgap('--json', 'cycle', 'status', id);
    const parsed = JSON.parse(json.out) as Record<string, unknown>;
    expect(epochNumbers(parsed)).toEqual([]);
    expect(parsed.stateSince).toMatch(ISO);
    expect(parsed.startedAt).toMatch(ISO);
    for (const e of end.timeline) expect(e.at).toMatch(ISO);

    const list = JSON.parse((await airgap('--json', 'cycle', 'list', '--site', stack.site.id)).out) as {
      started: unknown;
    }[];
    expect(list.length).toBeGreaterThan(0);
    expect(epochNumbers(list)).toEqual([]);
    for (const r of list) expect(r.started).toMatch(ISO);
  });

  it('start says nothing-new at once when the DMZ relay has nothing newer; --watch of an ended run exits 0', async () => {
    const started = await airgap('cycle', 'start', stack.site.id);
    expect(started.code).toBe(0);
    expect(started.out).toMatch(/\nnothing-new: .+/);
    // It names the versions it compared, so the operator sees why (e.g. Deep Security Rule Update 26-049).
    expect(started.out).toMatch(/nothing-new: .*Rule Update \d{2}-\d{3}/);
    const id = /started cycle (\S+)/.exec(started.out)![1]!;
    const json = await airgap('--json', 'cycle', 'status', id, '--watch');
    expect(json.code).toBe(0);
    const lines = json.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { state: string });
    expect(lines.at(-1)!.state).toBe('nothing-new');
  });

  it('--watch exits 1 when the run ends cancelled', async () => {
    stack.sim.control.publishUpdate();
    const started = await airgap('--json', 'cycle', 'start', stack.site.id);
    const { id, state } = JSON.parse(started.out) as { id: string; state: string };
    expect(state).toBe('awaiting-transfer');
    await airgap('cycle', 'cancel', id, '--by', 'op@plant.example', '--reason', 'test');
    const watched = await airgap('cycle', 'status', id, '--watch');
    expect(watched.out).toMatch(/ended cancelled/);
    expect(watched.code).toBe(1);
  });
});

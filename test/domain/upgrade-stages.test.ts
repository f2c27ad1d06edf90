import {
  actionRefusal,
  endStages,
  lagText,
  currentStage,
  initialStages,
  InvalidTargetError,
  moveStage,
  orderViolation,
  pollDelay,
  precheckVerdict,
  reachedTarget,
  recordSeen,
  rolloutStateOf,
  STAGE_MOVES,
  STAGE_STATUSES,
  StageOrderError,
  stepIdOf,
  targetsFrom,
  targetsRefusal,
  UPGRADE_STAGES,
  waveOverThreshold,
  type StageProgress,
  type StageStatus,
} from '../../src/domain/upgrade-stages';

// Agents are never newer than their relays (the vendor's order), so the agent target is the older.
const targets = targetsFrom({ manager: '20.0.1000', relay: '20.0.1.300', agent: '20.0.1.200' });
const T0 = Date.UTC(2026, 10, 1);

/** A rollout at stage index `k` in `status`: earlier stages verified, later ones pending. */
function at(k: number, status: StageStatus): StageProgress[] {
  return initialStages(targets, T0).map((s, i) => ({
    ...s,
    status: i < k ? 'verified' : i === k ? status : 'pending',
    failure: i === k && status === 'failed' ? { during: 'verifying', message: 'boom', at: T0 } : undefined,
  }));
}

/** Every state a rollout can be in: each stage as the current one in each non-final status, and all verified. */
const STATES: [string, StageProgress[]][] = [
  ...UPGRADE_STAGES.flatMap((id, k) =>
    STAGE_STATUSES.filter((s) => s !== 'verified').map((s): [string, StageProgress[]] => [`${id} ${s}`, at(k, s)]),
  ),
  ['all verified', at(5, 'pending')],
];

describe('the upgrade stage order', () => {
  it('is U1 DMZ Manager → U2 DMZ Relay → U3 air-gapped Manager → U4 air-gapped Relay(s) → U5 air-gapped Agents', () => {
    const stages = initialStages(targets, T0);
    expect(stages.map((s) => [s.id, s.target])).toEqual([
      ['U1', '20.0.1000'],
      ['U2', '20.0.1.300'],
      ['U3', '20.0.1000'],
      ['U4', '20.0.1.300'],
      ['U5', '20.0.1.200'],
    ]);
    expect(currentStage(stages)?.id).toBe('U1');
    expect(rolloutStateOf(stages)).toBe('u1-pending');
    expect(rolloutStateOf(at(5, 'pending'))).toBe('completed');
  });

  it('allows exactly the moves of the transition table, and only for the current stage, from every state', () => {
    let allowed = 0;
    let refused = 0;
    for (const [, stages] of STATES) {
      const current = stages.findIndex((s) => s.status !== 'verified');
      for (const [j, id] of UPGRADE_STAGES.entries()) {
        for (const to of STAGE_STATUSES) {
          const from = stages[j]!.status;
          const expected = j === current && STAGE_MOVES[from].includes(to);
          const move = () => moveStage(stages, id, to, T0 + 1, { failure: 'why' });
          if (expected) {
            const next = move();
            expect(next[j]).toMatchObject({ status: to, since: T0 + 1 });
            expect(orderViolation(next)).toBeUndefined();
            allowed++;
          } else {
            expect(move).toThrow(StageOrderError);
            refused++;
          }
        }
      }
    }
    // 5 stages × 10 current statuses + all verified = 51 states; 51 × 5 × 11 moves tried.
    expect(allowed + refused).toBe(51 * 5 * 11);
    expect(allowed).toBe(5 * Object.values(STAGE_MOVES).reduce((n, m) => n + m.length, 0));
  });

  it('refuses to start a stage while an earlier one is not verified, naming the missing stages', () => {
    const stages = at(0, 'verifying');
    expect(() => moveStage(stages, 'U3', 'prechecking', T0)).toThrow(
      'cannot move U3 from pending to prechecking: U1, U2 are not verified yet (order U1 → U2 → U3 → U4 → U5)',
    );
    expect(() => moveStage(at(5, 'pending'), 'U2', 'prechecking', T0)).toThrow(/verified is final/);
  });

  it('keeps the order whatever sequence of moves is attempted', () => {
    // A deterministic pseudo-random walk: every accepted move keeps a verified prefix and pending rest.
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let stages = initialStages(targets, T0);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const id = UPGRADE_STAGES[random(5)]!;
      const to = STAGE_STATUSES[random(STAGE_STATUSES.length)]!;
      try {
        stages = moveStage(stages, id, to, T0 + i, { failure: 'simulated' });
        accepted++;
      } catch (err) {
        expect(err).toBeInstanceOf(StageOrderError);
      }
      expect(orderViolation(stages)).toBeUndefined();
    }
    expect(accepted).toBeGreaterThan(10);
  });

  it('counts attempts, keeps the failure until a retry, and needs a message to fail', () => {
    let stages = moveStage(initialStages(targets, T0), 'U1', 'prechecking', T0);
    expect(() => moveStage(stages, 'U1', 'failed', T0)).toThrow(/a failure needs a message/);
    stages = moveStage(stages, 'U1', 'failed', T0 + 5, { failure: 'manager unreachable' });
    expect(stages[0]).toMatchObject({
      status: 'failed',
      attempts: 1,
      failure: { during: 'prechecking', message: 'manager unreachable', at: T0 + 5 },
    });
    stages = moveStage(stages, 'U1', 'prechecking', T0 + 6);
    expect(stages[0]!.attempts).toBe(2);
    expect(stages[0]!.failure).toBeUndefined();
  });

  it('records the version found first and the version verified', () => {
    let stages = recordSeen(initialStages(targets, T0), 'U1', { before: '20.0.877' });
    stages = recordSeen(stages, 'U1', { before: '20.0.999' });
    stages = recordSeen(stages, 'U1', { after: '20.0.1000' });
    expect(stages[0]).toMatchObject({ before: '20.0.877', after: '20.0.1000' });
  });

  it('detects a forged list of stages that breaks the order', () => {
    const forged = at(1, 'verifying');
    forged[3] = { ...forged[3]!, status: 'verified' };
    expect(orderViolation(forged)).toBe('U4 is verified although U2 is not verified (verifying)');
    expect(orderViolation([...forged].reverse())).toMatch(/must be exactly U1 → U2/);
  });
});

describe('operator actions on stages', () => {
  it('accept a confirmation only for the current stage while it waits for one, and a retry only for a failed current stage', () => {
    for (const [name, stages] of STATES) {
      const unverified = stages.findIndex((s) => s.status !== 'verified');
      const current = unverified < 0 ? UPGRADE_STAGES.length : unverified;
      for (const [j, id] of UPGRADE_STAGES.entries()) {
        for (const confirmable of [true, false]) {
          const confirm = actionRefusal(stages, 'confirm', id, { confirmable });
          const retry = actionRefusal(stages, 'retry', id, { confirmable });
          const context = `${name}, ${id}, confirmable ${confirmable}`;
          if (j < current) {
            expect([context, confirm]).toEqual([
              context,
              expect.stringMatching(/is already verified; there is nothing/),
            ]);
            expect(retry).toMatch(/is already verified/);
          } else if (j > current) {
            expect([context, confirm]).toEqual([
              context,
              expect.stringMatching(/cannot be confirmed yet: .* must be verified first/),
            ]);
            expect(retry).toMatch(/cannot be retried yet: .* must be verified first \(order U1 → U2 → U3 → U4 → U5\)/);
          } else {
            expect([context, confirm === undefined]).toEqual([
              context,
              confirmable && stages[j]!.status !== 'verified',
            ]);
            expect([context, retry === undefined]).toEqual([context, stages[j]!.status === 'failed']);
          }
        }
      }
    }
  });

  it('name every stage that must come first and where the rollout is', () => {
    expect(actionRefusal(at(0, 'awaiting-upgrade'), 'confirm', 'U4', { confirmable: true })).toBe(
      'U4 (air-gapped Relay(s)) cannot be confirmed yet: U1, U2, U3 must be verified first ' +
        '(order U1 → U2 → U3 → U4 → U5); the rollout is at U1 (DMZ Manager (+ database)), awaiting-upgrade',
    );
    expect(actionRefusal(at(2, 'verifying'), 'confirm', 'U3', { confirmable: false })).toBe(
      'U3 (air-gapped Manager (+ database)) is verifying and waits for no confirmation now',
    );
    expect(actionRefusal(at(2, 'failed'), 'confirm', 'U3', { confirmable: false })).toMatch(
      /has failed: retry it or abort the rollout/,
    );
  });

  it('refuse unknown stages and anything after the rollout has ended', () => {
    expect(actionRefusal(at(0, 'pending'), 'confirm', 'U0', { confirmable: true })).toMatch(
      /^unknown stage "U0": the stages are U1 \(DMZ Manager/,
    );
    expect(actionRefusal(at(1, 'failed'), 'retry', 'U2', { confirmable: false, ended: 'aborted' })).toBe(
      'the rollout has ended (aborted); nothing can be retried',
    );
  });
});

describe('target versions', () => {
  it("are set per component, --to only where it fits that component's format", () => {
    expect(targetsFrom({ manager: '20.0.877', relay: '20.0.0.8438', agent: '20.0.0.8438' })).toEqual({
      manager: '20.0.877',
      relay: '20.0.0.8438',
      agent: '20.0.0.8438',
    });
    expect(targetsFrom({ to: '20.0.0.9000', manager: '20.0.900' })).toEqual({
      manager: '20.0.900',
      relay: '20.0.0.9000',
      agent: '20.0.0.9000',
    });
    expect(targetsFrom({ to: '20.0.900', relay: '20.0.1-3180', agent: '20.0.1-3180' }).relay).toBe('20.0.1-3180');
  });

  it('refuse one --to for every component: managers and agents are numbered differently', () => {
    expect(() => targetsFrom({ to: '20.0.900' })).toThrow(
      '--to "20.0.900" is not a version the relays report (agentVersion, four numbers, such as 20.0.0.8438); give --relay-version',
    );
    expect(() => targetsFrom({ to: '20.0.0.9000' })).toThrow(
      '--to "20.0.0.9000" is not a version the managers report (X-DSM-Version, three numbers, such as 20.0.877); give --manager-version',
    );
    expect(() => targetsFrom({ manager: '20.0.0.8438', relay: '20.0.0.8438', agent: '20.0.0.8438' })).toThrow(
      /^--manager-version "20.0.0.8438" is not a version the managers report/,
    );
    expect(() => targetsFrom({ manager: '20.0.877', relay: '20.0.877', agent: '20.0.0.8438' })).toThrow(
      /^--relay-version "20.0.877" is not a version the relays report/,
    );
  });

  it("refuse targets that would leave agents newer than their relays, with the vendor's rule", () => {
    const refuse = () => targetsFrom({ manager: '20.0.900', relay: '20.0.0.8438', agent: '20.0.0.9000' });
    expect(refuse).toThrow(InvalidTargetError);
    expect(refuse).toThrow(
      "agents at 20.0.0.9000 would be newer than their relays at 20.0.0.8438: the vendor's rule is that relays are upgraded first and agents are never newer than their relays",
    );
    expect(refuse).toThrow(/give a relay version of at least 20\.0\.0\.9000$/);
    expect(targetsRefusal({ manager: '20.0.900', relay: '20.0.0.9000', agent: '20.0.0.8438' })).toBeUndefined();
    expect(targetsRefusal({ manager: '20.0.900', relay: '20.0.0.8438', agent: '20.0.0.9000' })).toMatch(
      /^agents at 20\.0\.0\.9000 would be newer than their relays/,
    );
  });

  it('refuse a missing or unreadable version, naming the option', () => {
    expect(() => targetsFrom({ manager: '20.0.1' })).toThrow(
      'no target version for relay: give --to or --relay-version',
    );
    expect(() => targetsFrom({ to: '20.0.1.5', agent: 'latest' })).toThrow(InvalidTargetError);
    expect(() => targetsFrom({ to: '20.0.1.5', manager: '20.0.1', agent: 'latest' })).toThrow(
      '--agent-version "latest" is not a version',
    );
    expect(() => targetsFrom({ to: 'v20' })).toThrow('--to "v20" is not a version');
  });

  it('describe hosts below their target as "reports X, expects Y"', () => {
    const behind = [{ name: 'plant-dmz-relay', version: '20.0.0.9000', reachable: true, status: 'active' }];
    expect(lagText(behind, 1, '20.0.1.300')).toBe('plant-dmz-relay reports 20.0.0.9000, expects 20.0.1.300 (active)');
    expect(lagText(behind, 4, '20.0.1.300', 1)).toMatch(/\(active\) and 3 more$/);
  });

  it('count a version at or above the target as reached, and an unreadable one as not', () => {
    expect(reachedTarget('20.0.1000', '20.0.1000')).toBe(true);
    expect(reachedTarget('20.0.1001', '20.0.1000')).toBe(true);
    expect(reachedTarget('20.0.999', '20.0.1000')).toBe(false);
    expect(reachedTarget('gone', '20.0.1000')).toBe(false);
    expect(reachedTarget(undefined, '20.0.1000')).toBe(false);
  });
});

describe('prechecks', () => {
  const reading = (name: string, version: string, reachable = true) => ({
    name,
    version,
    reachable,
    status: reachable ? 'active' : 'error',
  });

  it('fail when an earlier stage is no longer at its target or a host of the stage is unreachable', () => {
    const verdict = precheckVerdict({
      stage: 'U4',
      targets,
      earlier: [
        { stage: 'U1', readings: [reading('DMZ manager', '20.0.1000')] },
        { stage: 'U2', readings: [reading('dmz-relay', '20.0.0.8438')] },
        { stage: 'U3', readings: [reading('air-gapped manager', '20.0.1000')] },
      ],
      current: [reading('relay-1', '20.0.0.8438'), reading('relay-2', '20.0.0.8438', false)],
    });
    expect(verdict.ok).toBe(false);
    expect(verdict.problems).toEqual([
      'U2 (DMZ Relay): dmz-relay reports 20.0.0.8438, below its target 20.0.1.300; the earlier stage is no longer verified',
      'relay-2 is not reachable (agent status error)',
    ]);
    expect(verdict.seen).toBe('relay-1 20.0.0.8438, relay-2 20.0.0.8438');
  });

  it('find a stage already at its target, and U5 from the agent counts', () => {
    expect(
      precheckVerdict({ stage: 'U1', targets, earlier: [], current: [reading('DMZ manager', '20.0.1000')] }),
    ).toEqual({ ok: true, atTarget: true, problems: [], seen: '20.0.1000' });
    const u5 = precheckVerdict({
      stage: 'U5',
      targets,
      earlier: [],
      current: [],
      agents: { total: 10, atTarget: 3, unreachable: 1 },
    });
    expect(u5).toMatchObject({
      ok: true,
      atTarget: false,
      seen: '10 agent(s), 3 at 20.0.1.200 or newer, 1 unreachable',
    });
  });
});

describe('polling and waves', () => {
  it('pause longer after each poll, up to the maximum', () => {
    expect([0, 1, 2, 3, 10].map((n) => pollDelay(n, 1000, 3000))).toEqual([1000, 1500, 2250, 3000, 3000]);
  });

  it('fail a wave only when strictly more than the threshold fails', () => {
    expect(waveOverThreshold(1, 10, 10)).toBe(false);
    expect(waveOverThreshold(2, 10, 10)).toBe(true);
    expect(waveOverThreshold(1, 2, 20)).toBe(true);
    expect(waveOverThreshold(0, 0, 0)).toBe(false);
    expect(waveOverThreshold(1, 100, 0)).toBe(true);
  });

  it('name manual steps per stage, question and attempt', () => {
    expect(stepIdOf('U4', 'upgrade')).toBe('U4-upgrade');
    expect(stepIdOf('U4', 'upgrade', 2)).toBe('U4-upgrade-a2');
    expect(stepIdOf('U2', 'approval')).toBe('U2-approval');
    expect(stepIdOf('U5', 'wave-7')).toBe('U5-wave-7');
  });
});

describe('the stages of an ended rollout', () => {
  it('show the stage under way as aborted and the ones never begun as not-started, not as awaiting anything', () => {
    const ended = endStages(at(2, 'awaiting-upgrade'), 'aborted', T0 + 9, 'aborted by lead: window cancelled');
    expect(ended.map((s) => s.status)).toEqual(['verified', 'verified', 'aborted', 'not-started', 'not-started']);
    expect(ended[2]).toMatchObject({ since: T0 + 9 });
    expect(orderViolation(ended)).toBeUndefined();
  });

  it('keep a failed stage failed when the rollout expires, and mark a stage a run failure stopped as failed', () => {
    expect(endStages(at(0, 'failed'), 'expired', T0 + 1).map((s) => s.status)).toEqual([
      'failed',
      'not-started',
      'not-started',
      'not-started',
      'not-started',
    ]);
    const failed = endStages(at(4, 'rolling-out'), 'failed', T0 + 2, 'manager gone');
    expect(failed[4]).toMatchObject({
      status: 'failed',
      failure: { during: 'rolling-out', message: 'manager gone', at: T0 + 2 },
    });
  });

  it('leave no stage in a status that waits for something, whatever state the rollout ended in', () => {
    const waiting = new Set([
      'pending',
      'prechecking',
      'awaiting-approval',
      'awaiting-upgrade',
      'verifying',
      'rolling-out',
      'soaking',
    ]);
    for (const [name, stages] of STATES) {
      for (const end of ['aborted', 'expired', 'failed'] as const) {
        const ended = endStages(stages, end, T0 + 3, 'why');
        const still = ended.filter((s) => waiting.has(s.status));
        expect([name, end, still.map((s) => `${s.id} ${s.status}`)]).toEqual([name, end, []]);
      }
    }
  });
});

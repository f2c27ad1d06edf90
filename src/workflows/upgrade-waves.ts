/**
 * U5, the air-gapped agents, in waves: pages the agents from the air-gapped manager one wave at a
 * time (a person upgrades each wave when the stage is manual), verifies up to `waves.concurrency`
 * waves at once in child workflows, stops when a wave fails beyond the threshold, and hands the
 * rollout on to a new run every `waves.perRun` waves, so thousands of agents never grow one history
 * without bound.
 */
import { CancellationScope, condition, isCancellation, workflowInfo } from '@temporalio/workflow';
import { formatDuration } from '../domain/duration';
import { upgradeText } from '../domain/upgrade-instructions';
import { percent, reachedTarget, stepIdOf, waveOverThreshold } from '../domain/upgrade-stages';
import { describeFailure } from './activity-options';
import type { RolloutState } from './upgrade-rollout-state';
import {
  ask,
  behindText,
  fail,
  managerProxy,
  relayIds,
  verified,
  verifyChild,
  type StageOutcome,
} from './upgrade-steps';
import type { VerifyResult } from './upgrade-verify';

const FAILURE_SAMPLE = 25;

interface WaveRun {
  wave: number;
  afterId: number;
  ids: number[];
  result?: VerifyResult;
  failed?: boolean;
}

type AgentPage = Awaited<ReturnType<ReturnType<typeof managerProxy>['listAgentWave']>>;

/** Rolls U5 out until every agent is verified, a wave fails, the rollout is aborted, or it is time to continue as new. */
export function rollOutAgents(r: RolloutState): Promise<StageOutcome> {
  return new AgentWaves(r).run();
}

class AgentWaves {
  private readonly waves;
  private readonly mode;
  private readonly target: string;
  private readonly manager;
  private readonly scope = new CancellationScope();
  /** The waves being verified, by number. */
  private readonly running = new Map<number, WaveRun>();
  /** Every wave this run started. */
  private readonly thisRun: WaveRun[] = [];
  /** Why U5 stops (the first wave that failed), once it does. */
  private stop: string | undefined;
  private exhausted = false;

  constructor(private readonly r: RolloutState) {
    const p = r.plan!;
    this.waves = p.upgrade!.waves;
    this.mode = r.settingsOf('U5').mode;
    this.target = r.stage('U5').target;
    this.manager = managerProxy(p.queues.airgappedManager);
  }

  async run(): Promise<StageOutcome> {
    for (;;) {
      await this.startWaves();
      if (this.r.aborted()) {
        this.scope.cancel();
        await condition(() => this.running.size === 0);
        return 'aborted';
      }
      if (this.running.size === 0) break;
      const inFlight = this.running.size;
      await condition(() => this.running.size < inFlight || this.r.aborted());
    }
    if (this.stop) {
      this.undoAfterFirstFailure();
      return fail(this.r, 'U5', this.stop);
    }
    if (!this.exhausted) return 'continue';
    const { agents } = this.r;
    const summary =
      `${agents.verified} of ${agents.verified + agents.failed} agent(s) at ${this.target} or newer in ${agents.wavesDone} wave(s)` +
      (agents.failed
        ? `; ${agents.failed} did not reach it (within the ${this.waves.failureThresholdPercent} % threshold)`
        : '');
    return verified(this.r, 'U5', `${agents.verified} agent(s) at ${this.target}`, summary);
  }

  private timeToContinue(): boolean {
    return this.thisRun.length >= this.waves.perRun || workflowInfo().continueAsNewSuggested;
  }

  /** Starts waves while none failed, agents remain, and fewer than `concurrency` are being verified. */
  private async startWaves(): Promise<void> {
    while (
      !this.stop &&
      !this.r.aborted() &&
      !this.exhausted &&
      this.running.size < this.waves.concurrency &&
      !this.timeToContinue()
    ) {
      if (!(await this.startWave())) return;
    }
  }

  /** Pages the next wave, has a person upgrade it when U5 is manual, and verifies it; false: start no more now. */
  private async startWave(): Promise<boolean> {
    const { agents } = this.r;
    const page = await this.manager.listAgentWave({
      site: this.r.plan!.site,
      afterId: agents.afterId,
      size: this.waves.size,
      excludeIds: relayIds(this.r),
    });
    if (page.agents.length === 0) {
      this.exhausted = true;
      return false;
    }
    const wave = agents.wavesStarted + 1;
    // Agents already at the target need nobody's work: the wave is only verified.
    if (this.mode === 'manual' && !page.agents.every((a) => reachedTarget(a.version, this.target))) {
      if (!(await this.askForUpgrade(wave, page))) return false;
    }
    agents.wavesStarted = wave;
    const run: WaveRun = { wave, afterId: agents.afterId, ids: page.agents.map((a) => a.id) };
    agents.afterId = page.lastId!;
    if (page.exhausted) this.exhausted = true;
    this.launch(run);
    return true;
  }

  /** Whether a person confirmed the upgrade of the wave; otherwise U5 stops (or the rollout was aborted). */
  private async askForUpgrade(wave: number, page: AgentPage): Promise<boolean> {
    const { agents } = this.r;
    const step = stepIdOf('U5', `wave-${wave}`);
    const hosts = page.agents.map((a) => a.hostName);
    agents.waveWaiting = { wave, step, agents: page.agents.map((a) => ({ id: a.id, hostName: a.hostName })) };
    const asked = await ask(
      this.r,
      { stage: 'U5', kind: 'wave', step },
      upgradeText({ rolloutId: this.r.id, stage: 'U5', target: this.target, hosts }),
      this.r.plan!.people.operators,
      () => this.stop !== undefined,
    );
    agents.waveWaiting = undefined;
    if (asked.outcome === 'aborted' || asked.outcome === 'stopped') return false;
    if (asked.outcome !== 'done') {
      this.stop =
        asked.outcome === 'refused'
          ? asked.message
          : `nobody confirmed the upgrade of wave ${wave} before the deadline`;
      return false;
    }
    return true;
  }

  private launch(run: WaveRun): void {
    const { kit, agents } = this.r;
    this.running.set(run.wave, run);
    this.thisRun.push(run);
    agents.inFlight.push({ wave: run.wave, agents: run.ids.length, first: run.ids[0]!, last: run.ids.at(-1)! });
    kit.note(
      'wave.started',
      `wave ${run.wave}: verifying ${run.ids.length} agent(s) (${run.ids[0]}–${run.ids.at(-1)})`,
    );
    void kit.audit('wave.started', {
      wave: run.wave,
      agents: run.ids.length,
      first: run.ids[0],
      last: run.ids.at(-1),
    });
    void this.scope
      .run(() => verifyChild(this.r, 'U5', this.r.waveIdOf(run.wave), { kind: 'agents', ids: run.ids }))
      .then(
        (result) => this.settle(run, result),
        (err: unknown) => this.settle(run, undefined, err),
      );
  }

  /** A wave's verification ended: count it, or stop U5 when it failed beyond the threshold. */
  private settle(run: WaveRun, result?: VerifyResult, err?: unknown): void {
    const { kit, agents } = this.r;
    const { failureThresholdPercent } = this.waves;
    this.running.delete(run.wave);
    agents.inFlight = agents.inFlight.filter((w) => w.wave !== run.wave);
    if (err !== undefined) {
      if (isCancellation(err) && this.r.aborted()) return;
      run.failed = true;
      this.stop ??= `wave ${run.wave} could not be verified: ${describeFailure(err)}`;
      void kit.audit('wave.failed', { wave: run.wave, error: describeFailure(err) });
      return;
    }
    run.result = result!;
    const r = result!;
    const share = `${r.behindCount} of ${r.total} agent(s) (${percent(r.behindCount, r.total)} %)`;
    if (waveOverThreshold(r.behindCount, r.total, failureThresholdPercent)) {
      run.failed = true;
      this.stop ??=
        `wave ${run.wave} (agents ${run.ids[0]}–${run.ids.at(-1)}): ${share} did not report ${this.target} within ` +
        `${formatDuration(this.r.plan!.upgrade!.verifyTimeout)}, more than the ${failureThresholdPercent} % threshold: ${behindText(r, this.target)}`;
      kit.note('wave.failed', `wave ${run.wave}: ${share} below ${this.target}: over the threshold`);
      void kit.audit('wave.failed', { wave: run.wave, total: r.total, behind: r.behindCount, sample: r.behind });
      return;
    }
    agents.verified += r.atTarget;
    agents.failed += r.behindCount;
    agents.wavesDone++;
    agents.failures = [...agents.failures, ...r.behind.map((b) => ({ ...b, wave: run.wave }))].slice(0, FAILURE_SAMPLE);
    kit.note('wave.completed', `wave ${run.wave}: ${r.atTarget} of ${r.total} agent(s) at ${this.target}`);
    void kit.audit('wave.completed', { wave: run.wave, total: r.total, atTarget: r.atTarget, behind: r.behind });
  }

  /**
   * A retry starts again at the first failed wave; waves after it that were counted are verified
   * again then, so they are taken out of the totals now.
   */
  private undoAfterFirstFailure(): void {
    const { agents } = this.r;
    const first = this.thisRun.filter((w) => w.failed).sort((a, b) => a.wave - b.wave)[0];
    if (!first) return;
    for (const w of this.thisRun) {
      if (w.wave > first.wave && w.result && !w.failed) {
        agents.verified -= w.result.atTarget;
        agents.failed -= w.result.behindCount;
        agents.wavesDone--;
      }
    }
    agents.afterId = first.afterId;
  }
}

/**
 * `airgap upgrade …`: start, watch and act on upgrade rollouts (U1 → U5, DMZ first). Every action
 * is a workflow Update, so the operator learns at once whether it was accepted, or why not (exit 1
 * with the reason): a confirmation for another stage than the current one is refused, naming the
 * order and where the rollout is.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import { InvalidTargetError, stageLabel, targetsFrom } from '../domain/upgrade-stages';
import {
  abortRolloutUpdate,
  confirmStageUpdate,
  retryStageUpdate,
  rolloutLockId,
  upgradeStateQuery,
  type UpgradeView,
} from '../workflows/upgrade-messages';
import { CliError, type CliContext } from './context';
import { act, answerLine, defaultTimes, requireSite, stageIdOf, type Times, withProof } from './run-actions';
import { actionProof, CODE_HELP } from './proof';
import { readRunView, registerRunStatus } from './run-status';
import { newRolloutId } from './run-id';

/** The open rollout of a site, if any (visibility, so a moment behind the truth). */
export async function openRolloutOf(client: Client, site: string): Promise<string | undefined> {
  const query = `AirgapSite = '${site}' AND AirgapKind = 'upgrade' AND ExecutionStatus = 'Running'`;
  for await (const execution of client.workflow.list({ query })) return execution.workflowId;
  return undefined;
}

interface StartOptions {
  to?: string;
  managerVersion?: string;
  relayVersion?: string;
  agentVersion?: string;
  by?: string;
}

export async function startRollout(ctx: CliContext, site: string, opts: StartOptions): Promise<string> {
  const { config } = ctx.config();
  requireSite(config, site);
  let targets;
  try {
    targets = targetsFrom({
      to: opts.to,
      manager: opts.managerVersion,
      relay: opts.relayVersion,
      agent: opts.agentVersion,
    });
  } catch (err) {
    if (err instanceof InvalidTargetError) throw new CliError(err.message);
    throw err;
  }
  const client = await ctx.client();
  const open = await openRolloutOf(client, site);
  if (open) throw new CliError(`site ${site} already has an open rollout: ${open}`, { open });
  // Every rollout has its own id; one open rollout per site is held by the site's rollout lock,
  // taken here for the new rollout, so a second start is refused at once (visibility lags).
  const workflowId = newRolloutId(site, targets);
  const lock = await takeRolloutLock(client, site, config.temporal.taskQueue, workflowId);
  try {
    await client.workflow.start('upgradeRolloutWorkflow', {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      args: [{ site, targets, trigger: { who: opts.by ?? 'cli', channel: 'cli' }, lock }],
    });
  } catch (err) {
    await client.workflow
      .getHandle(lock)
      .terminate(`rollout ${workflowId} did not start`)
      .catch(() => undefined);
    throw err;
  }
  return workflowId;
}

/**
 * Takes the site's rollout lock for `holder`, or refuses naming the open rollout that holds it. A
 * lock whose holder ended without releasing it (terminated from outside) is released first.
 */
async function takeRolloutLock(client: Client, site: string, taskQueue: string, holder: string): Promise<string> {
  const lockId = rolloutLockId(site, taskQueue);
  for (let attempt = 0; ; attempt++) {
    try {
      await client.workflow.start('siteLockWorkflow', {
        taskQueue,
        workflowId: lockId,
        args: [{ site, holder }],
        memo: { holder },
      });
      return lockId;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) || attempt > 0) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new CliError(`site ${site} already has an open rollout (${lockId} is held)`, { lock: lockId });
        }
        throw err;
      }
    }
    const open = await lockHolderOf(client, lockId);
    if (open) throw new CliError(`site ${site} already has an open rollout: ${open}`, { open });
  }
}

/**
 * The rollout holding a lock, if it is still running. A lock whose holder ended without releasing
 * it is terminated here, saying so in the lock's history.
 */
async function lockHolderOf(client: Client, lockId: string): Promise<string | undefined> {
  const lock = client.workflow.getHandle(lockId);
  let holder: string | undefined;
  let young: boolean;
  try {
    const d = await lock.describe();
    if (d.status.name !== 'RUNNING') return undefined;
    holder = typeof d.memo?.holder === 'string' ? d.memo.holder : undefined;
    // A lock taken a moment ago may belong to a rollout being started right now.
    young = Date.now() - d.startTime.getTime() < 60_000;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  if (holder) {
    try {
      if ((await client.workflow.getHandle(holder).describe()).status.name === 'RUNNING') return holder;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      if (young) return holder;
    }
  }
  await lock.terminate(`its holder ${holder ?? '(unknown)'} is no longer running`).catch(() => undefined);
  return undefined;
}

export async function rolloutView(client: Client, id: string): Promise<UpgradeView> {
  return readRunView(client, id, upgradeStateQuery, 'rollout');
}

export function renderRollout(v: UpgradeView, times: Times = defaultTimes()): string {
  const t = v.targets;
  const lines = [
    `rollout ${v.id}  site ${v.site}  state ${v.state} since ${times.at(v.stateSince)}`,
    `targets manager ${t.manager}, relays ${t.relay}, agents ${t.agent}`,
  ];
  for (const s of v.stages) {
    const seen = [s.before && `was ${s.before}`, s.after && `now ${s.after}`].filter(Boolean).join(', ');
    const flags = [s.mode, s.approval ? 'approval' : '', s.attempts > 1 ? `attempt ${s.attempts}` : '']
      .filter(Boolean)
      .join(', ');
    lines.push(
      `${s.id}  ${s.status.padEnd(17)} target ${s.target.padEnd(12)} ${s.title} [${flags}]${seen ? `  ${seen}` : ''}`,
    );
    if (s.reading) lines.push(`    ${s.reading}`);
    if (s.failure && s.status === 'failed' && !v.halted)
      lines.push(`    failed while ${s.failure.during}: ${s.failure.message}`);
  }
  const a = v.agents;
  if (a.total !== undefined || a.wavesStarted > 0) {
    lines.push(
      `agents  ${a.verified} verified, ${a.failed} below target${a.total !== undefined ? ` of ${a.total}` : ''}; ` +
        `waves ${a.wavesDone} done, ${a.inFlight.length} verifying${a.runs > 1 ? `; run ${a.runs}` : ''}`,
    );
    for (const w of a.inFlight) if (w.reading) lines.push(`  wave ${w.wave}: ${w.reading}`);
  }
  if (v.halted) {
    lines.push(`HALTED at ${stageLabel(v.halted.stage)} (while ${v.halted.during}): ${v.halted.message}`);
    for (const o of v.halted.options) lines.push(`  ${o}`);
  }
  if (v.waitingFor) {
    lines.push(
      `waits for ${v.waitingFor.what} from ${v.waitingFor.from.join(', ')} since ${times.at(v.waitingFor.since)}, until ${times.at(v.waitingFor.until)}`,
    );
  }
  if (v.outcome) lines.push(`outcome ${v.outcome.state}${v.outcome.reason ? `: ${v.outcome.reason}` : ''}`);
  lines.push('history:');
  for (const e of v.timeline)
    lines.push(`  ${times.wall(e.at)}  ${e.summary}${e.actor ? ` [${e.actor.who} via ${e.actor.channel}]` : ''}`);
  return lines.join('\n');
}

export function register(program: Command, ctx: CliContext): void {
  const upgrade = program
    .command('upgrade')
    .description('upgrade rollouts in the strict DMZ-first order: U1 DMZ manager → … → U5 air-gapped agents');

  upgrade
    .command('start <site>')
    .description('start a rollout (refused while the site has an open rollout)')
    .option('--to <version>', 'default of each --*-version below; refused for a component whose format it does not fit')
    .option('--manager-version <version>', 'target of both managers (X-DSM-Version, e.g. 20.0.877), default --to')
    .option('--relay-version <version>', 'target agentVersion of the relays (e.g. 20.0.0.8438), default --to')
    .option(
      '--agent-version <version>',
      'target agentVersion of the agents (e.g. 20.0.0.8438; never newer than the relays), default --to',
    )
    .option('--by <who>', 'who starts it (recorded)')
    .action(async (site: string, opts: StartOptions) => {
      const id = await startRollout(ctx, site, opts);
      ctx.result(`started rollout ${id}`, { id });
    });

  registerRunStatus(upgrade, ctx, {
    description: 'stages, versions, waves, what the rollout waits for, and its history',
    read: rolloutView,
    render: renderRollout,
    list: { kind: 'upgrade', plural: 'rollouts' },
  });

  for (const [verb, update, text] of [
    ['confirm', confirmStageUpdate, 'confirm what the current stage waits for (an approval, an upgrade done by hand)'],
    ['retry', retryStageUpdate, 'retry the failed stage from its precheck'],
  ] as const) {
    upgrade
      .command(`${verb} <id>`)
      .description(text)
      .requiredOption('--stage <stage>', 'the stage, U1 … U5 (only the current stage is accepted)')
      .requiredOption('--by <who>', `who ${verb}s`)
      .option('--comment <text>', 'optional comment')
      .option('--code <code>', `${CODE_HELP} (a stage's approval)`)
      .action(async (id: string, opts: { stage: string; by: string; comment?: string; code?: string }) => {
        const handle = (await ctx.client()).workflow.getHandle(id);
        const a = await act(handle, update, {
          stage: stageIdOf(opts.stage),
          by: opts.by,
          comment: opts.comment,
          channel: 'cli',
          ...withProof(actionProof(opts.code)),
        });
        ctx.result(answerLine(a), a);
      });
  }

  upgrade
    .command('abort <id>')
    .description('abort the rollout; nothing new starts, what was upgraded stays upgraded')
    .requiredOption('--by <who>', 'who aborts')
    .requiredOption('--reason <why>', 'why')
    .action(async (id: string, opts: { by: string; reason: string }) => {
      const handle = (await ctx.client()).workflow.getHandle(id);
      const a = await act(handle, abortRolloutUpdate, { by: opts.by, reason: opts.reason, channel: 'cli' });
      ctx.result(answerLine(a), a);
    });
}

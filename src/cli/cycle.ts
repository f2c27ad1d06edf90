/**
 * `airgap cycle …`: start, watch and act on update cycles. Every action is a workflow Update, so
 * the operator learns at once whether it was accepted, or why not (exit 1 with the reason).
 */
import type { Client } from '@temporalio/client';
import path from 'node:path';
import type { Command } from 'commander';
import { findSite } from '../domain/config';
import { cycleWorkflowTypeOf } from '../domain/isolated';
import { cycleStateQuery, fileCopiedUpdate, type CycleView } from '../workflows/cycle-messages';
import { receiptArrivedUpdate } from '../workflows/isolated-messages';
import { CliError, type CliContext } from './context';
import { newRunId } from './run-id';
import { registerSheet } from './sheet';
import {
  act,
  answerLine,
  defaultTimes,
  registerRunList,
  registerRunVerbs,
  timelineLines,
  timesFor,
  type Times,
  watchRun,
} from './run-actions';

/**
 * The open cycle of a site, if any (visibility, so a moment behind the truth). Scoped to this
 * installation's control queue, like the site lock: another installation sharing the namespace
 * may have a site of the same name.
 */
export async function openCycleOf(client: Client, site: string, taskQueue: string): Promise<string | undefined> {
  const query =
    `AirgapSite = '${site}' AND AirgapKind = 'cycle' AND ExecutionStatus = 'Running'` +
    ` AND TaskQueue = '${taskQueue}'`;
  for await (const execution of client.workflow.list({ query })) return execution.workflowId;
  return undefined;
}

export async function startCycle(
  ctx: CliContext,
  site: string,
  opts: { by?: string; allowRollback?: boolean; reason?: string },
): Promise<string> {
  const { config } = ctx.config();
  if (!findSite(config, site)) {
    throw new CliError(`unknown site "${site}" (sites: ${config.sites.map((s) => s.id).join(', ')})`);
  }
  if (opts.allowRollback && (!opts.by || !opts.reason)) {
    throw new CliError('--allow-rollback needs --by <who> and --reason <why>: it is a recorded decision');
  }
  const client = await ctx.client();
  const open = await openCycleOf(client, site, config.temporal.taskQueue);
  if (open) throw new CliError(`site ${site} already has an open cycle: ${open}`, { open });
  const workflowType = cycleWorkflowTypeOf(findSite(config, site)!);
  if (!workflowType) {
    throw new CliError(
      `site ${site} is the air-gapped side of an isolated site here: its cycles start when a package is taken in (airgap intake <folder>)`,
    );
  }
  const handle = await client.workflow.start(workflowType, {
    taskQueue: config.temporal.taskQueue,
    workflowId: newRunId('cycle', site),
    args: [
      {
        site,
        trigger: { who: opts.by ?? 'cli', channel: 'cli' },
        allowRollback: opts.allowRollback ? { by: opts.by!, reason: opts.reason! } : undefined,
      },
    ],
  });
  return handle.workflowId;
}

/**
 * The first state a new cycle reaches after bundling, read for at most `waitMs`: so `cycle start`
 * can say at once that there is nothing new, or what to carry. Undefined when it is still bundling.
 */
export async function firstOutcome(client: Client, id: string, waitMs: number): Promise<CycleView | undefined> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const v = await cycleView(client, id).catch(() => undefined);
    if (v && v.state !== 'bundling') return v;
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(0, deadline - Date.now()))));
  }
  return undefined;
}

/** `nothing-new: …`, `awaiting-transfer: carry … to …`, or the state and where to follow it. */
export function firstOutcomeLine(v: CycleView): string {
  if (v.outcome) {
    const list = (cs: { name: string; version: string }[] | undefined) =>
      cs?.length ? cs.map((c) => `${c.name} ${c.version}`).join(', ') : undefined;
    const relay = list(v.bundle?.versions);
    const site = list(v.installedBefore);
    const what =
      relay && relay === site
        ? `the DMZ relay and the site both have ${relay}`
        : [relay && `the DMZ relay has ${relay}`, site && `the site has ${site}`].filter(Boolean).join('; ');
    return `${v.outcome.state}${v.outcome.reason ? `: ${v.outcome.reason}` : ''}${what ? ` (${what})` : ''}`;
  }
  if (v.state === 'awaiting-transfer' && v.bundle) {
    const to = v.relays.map((r) => `${r.name} → ${r.targetFolder}`).join(', ');
    return [
      `awaiting-transfer: carry ${v.bundle.path} (${v.bundle.size} bytes, sha256 ${v.bundle.sha256}) to ${to}`,
      `then: airgap cycle copied ${v.id} --by <you> --sha256 <digest> (follow: airgap cycle status ${v.id} --watch)`,
    ].join('\n');
  }
  return `${v.state}: follow with airgap cycle status ${v.id} --watch`;
}

export async function cycleView(client: Client, id: string): Promise<CycleView> {
  try {
    return await client.workflow.getHandle(id).query(cycleStateQuery);
  } catch (err) {
    throw new CliError(`cannot read cycle ${id}: ${(err as Error).message}`);
  }
}

export function renderCycle(v: CycleView, t: Times = defaultTimes()): string {
  const lines = [`cycle ${v.id}  site ${v.site}  state ${v.state} since ${t.at(v.stateSince)}`];
  if (v.bundle) {
    lines.push(`bundle  ${v.bundle.fileName}  ${v.bundle.size} bytes`, `sha256  ${v.bundle.sha256}`);
    if (v.bundle.versions.length) {
      lines.push(`carries ${v.bundle.versions.map((c) => `${c.name} ${c.version}`).join(', ')}`);
    }
  }
  if (v.waitingFor) {
    lines.push(
      `waits for ${v.waitingFor.what} from ${v.waitingFor.from.join(', ')} since ${t.at(v.waitingFor.since)}, until ${t.at(v.waitingFor.until)}`,
    );
  }
  for (const r of v.relays) {
    lines.push(`relay   ${r.name} (${r.os}) → ${r.targetFolder}: ${r.status}${r.problem ? ` — ${r.problem}` : ''}`);
  }
  if (v.approvalsRequired > 0) {
    lines.push(
      `approvals ${v.approvals.length}/${v.approvalsRequired}: ${v.approvals.map((a) => a.by).join(', ') || '-'}`,
    );
  }
  if (v.outcome) lines.push(`outcome ${v.outcome.state}${v.outcome.reason ? `: ${v.outcome.reason}` : ''}`);
  lines.push('history:');
  lines.push(...timelineLines(v.timeline, t));
  return lines.join('\n');
}

function required(value: string | undefined, flag: string): string {
  if (!value?.trim()) throw new CliError(`${flag} is required`);
  return value;
}

export function register(program: Command, ctx: CliContext): void {
  const cycle = program.command('cycle').description('update cycles: bundle → transfer → import → cleanup');

  cycle
    .command('start <site>')
    .description('start a cycle now (refused while the site has an open cycle)')
    .option('--by <who>', 'who starts it (recorded)')
    .option(
      '--allow-rollback',
      'allow importing a bundle older than the site has (needs --by, --reason and an approval)',
    )
    .option('--reason <why>', 'why the rollback is allowed')
    .option('--wait <seconds>', 'how long to wait for the first outcome (0: do not wait)', '5')
    .action(async (site: string, opts: { by?: string; allowRollback?: boolean; reason?: string; wait: string }) => {
      const waitMs = Number(opts.wait) * 1000;
      if (!Number.isFinite(waitMs) || waitMs < 0) throw new CliError('--wait takes a number of seconds');
      const id = await startCycle(ctx, site, opts);
      const first = await firstOutcome(await ctx.client(), id, waitMs);
      ctx.result([`started cycle ${id}`, ...(first ? [firstOutcomeLine(first)] : [])].join('\n'), {
        id,
        ...(first ? { state: first.state, ...(first.outcome?.reason ? { reason: first.outcome.reason } : {}) } : {}),
      });
    });

  cycle
    .command('status <id>')
    .description('state, bundle, waits and history of a cycle')
    .option(
      '--watch',
      'follow the run, printing each change, until it needs a person (exit 0) or ends (exit 1 if it failed, expired, was rejected or cancelled)',
    )
    .action(async (id: string, opts: { watch?: boolean }) => {
      const client = await ctx.client();
      if (opts.watch) return watchRun(ctx, () => cycleView(client, id), renderCycle);
      const v = await cycleView(client, id);
      ctx.result(renderCycle(v, timesFor(ctx, v.site)), v);
    });

  registerRunList(cycle, ctx, { kind: 'cycle', plural: 'cycles' });
  registerSheet(cycle, ctx);

  cycle
    .command('copied <id>')
    .description('report the bundle copied to the air-gapped relay(s), quoting its SHA-256 (≥ 12 hex digits)')
    .requiredOption('--by <who>', 'who copied it')
    .requiredOption('--sha256 <digest>', 'the SHA-256 of the copied file, as you see it')
    .option('--relay <relay>', 'only this relay')
    .action(async (id: string, opts: { by: string; sha256: string; relay?: string }) => {
      const handle = (await ctx.client()).workflow.getHandle(id);
      const a = await act(handle, fileCopiedUpdate, {
        by: required(opts.by, '--by'),
        sha256: opts.sha256,
        relay: opts.relay,
        channel: 'cli',
      });
      ctx.result(answerLine(a), a);
    });

  cycle
    .command('receipt <id>')
    .description(
      "isolated sites, DMZ side: close the cycle with the air-gapped side's signed receipt (--file) or the code it showed (--code)",
    )
    .requiredOption('--by <who>', 'who brought the receipt or read the code')
    .option('--code <code>', 'the confirmation code the air-gapped installation showed, e.g. ABCDE-FGHIJ')
    .option('--file <folder>', 'the receipt folder (airgap-receipt-<cycle>) carried back on the medium')
    .action(async (id: string, opts: { by: string; code?: string; file?: string }) => {
      if (!!opts.code === !!opts.file) throw new CliError('give --code <code> or --file <receipt folder>, one of them');
      const handle = (await ctx.client()).workflow.getHandle(id);
      const a = await act(handle, receiptArrivedUpdate, {
        by: required(opts.by, '--by'),
        ...(opts.code ? { code: opts.code } : { folder: path.resolve(opts.file!) }),
        channel: 'cli',
      });
      ctx.result(answerLine(a), a);
    });

  registerRunVerbs(cycle, ctx, {
    noun: 'cycle',
    approves: 'the import of a verified bundle',
    cancels: 'before its import: unimported copies are removed, the DMZ bundle archived',
  });
}

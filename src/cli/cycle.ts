/**
 * `airgap cycle …`: start, watch and act on update cycles. Every action is a workflow Update, so
 * the operator learns at once whether it was accepted, or why not (exit 1 with the reason).
 */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { findSite } from '../domain/config';
import { cycleStateQuery, fileCopiedUpdate, type CycleView } from '../workflows/cycle-messages';
import { CliError, type CliContext } from './context';
import { newRunId } from './run-id';
import { registerSheet } from './sheet';
import { act, ago, answerLine, registerRunList, registerRunVerbs, timelineLines } from './run-actions';

/** The open cycle of a site, if any (visibility, so a moment behind the truth). */
export async function openCycleOf(client: Client, site: string): Promise<string | undefined> {
  const query = `AirgapSite = '${site}' AND AirgapKind = 'cycle' AND ExecutionStatus = 'Running'`;
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
  const open = await openCycleOf(client, site);
  if (open) throw new CliError(`site ${site} already has an open cycle: ${open}`, { open });
  const handle = await client.workflow.start('cycleWorkflow', {
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

export async function cycleView(client: Client, id: string): Promise<CycleView> {
  try {
    return await client.workflow.getHandle(id).query(cycleStateQuery);
  } catch (err) {
    throw new CliError(`cannot read cycle ${id}: ${(err as Error).message}`);
  }
}

export function renderCycle(v: CycleView): string {
  const lines = [`cycle ${v.id}  site ${v.site}  state ${v.state} since ${ago(v.stateSince)}`];
  if (v.bundle) {
    lines.push(`bundle  ${v.bundle.fileName}  ${v.bundle.size} bytes`, `sha256  ${v.bundle.sha256}`);
    if (v.bundle.versions.length) {
      lines.push(`carries ${v.bundle.versions.map((c) => `${c.name} ${c.version}`).join(', ')}`);
    }
  }
  if (v.waitingFor) {
    lines.push(
      `waits for ${v.waitingFor.what} from ${v.waitingFor.from.join(', ')} since ${v.waitingFor.since}, until ${v.waitingFor.until}`,
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
  lines.push(...timelineLines(v.timeline));
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
    .action(async (site: string, opts: { by?: string; allowRollback?: boolean; reason?: string }) => {
      const id = await startCycle(ctx, site, opts);
      ctx.result(`started cycle ${id}`, { id });
    });

  cycle
    .command('status <id>')
    .description('state, bundle, waits and history of a cycle')
    .action(async (id: string) => {
      const v = await cycleView(await ctx.client(), id);
      ctx.result(renderCycle(v), v);
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
      const a = await act(handle, (h) =>
        h.executeUpdate(fileCopiedUpdate, {
          args: [{ by: required(opts.by, '--by'), sha256: opts.sha256, relay: opts.relay, channel: 'cli' }],
        }),
      );
      ctx.result(answerLine(a), a);
    });

  registerRunVerbs(cycle, ctx, {
    noun: 'cycle',
    approves: 'the import of a verified bundle',
    cancels: 'before its import: unimported copies are removed, the DMZ bundle archived',
  });
}

/**
 * `airgap harden <site> --plan | --check | --apply`: the air-gapped set-up and hardening (S1,
 * H1–H8). `--plan` prints item by item current → desired and how it would be applied, and changes
 * nothing. It runs as a short workflow rather than an activity called from here: the manager may be
 * reachable only from a zone worker, the API keys stay with the workers, and the read is audited.
 * `--apply` starts the workflow that asks for approval, applies, verifies and reports.
 */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import {
  hardenStateQuery,
  type HardenItemView,
  type HardenMode,
  type HardenResult,
  type HardenView,
} from '../workflows/harden-messages';
import { newRunId } from './run-id';
import { CliError, type CliContext } from './context';
import { defaultTimes, requireSite, registerRunVerbs, timelineLines, type Times } from './run-actions';
import { readRunView, registerRunStatus } from './run-status';

const WORKFLOW_ID_PREFIX: Record<HardenMode, 'harden-plan' | 'harden-check' | 'harden-apply'> = {
  plan: 'harden-plan',
  check: 'harden-check',
  apply: 'harden-apply',
};

export async function openHardeningOf(client: Client, site: string): Promise<string | undefined> {
  const query = `AirgapSite = '${site}' AND AirgapKind = 'harden' AND ExecutionStatus = 'Running'`;
  for await (const execution of client.workflow.list({ query })) {
    if (execution.workflowId.startsWith(`${WORKFLOW_ID_PREFIX.apply}-`)) return execution.workflowId;
  }
  return undefined;
}

export function renderItems(items: readonly HardenItemView[]): string {
  return items
    .map((i) => {
      const verdict =
        i.outcome ?? (i.status === 'ok' ? 'in place' : i.status === 'unknown' ? 'cannot be read' : 'to change');
      const lines = [
        `${i.id}  ${i.title}  [${verdict}]`,
        `    current  ${i.current}`,
        `    desired  ${i.desired}`,
        `    how      ${i.how}: ${i.why}`,
        `    loses    ${i.loses}`,
      ];
      if (i.note) lines.push(`    note     ${i.note}`);
      if (i.detail) lines.push(`    result   ${i.detail}`);
      return lines.join('\n');
    })
    .join('\n');
}

export function renderHardening(v: HardenView, t: Times = defaultTimes()): string {
  const lines = [`hardening ${v.id}  site ${v.site}  mode ${v.mode}  state ${v.state} since ${t.at(v.stateSince)}`];
  if (v.waitingFor) {
    lines.push(`waits for ${v.waitingFor.what} from ${v.waitingFor.from.join(', ')} until ${t.at(v.waitingFor.until)}`);
    for (const step of v.waitingFor.instructions ?? []) lines.push(`  - ${step}`);
  }
  if (v.approvalsRequired > 0) {
    lines.push(
      `approvals ${v.approvals.length}/${v.approvalsRequired}: ${v.approvals.map((a) => a.by).join(', ') || '-'}`,
    );
  }
  lines.push(renderItems(v.items));
  if (v.outcome) lines.push(`outcome ${v.outcome.state}${v.outcome.reason ? `: ${v.outcome.reason}` : ''}`);
  lines.push('history:');
  lines.push(...timelineLines(v.timeline, t));
  return lines.join('\n');
}

/**
 * `--by` belongs to `harden` itself (who asks for a plan or an apply), and commander gives an
 * option of a parent command to the parent wherever it appears; the verbs read it from there.
 */
function byOf(cmd: Command): string {
  const by = cmd.optsWithGlobals<{ by?: string }>().by;
  if (!by?.trim()) throw new CliError(`${cmd.name()} needs --by <who>: it is recorded`);
  return by;
}

export function register(program: Command, ctx: CliContext): void {
  const harden = program
    .command('harden')
    .description('air-gapped set-up and hardening (S1, H1–H8): harden <site> --plan | --check | --apply')
    .argument('[site]', 'the site')
    .option('--plan', 'read the site and print item by item what would change (changes nothing)')
    .option(
      '--check',
      'the drift check: like --plan, and mails the operators when something drifted back; exit 0 no drift, 2 drift, 1 error',
    )
    .option('--apply', 'start the hardening: approval, apply, verify, report')
    .option('--by <who>', 'who asks or acts (recorded); required by approve, reject, done and cancel')
    .action(
      async (site: string | undefined, opts: { plan?: boolean; check?: boolean; apply?: boolean; by?: string }) => {
        const modes = (['plan', 'check', 'apply'] as const).filter((m) => opts[m]);
        if (!site || modes.length !== 1) {
          throw new CliError('say the site and one of --plan, --check or --apply (e.g. airgap harden demo --plan)');
        }
        const mode = modes[0]!;
        const { config } = ctx.config();
        requireSite(config, site);
        const client = await ctx.client();
        if (mode === 'apply') {
          const open = await openHardeningOf(client, site);
          if (open) throw new CliError(`site ${site} already has an open hardening run: ${open}`, { open });
        }
        const options = {
          taskQueue: config.temporal.taskQueue,
          workflowId: newRunId(WORKFLOW_ID_PREFIX[mode], site),
          args: [{ site, mode, trigger: { who: opts.by ?? 'cli', channel: 'cli' as const } }],
        };
        if (mode === 'apply') {
          const handle = await client.workflow.start('hardenWorkflow', options);
          ctx.result(
            `started hardening ${handle.workflowId}; it waits for approval: airgap harden status ${handle.workflowId}`,
            { id: handle.workflowId },
          );
          return;
        }
        const result = (await client.workflow.execute('hardenWorkflow', {
          ...options,
          workflowExecutionTimeout: '5m',
        })) as HardenResult;
        if (result.state === 'failed') throw new CliError(`the ${mode} failed: ${result.reason}`, result);
        const head =
          mode === 'plan'
            ? `plan for site ${site} (nothing was changed):`
            : `drift check of site ${site}: ${result.state}${result.reason ? ` — ${result.reason}` : ''}`;
        ctx.result(`${head}\n${renderItems(result.items)}`, { id: options.workflowId, ...result });
        // As `terraform plan -detailed-exitcode`: 0 in the desired state, 2 drift found, 1 error.
        if (mode === 'check' && result.state === 'drifted') ctx.exitCode = 2;
      },
    );

  registerRunStatus(harden, ctx, {
    description: 'state, items, waits and history of a hardening run',
    read: (client, id) => readRunView(client, id, hardenStateQuery, 'hardening run'),
    render: renderHardening,
    list: { kind: 'harden', plural: 'hardening runs' },
  });

  registerRunVerbs(harden, ctx, {
    noun: 'hardening run',
    approves: 'a hardening (approving accepts the loss of detection it states)',
    cancels: 'items already applied stay applied',
    by: byOf,
  });
}

/**
 * `airgap rules …`: transfer rule updates (.dsru) across the gap (R1–R3) and act on a transfer.
 * The verbs mirror `airgap cycle`; every action is a workflow Update, so the operator learns at once
 * whether it was accepted, or why not (exit 1 with the reason).
 */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import type { ReportedRuleFile } from '../domain/rules';
import { rulesCopiedUpdate, rulesExportedUpdate, rulesStateQuery, type RulesView } from '../workflows/rules-messages';
import { newRunId } from './run-id';
import { CliError, type CliContext } from './context';
import {
  act,
  answerLine,
  defaultTimes,
  registerRunVerbs,
  requireSite,
  timelineLines,
  type Times,
  withProof,
} from './run-actions';
import { osUserProof } from './proof';
import { readRunView, registerRunStatus } from './run-status';

export async function openRulesTransferOf(client: Client, site: string): Promise<string | undefined> {
  const query = `AirgapSite = '${site}' AND AirgapKind = 'rules' AND ExecutionStatus = 'Running'`;
  for await (const execution of client.workflow.list({ query })) return execution.workflowId;
  return undefined;
}

export async function rulesView(client: Client, id: string): Promise<RulesView> {
  return readRunView(client, id, rulesStateQuery, 'rule transfer');
}

/**
 * `--file NAME=SHA256[:SIZE][@YY-NNN]`: a file as the person reports it. The size and the rule
 * update id are optional (the id is read from the name when it shows one).
 */
export function parseFileOption(text: string): ReportedRuleFile {
  const m = /^([^=]+)=([0-9a-fA-F]+)(?::(\d+))?(?:@(\d{2}-\d{3}))?$/.exec(text.trim());
  if (!m) throw new CliError(`--file "${text}": expected NAME=SHA256, NAME=SHA256:SIZE or NAME=SHA256@YY-NNN`);
  return {
    fileName: m[1]!.trim(),
    sha256: m[2]!,
    ...(m[3] ? { size: Number(m[3]) } : {}),
    ...(m[4] ? { ruleUpdate: m[4] } : {}),
  };
}

export function renderRules(v: RulesView, t: Times = defaultTimes()): string {
  const lines = [`rule transfer ${v.id}  site ${v.site}  state ${v.state} since ${t.at(v.stateSince)}`];
  if (v.current || v.latest) {
    lines.push(
      `air-gapped manager ${v.current ?? '?'}${v.before ? ` (was ${v.before})` : ''}  DMZ manager ${v.latest ?? '?'}`,
    );
  }
  if (v.pending?.ids.length)
    lines.push(
      `to transfer ${v.pending.ids.join(', ')}${v.pending.incomplete ? ' (and any later ones of the older year)' : ''}`,
    );
  if (v.importFolder) lines.push(`import folder ${v.importFolder.folder} on ${v.importFolder.host}`);
  for (const f of v.files) {
    lines.push(
      `file    ${f.fileName} (${f.ruleUpdate}) ${f.status}${f.inFolder ? `, ${f.inFolder} in the import folder` : ''}  sha256 ${f.sha256Full ?? `${f.sha256}…`}${f.problem ? ` — ${f.problem}` : ''}`,
    );
  }
  if (v.waitingFor) {
    lines.push(
      `waits for ${v.waitingFor.what} from ${v.waitingFor.from.join(', ')} since ${t.at(v.waitingFor.since)}, until ${t.at(v.waitingFor.until)}`,
    );
    for (const step of v.waitingFor.instructions ?? []) lines.push(`  - ${step}`);
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

export function register(program: Command, ctx: CliContext): void {
  const rules = program
    .command('rules')
    .description('rule updates (.dsru) across the gap: export → carry → verify → import');

  rules
    .command('transfer <site>')
    .description('start a rule transfer (refused while the site has an open one)')
    .option('--by <who>', 'who starts it (recorded)')
    .option('--only <ids>', 'only these rule updates, comma-separated (e.g. 26-046,26-047)')
    .action(async (site: string, opts: { by?: string; only?: string }) => {
      const { config } = ctx.config();
      requireSite(config, site);
      const client = await ctx.client();
      const open = await openRulesTransferOf(client, site);
      if (open) throw new CliError(`site ${site} already has an open rule transfer: ${open}`, { open });
      const only = opts.only
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const handle = await client.workflow.start('rulesTransferWorkflow', {
        taskQueue: config.temporal.taskQueue,
        workflowId: newRunId('rules', site),
        args: [{ site, trigger: { who: opts.by ?? 'cli', channel: 'cli' }, ...(only?.length ? { only } : {}) }],
      });
      ctx.result(`started rule transfer ${handle.workflowId}`, { id: handle.workflowId });
    });

  registerRunStatus(rules, ctx, {
    description: 'state, files, waits and history of a rule transfer',
    read: rulesView,
    render: renderRules,
    list: { kind: 'rules', plural: 'rule transfers' },
  });

  rules
    .command('exported <id>')
    .description('report the exported .dsru files with their SHA-256 (≥ 12 hex digits each)')
    .requiredOption('--by <who>', 'who exported them')
    .requiredOption(
      '--file <NAME=SHA256[:SIZE][@YY-NNN]>',
      'an exported file: NAME=SHA256 (≥ 12 hex digits), optionally :SIZE and @YY-NNN (repeat for each file)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .action(async (id: string, opts: { by: string; file: string[] }) => {
      const files = opts.file.map(parseFileOption);
      const handle = (await ctx.client()).workflow.getHandle(id);
      const a = await act(handle, rulesExportedUpdate, { by: opts.by, files, channel: 'cli' });
      ctx.result(answerLine(a), a);
    });

  rules
    .command('copied <id>')
    .description('report the .dsru files copied into the import folder; they are verified at once')
    .requiredOption('--by <who>', 'who copied them')
    .option('--comment <text>', 'optional comment')
    .action(async (id: string, opts: { by: string; comment?: string }) => {
      const handle = (await ctx.client()).workflow.getHandle(id);
      const a = await act(handle, rulesCopiedUpdate, {
        by: opts.by,
        comment: opts.comment,
        channel: 'cli',
        ...withProof(osUserProof()),
      });
      ctx.result(answerLine(a), a);
    });

  registerRunVerbs(rules, ctx, {
    noun: 'rule transfer',
    approves: 'the import of verified rule updates',
    cancels: 'only before its import is confirmed',
  });
}

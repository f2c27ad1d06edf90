/**
 * `airgap intake <folder>`: one intake pass by hand over a mounted medium. On the air-gapped side
 * each transfer package starts its intake (verify, place, approve, import, receipt); on the DMZ
 * side each receipt is offered to the cycle it names. With --wait the command stays until each
 * started intake ends and prints its outcome (the confirmation code, or why it was refused).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { IntakeMemory } from '../runtime/intake-memory';
import { intakePass, type IntakeOutcome } from '../runtime/intake-poller';
import type { IntakeResult } from '../workflows/isolated-messages';
import { CliError, type CliContext } from './context';

function line(o: IntakeOutcome): string {
  return `${o.kind} ${path.basename(o.folder)}: ${o.status}: ${o.message}`;
}

function resultLine(id: string, r: IntakeResult): string {
  if (r.state === 'completed') {
    return `${id}: completed; confirmation code ${r.code} (receipt ${r.receiptFolder}); on the DMZ side: airgap cycle receipt ${r.cycleId} --code ${r.code}`;
  }
  return `${id}: ${r.state}${r.refusal ? ` (${r.refusal})` : ''}: ${r.reason ?? ''}`;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('intake')
    .description(
      'isolated sites: take in what the medium carries: packages (air-gapped side) or receipts (DMZ side), one pass',
    )
    .argument('<folder>', 'where the medium is mounted')
    .option('--by <who>', 'who took it in (recorded in the audit)')
    .option('--wait', 'wait for each started intake to end and print its outcome')
    .action(async (folder: string, opts: { by?: string; wait?: boolean }) => {
      const { config } = ctx.config();
      const dir = path.resolve(folder);
      if (!fs.existsSync(dir)) throw new CliError(`${dir} does not exist: mount the medium there, or name its folder`);
      if (!config.sites.some((s) => s.mode === 'isolated')) {
        throw new CliError('no site of this configuration is isolated (mode: isolated): there is nothing to take in');
      }
      const client = await ctx.client();
      // Everything named is offered, handled before or not: a person asking gets the real answer
      // ("already imported by cycle X"). What they did is remembered in the installation's data
      // folder, so the poller does not offer the same folders again after them.
      const memory = IntakeMemory.in(config.dataDir, (err) => ctx.info(`note: ${err.message}`));
      const outcomes = await intakePass({
        client,
        config,
        folder: dir,
        memory,
        offerHandled: true,
        ...(opts.by ? { by: opts.by } : {}),
      });
      const lines = outcomes.length ? outcomes.map(line) : [`nothing to take in at ${dir}`];
      const results: Record<string, IntakeResult> = {};
      if (opts.wait) {
        for (const o of outcomes) {
          if (o.kind !== 'package' || !o.workflowId) continue;
          const r = (await client.workflow.getHandle(o.workflowId).result()) as IntakeResult;
          results[o.workflowId] = r;
          lines.push(resultLine(o.workflowId, r));
        }
      }
      ctx.result(lines.join('\n'), { outcomes, results });
      if (outcomes.some((o) => o.status === 'refused') || Object.values(results).some((r) => r.state === 'refused')) {
        // ctx's: main() returns it, and bin/airgap.js sets the process's exit code from that.
        ctx.exitCode = 1;
      }
    });
}

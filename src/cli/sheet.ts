/** `airgap cycle sheet <id>`: the courier sheet of a cycle as text to print or keep beside the terminal. */
import type { Command } from 'commander';
import { formatSize } from '../domain/mail/templates';
import { zonedTimeWithHint } from '../domain/cron-words';
import type { CourierSheet } from '../domain/courier-sheet';
import { courierSheetOf } from '../web/temporal-providers';
import { CliError, type CliContext } from './context';

export function renderSheet(sheet: CourierSheet, now: number, timezone = 'UTC'): string {
  const lines = [
    `COURIER SHEET — cycle ${sheet.workflowId}, site ${sheet.siteName ? `${sheet.siteName} (${sheet.site})` : sheet.site}`,
    '',
    `File:      ${sheet.file}   (do not rename it)`,
    `Size:      ${formatSize(sheet.sizeBytes)}`,
    `SHA-256:   ${sheet.sha256Groups.join(' ')}`,
    `Deadline:  ${sheet.deadline === undefined ? 'none set' : zonedTimeWithHint(sheet.deadline, timezone, now)}`,
    '',
    `Take it from the DMZ relay ${sheet.source.relay} (${sheet.source.os}), folder ${sheet.source.folder}`,
    '',
    'Put it on:',
    ...sheet.targets.flatMap((t) => [
      `[ ] ${t.relay} (${t.os})${t.status ? ` — now ${t.status}${t.problem ? `: ${t.problem}` : ''}` : ''}`,
      `    folder: ${t.targetFolder}`,
      `    check:  ${t.checkCommand}`,
    ]),
    '',
    'The digest shown on each relay must equal the SHA-256 above, every group.',
    `Then tell: ${sheet.tell.join(', ')}${sheet.escalation.length ? ` (if they cannot be reached: ${sheet.escalation.join(', ')})` : ''}`,
    `  with the "File copied" link in the transfer mail, or: ${sheet.reportCommand}`,
  ];
  return lines.join('\n');
}

export function registerSheet(cycle: Command, ctx: CliContext): void {
  cycle
    .command('sheet <id>')
    .description('the courier sheet of a cycle: file, size, SHA-256, folders, check commands, deadline, who to tell')
    .action(async (id: string) => {
      const { config } = ctx.config();
      const sheet = await courierSheetOf(await ctx.client(), config, id);
      if (!sheet) throw new CliError(`cycle ${id} has no bundle to carry (unknown, not a cycle, or not bundled yet)`);
      const tz = config.sites.find((s) => s.id === sheet.site)?.schedule.timezone ?? 'UTC';
      ctx.result(renderSheet(sheet, Date.now(), tz), {
        ...sheet,
        ...(sheet.deadline !== undefined ? { deadline: new Date(sheet.deadline).toISOString() } : {}),
      });
    });
}

/**
 * `airgap sim …`: the simulated Deep Security site of the embedded default. `carry` is the
 * person with the USB stick (and their mistakes); for an isolated site it carries the transfer
 * package to the air-gapped intake, and `carry-back` the receipt home (sim/medium-courier.ts).
 * `publish` and `fault` steer the simulated world through its loopback control endpoint.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { findSite } from '../domain/config';
import { carryBundle, type CourierMistake } from '../sim';
import { carryMedium, MediumCourierError, type CarriedFolder, type MediumItem } from '../sim/medium-courier';
import { CliError, type CliContext } from './context';
import { cycleView } from './cycle';
import { isolatedSiteOfCycle, mediumEndsOf } from './sim-medium';

interface ControlFile {
  url: string;
  token: string;
}

async function control(
  ctx: CliContext,
  method: 'POST' | 'DELETE' | 'GET',
  route: string,
  body?: unknown,
): Promise<unknown> {
  const file = path.join(ctx.config().config.dataDir, 'sim', 'control.json');
  if (!fs.existsSync(file)) throw new CliError(`the simulator is not running (no ${file}); start it with "npm start"`);
  const { url, token } = JSON.parse(fs.readFileSync(file, 'utf8')) as ControlFile;
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((err: Error) => {
    throw new CliError(
      `the simulator's control endpoint ${url} did not answer (${err.message}); is "npm start" running?`,
    );
  });
  const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) throw new CliError(`simulator refused: ${String(answer.message ?? response.status)}`);
  return answer;
}

/** Carries an isolated cycle's package (to the intake) or receipt (back to the outbound folder). */
async function carryIsolated(
  ctx: CliContext,
  item: MediumItem,
  id: string,
  intakeFlag: string | undefined,
): Promise<CarriedFolder> {
  const { config } = ctx.config();
  const site = isolatedSiteOfCycle(config, id);
  if (!site) {
    throw new CliError(
      `cycle ${id} is not a cycle of an isolated site's DMZ installation in this configuration ` +
        `(isolated DMZ sites: ${
          config.sites
            .filter((s) => s.isolated?.side === 'dmz')
            .map((s) => s.id)
            .join(', ') || 'none'
        })`,
    );
  }
  const ends = mediumEndsOf(config, site, intakeFlag);
  const [from, to] = item === 'package' ? [ends.outbound, ends.intake] : [ends.intake, ends.outbound];
  try {
    return await carryMedium({ item, cycleId: id, from, to });
  } catch (err) {
    if (err instanceof MediumCourierError) throw new CliError(err.message);
    throw err;
  }
}

function carriedText(carried: CarriedFolder, next: string): string {
  return [
    `carried ${carried.from}`,
    `     to ${carried.to}`,
    ...carried.files.map((f) => `  ${f.name} (${f.size} bytes)`),
    next,
  ].join('\n');
}

export function register(program: Command, ctx: CliContext): void {
  const sim = program.command('sim').description('the simulated Deep Security site (embedded default, tests, demos)');

  sim
    .command('carry <cycle-id>')
    .description(
      "copy a cycle's bundle to the air-gapped relay(s) as a person would; for an isolated site, " +
        'move its transfer package from the DMZ outbound folder to the air-gapped intake folder',
    )
    .option('--to <folder>', "isolated site: the air-gapped intake folder (default: simulator.airgappedConfig's)")
    .option('--relay <name>', 'only this relay')
    .option('--rename', 'make the mistake of renaming the copy')
    .option('--truncate', 'make the mistake of an interrupted copy')
    .option('--corrupt', 'make the mistake of a damaged copy')
    .option('--wrong-folder', 'make the mistake of copying next to the install folder')
    .action(async (id: string, opts: Record<string, string | boolean | undefined>) => {
      const mistakes = (['rename', 'truncate', 'corrupt', 'wrong-folder'] as const).filter(
        (m) => opts[m === 'wrong-folder' ? 'wrongFolder' : m],
      );
      if (mistakes.length > 1) throw new CliError(`choose one mistake at a time (got ${mistakes.join(', ')})`);
      if (isolatedSiteOfCycle(ctx.config().config, id)) {
        if (mistakes.length || opts.relay) {
          throw new CliError('--relay and the mistakes are for a connected site; an isolated site carries its package');
        }
        const carried = await carryIsolated(ctx, 'package', id, opts.to as string | undefined);
        ctx.result(
          carriedText(carried, 'the air-gapped installation takes it in from there (or: airgap intake <folder>)'),
          { cycleId: id, item: 'package', ...carried },
        );
        return;
      }
      const view = await cycleView(await ctx.client(), id);
      if (!view.bundle) throw new CliError(`cycle ${id} has no bundle yet (state ${view.state})`);
      const site = findSite(ctx.config().config, view.site);
      if (!site) throw new CliError(`cycle ${id} belongs to site ${view.site}, which is not in this configuration`);
      const relays = site.airgapped.relays.filter((r) => !opts.relay || r.name === opts.relay);
      if (relays.length === 0) throw new CliError(`unknown relay "${String(opts.relay)}"`);
      const result = await carryBundle({
        bundlePath: view.bundle.path,
        relays,
        mistake: mistakes[0] as CourierMistake | undefined,
      });
      ctx.result(
        result.copies.map((c) => `copied to ${c.relay}: ${c.path} (${c.size} bytes)`).join('\n') +
          `\nnow report it: airgap cycle copied ${id} --by <you> --sha256 ${view.bundle.sha256.slice(0, 16)}`,
        { ...result, sha256: view.bundle.sha256 },
      );
    });

  sim
    .command('carry-back <cycle-id>')
    .description("isolated site: move a cycle's receipt from the air-gapped intake folder to the DMZ outbound folder")
    .option('--from <folder>', "the air-gapped intake folder (default: simulator.airgappedConfig's)")
    .action(async (id: string, opts: { from?: string }) => {
      const carried = await carryIsolated(ctx, 'receipt', id, opts.from);
      ctx.result(carriedText(carried, 'the DMZ installation takes the receipt in from there and closes the cycle'), {
        cycleId: id,
        item: 'receipt',
        ...carried,
      });
    });

  sim
    .command('publish')
    .description('the update server publishes new patterns and the next rule update (the DMZ relay takes them)')
    .action(async () => {
      const answer = await control(ctx, 'POST', '/publish');
      ctx.result(`published: ${JSON.stringify((answer as { components: unknown }).components)}`, answer);
    });

  sim
    .command('export-rules <site> <versions...>')
    .description('R1 by hand: the DMZ console exports rule updates (.dsru) into a folder (your "downloads")')
    .requiredOption('--to <folder>', 'where the files are written (absolute, or relative to the current folder)')
    .action(async (site: string, versions: string[], opts: { to: string }) => {
      const folder = path.resolve(opts.to);
      const files: { fileName: string; path: string; sha256: string; size: number }[] = [];
      for (const version of versions) {
        files.push(
          (await control(ctx, 'POST', '/rules/export', { siteId: site, version, folder })) as (typeof files)[number],
        );
      }
      // The form `rules exported --file` documents and accepts: NAME=SHA256:SIZE.
      const report = files.map((f) => `--file ${f.fileName}=${f.sha256}:${f.size}`).join(' ');
      ctx.result(
        `${files.map((f) => `exported ${f.path} (${f.size} bytes, sha256 ${f.sha256})`).join('\n')}\n` +
          `now report them: airgap rules exported <id> --by <you> ${report}`,
        files,
      );
    });

  sim
    .command('import-rules <site> <files...>')
    .description('R3 by hand: import .dsru files in the air-gapped console (the manager validates each)')
    .action(async (site: string, files: string[]) => {
      const results = [];
      for (const file of files) {
        results.push(await control(ctx, 'POST', '/rules/import', { siteId: site, path: path.resolve(file) }));
      }
      ctx.result(
        results.map((r) => `imported ${JSON.stringify(r)}`).join('\n') +
          '\nnow confirm it: airgap rules done <id> --step import-rules --by <you>',
        results,
      );
    });

  sim
    .command('fault <json>')
    .description(
      'inject a fault, e.g. \'{"kind":"failed-import"}\' or \'{"kind":"server-error","count":3}\'; "clear" removes all',
    )
    .action(async (json: string) => {
      if (json === 'clear') {
        ctx.result('faults cleared', await control(ctx, 'DELETE', '/faults'));
        return;
      }
      let fault: unknown;
      try {
        fault = JSON.parse(json);
      } catch {
        throw new CliError(`the fault must be JSON, e.g. '{"kind":"failed-import"}' (got ${json})`);
      }
      ctx.result('fault injected', await control(ctx, 'POST', '/faults', fault));
    });
}

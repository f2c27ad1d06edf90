/**
 * What the CLI groups of every run kind share besides the verbs (run-actions.ts): refusing an
 * unknown site (requireSite, in run-actions.ts), reading a run's state through its query, and `status <id> [--watch]`.
 */
import type { Client } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import type { Command } from 'commander';
import type { AuditKind } from '../domain/audit';
import type { RunState } from '../workflows/run-messages';
import { CliError, type CliContext } from './context';
import { registerRunList, timesFor, watchRun, type Times } from './run-actions';

/** A run's state through its query; an error naming the run ("cannot read cycle <id>: …") when it cannot be read. */
export async function readRunView<V>(
  client: Client,
  id: string,
  query: QueryDefinition<V, []>,
  noun: string,
): Promise<V> {
  try {
    return await client.workflow.getHandle(id).query(query);
  } catch (err) {
    throw new CliError(`cannot read ${noun} ${id}: ${(err as Error).message}`);
  }
}

/**
 * `<group> status <id> [--watch]`: the run's state once, or followed until it needs a person or
 * ends; and `<group> list` of the runs of that kind.
 */
export function registerRunStatus<V extends RunState>(
  group: Command,
  ctx: CliContext,
  o: {
    description: string;
    read: (client: Client, id: string) => Promise<V>;
    render: (v: V, t: Times) => string;
    list: { kind: AuditKind; plural: string };
  },
): void {
  group
    .command('status <id>')
    .description(o.description)
    .option(
      '--watch',
      'follow the run, printing each change, until it needs a person (exit 0) or ends (exit 1 if it failed, expired, was rejected or cancelled)',
    )
    .action(async (id: string, opts: { watch?: boolean }) => {
      const client = await ctx.client();
      if (opts.watch) return watchRun(ctx, () => o.read(client, id), o.render);
      const v = await o.read(client, id);
      ctx.result(o.render(v, timesFor(ctx, v.site)), v);
    });
  registerRunList(group, ctx, o.list);
}

/**
 * What every run command shares: acting through a workflow Update (a validator's refusal becomes
 * exit 1 with the reason), and rendering times and answers the same way for every kind of run.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import { formatDuration } from '../domain/duration';
import {
  approveUpdate,
  cancelUpdate,
  manualStepDoneUpdate,
  rejectUpdate,
  type ActionAnswer,
  type TimelineEntry,
} from '../workflows/run-messages';
import { CliError, type CliContext } from './context';

/** Runs an Update and turns a validator's refusal into a CliError carrying the reason. */
export async function act<A>(handle: WorkflowHandle, run: (h: WorkflowHandle) => Promise<A>, noun = 'run'): Promise<A> {
  try {
    return await run(handle);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      throw new CliError(`refused: ${(err.cause as Error | undefined)?.message ?? err.message}`);
    }
    const message = (err as Error).message ?? String(err);
    if (/not found/i.test(message)) throw new CliError(`no such ${noun}: ${handle.workflowId}`);
    throw err;
  }
}

/** "2026-11-25T06:00:00.000Z (3h2m ago)" */
export function ago(isoTime: string): string {
  return `${isoTime} (${formatDuration(Math.max(0, Date.now() - Date.parse(isoTime)))} ago)`;
}

export function answerLine(a: ActionAnswer): string {
  return `accepted: ${a.message} (state: ${a.state})`;
}

export function timelineLines(timeline: TimelineEntry[]): string[] {
  return timeline.map((e) => `  ${e.at}  ${e.summary}${e.actor ? ` [${e.actor.who} via ${e.actor.channel}]` : ''}`);
}

export interface RunVerbsOptions {
  /** "cycle", "rule transfer", "hardening run": named in help and errors. */
  noun: string;
  /** What an approval approves: "the import of a verified bundle". */
  approves: string;
  /** What cancelling leaves behind, for the help text. */
  cancels: string;
  /**
   * Where --by comes from when the group owns that option (harden's `--by` sits on the group so
   * `harden <site> --apply --by …` reads naturally); by default each verb has its own --by.
   */
  by?: (command: Command) => string;
}

/**
 * The verbs every run that waits for people shares, acting through the same Updates whatever the
 * kind: approve, reject (with a reason), done (a manual step) and cancel.
 */
export function registerRunVerbs(group: Command, ctx: CliContext, o: RunVerbsOptions): void {
  const who = (opts: { by?: string }, command: Command): string => {
    const by = o.by ? o.by(command) : opts.by;
    if (!by?.trim()) throw new CliError(`${command.name()} needs --by <who>: it is recorded`);
    return by;
  };
  const withBy = (cmd: Command, what: string) => (o.by ? cmd : cmd.requiredOption('--by <who>', what));
  const run = async (id: string, update: (h: WorkflowHandle) => Promise<ActionAnswer>) => {
    const handle = (await ctx.client()).workflow.getHandle(id);
    const a = await act(handle, update, o.noun);
    ctx.result(answerLine(a), a);
  };

  withBy(group.command('approve <id>').description(`approve ${o.approves}`), 'who approves')
    .option('--comment <text>', 'optional comment')
    .action((id: string, opts: { by?: string; comment?: string }, command: Command) =>
      run(id, (h) =>
        h.executeUpdate(approveUpdate, { args: [{ by: who(opts, command), comment: opts.comment, channel: 'cli' }] }),
      ),
    );

  withBy(group.command('reject <id>').description(`reject ${o.approves}`), 'who rejects')
    .requiredOption('--comment <text>', 'why')
    .action((id: string, opts: { by?: string; comment: string }, command: Command) =>
      run(id, (h) =>
        h.executeUpdate(rejectUpdate, { args: [{ by: who(opts, command), comment: opts.comment, channel: 'cli' }] }),
      ),
    );

  withBy(group.command('done <id>').description(`confirm a manual step the ${o.noun} waits for`), 'who did it')
    .requiredOption('--step <step>', 'the step (as shown by status)')
    .option('--comment <text>', 'optional comment')
    .action((id: string, opts: { by?: string; step: string; comment?: string }, command: Command) =>
      run(id, (h) =>
        h.executeUpdate(manualStepDoneUpdate, {
          args: [{ step: opts.step, by: who(opts, command), comment: opts.comment, channel: 'cli' }],
        }),
      ),
    );

  withBy(group.command('cancel <id>').description(`cancel a ${o.noun}; ${o.cancels}`), 'who cancels')
    .requiredOption('--reason <why>', 'why')
    .action((id: string, opts: { by?: string; reason: string }, command: Command) =>
      run(id, (h) =>
        h.executeUpdate(cancelUpdate, { args: [{ by: who(opts, command), reason: opts.reason, channel: 'cli' }] }),
      ),
    );
}

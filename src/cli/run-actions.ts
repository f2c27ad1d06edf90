/**
 * What every run command shares: acting through a workflow Update (a validator's refusal becomes
 * exit 1 with the reason), and rendering times and answers the same way for every kind of run.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Command } from 'commander';
import type { RefusalCode } from '../domain/asks';
import type { AuditKind } from '../domain/audit';
import type { ProofClaim } from '../domain/proof';
import { findSite, type AppConfig } from '../domain/config';
import { displayZone, formatTime, isoTimesIn, wallTime } from '../domain/time-format';
import { refusalOf } from '../workflows/refusal';
import { SITE, STATE } from '../workflows/search-attributes';
import {
  approveUpdate,
  cancelUpdate,
  manualStepDoneUpdate,
  rejectUpdate,
  type ActionAnswer,
  type RunState,
  type TimelineEntry,
} from '../workflows/run-messages';
import { CliError, type CliContext } from './context';
import { CODE_HELP, codeProof, osUserProof } from './proof';

/** What a refused action was: the top-level error handler records it in the audit (cli/refusals.ts). */
export interface RefusedAttempt {
  workflowId: string;
  /** The Update's name: approve, fileCopied, manualStepDone, abortRollout… */
  action: string;
  by?: string;
  reason: string;
  /** The run's refusal code (domain/asks.ts): `not-approver`, `already-decided`, `ended`… */
  code: RefusalCode;
}

/** Thrown when a run refuses an operator's action; printed as one line, exit 1, and audited. */
export class ActionRefusedError extends CliError {
  constructor(
    message: string,
    readonly attempt: RefusedAttempt,
  ) {
    super(message, { refused: attempt });
    this.name = 'ActionRefusedError';
  }
}

/**
 * Sends an operator's Update and turns a refusal into an ActionRefusedError carrying its code and
 * reason: a validator's no, or a run that has already ended. The Update's name and `by` go into
 * the audit record of a refusal, so every command that acts through here is audited alike.
 */
export async function act<I extends { by: string }, A>(
  handle: WorkflowHandle,
  update: UpdateDefinition<A, [I]>,
  input: I,
  noun = 'run',
): Promise<A> {
  const refused = (code: RefusalCode, reason: string): ActionRefusedError =>
    new ActionRefusedError(`refused: ${reason}`, {
      workflowId: handle.workflowId,
      action: update.name,
      ...(input.by ? { by: input.by } : {}),
      reason,
      code,
    });
  try {
    return await handle.executeUpdate(update, { args: [input] });
  } catch (err) {
    const refusal = err instanceof WorkflowUpdateFailedError ? refusalOf(err) : undefined;
    if (refusal) throw refused(refusal.code, refusal.message);
    if (err instanceof WorkflowUpdateFailedError) throw refused('not-allowed', err.message);
    if (err instanceof WorkflowNotFoundError && /already completed|not running|closed/i.test(err.message)) {
      throw refused(
        'ended',
        `${noun} ${handle.workflowId} has ended, so nothing can be changed any more (see airgap audit show ${handle.workflowId})`,
      );
    }
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no such ${noun}: ${handle.workflowId}`);
    throw err;
  }
}

/**
 * A manual step as status shows it (`manual:import-rules`, the form `waits for` prints) or as
 * the workflow names it (`import-rules`): both are accepted, the workflow gets its own name.
 */
export function stepIdOf(shown: string): string {
  const step = shown.trim();
  return step.startsWith('manual:') ? step.slice('manual:'.length).trim() : step;
}

/**
 * An upgrade stage as status prints it: its id (`U3`), its label (`U3 (DMZ relays)`) or in lower
 * case; the workflow gets the id.
 */
export function stageIdOf(shown: string): string {
  const m = /^\s*(u\d+)\b/i.exec(shown);
  return m ? m[1]!.toUpperCase() : shown.trim().toUpperCase();
}

/**
 * How a status shows times: `at` with how far away ("2026-12-03 06:00 UTC (in 2d 4h)"), `wall`
 * without (history lines). The zone is $TZ when set, else the site's schedule time zone, else
 * the runtime's (domain/time-format.ts displayZone).
 */
/** Refuses a site the configuration does not name, listing those it does. */
export function requireSite(config: AppConfig, site: string): void {
  if (!findSite(config, site)) {
    throw new CliError(`unknown site "${site}" (sites: ${config.sites.map((s) => s.id).join(', ')})`);
  }
}

export interface Times {
  at(iso: string): string;
  wall(iso: string): string;
}

export function timesIn(zone: string, now = new Date()): Times {
  return { at: (iso) => formatTime(iso, zone, now), wall: (iso) => wallTime(iso, zone) };
}

/** The times of a site's run as the operator reads them. */
export function timesFor(ctx: CliContext, site?: string): Times {
  let siteZone: string | undefined;
  try {
    siteZone = site ? findSite(ctx.config().config, site)?.schedule.timezone : undefined;
  } catch {
    siteZone = undefined;
  }
  return timesIn(displayZone(process.env, siteZone));
}

/** Times when no configuration is at hand: $TZ, else the runtime's zone. */
export function defaultTimes(): Times {
  return timesIn(displayZone(process.env));
}

export function answerLine(a: ActionAnswer): string {
  return `accepted: ${a.message} (state: ${a.state})`;
}

export function timelineLines(timeline: TimelineEntry[], t: Times = defaultTimes()): string[] {
  return timeline.map(
    (e) => `  ${t.wall(e.at)}  ${e.summary}${e.actor ? ` [${e.actor.who} via ${e.actor.channel}]` : ''}`,
  );
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
  const run = async <I extends { by: string }>(id: string, update: UpdateDefinition<ActionAnswer, [I]>, input: I) => {
    const handle = (await ctx.client()).workflow.getHandle(id);
    const a = await act(handle, update, input, o.noun);
    ctx.result(answerLine(a), a);
  };

  withBy(group.command('approve <id>').description(`approve ${o.approves}`), 'who approves')
    .option('--comment <text>', 'optional comment')
    .option('--code <code>', CODE_HELP)
    .action((id: string, opts: { by?: string; comment?: string; code?: string }, command: Command) =>
      run(id, approveUpdate, {
        by: who(opts, command),
        comment: opts.comment,
        channel: 'cli',
        ...withProof(codeProof(opts.code)),
      }),
    );

  withBy(group.command('reject <id>').description(`reject ${o.approves}`), 'who rejects')
    .requiredOption('--comment <text>', 'why')
    .option('--code <code>', 'the one-time reject code from the approval mail: proves who you are')
    .action((id: string, opts: { by?: string; comment: string; code?: string }, command: Command) =>
      run(id, rejectUpdate, {
        by: who(opts, command),
        comment: opts.comment,
        channel: 'cli',
        ...withProof(codeProof(opts.code)),
      }),
    );

  withBy(group.command('done <id>').description(`confirm a manual step the ${o.noun} waits for`), 'who did it')
    .requiredOption('--step <step>', 'the step as status shows it after "waits for" (manual:<step>) or just <step>')
    .option('--comment <text>', 'optional comment')
    .action((id: string, opts: { by?: string; step: string; comment?: string }, command: Command) =>
      run(id, manualStepDoneUpdate, {
        step: stepIdOf(opts.step),
        by: who(opts, command),
        comment: opts.comment,
        channel: 'cli',
        ...withProof(osUserProof()),
      }),
    );

  withBy(group.command('cancel <id>').description(`cancel a ${o.noun}; ${o.cancels}`), 'who cancels')
    .requiredOption('--reason <why>', 'why')
    .action((id: string, opts: { by?: string; reason: string }, command: Command) =>
      run(id, cancelUpdate, { by: who(opts, command), reason: opts.reason, channel: 'cli' }),
    );
}

/** `{ proof }` when there is one: an action without a proof carries no proof field at all. */
export function withProof(proof: ProofClaim | undefined): { proof?: ProofClaim } {
  return proof ? { proof } : {};
}

export interface RunRow {
  id: string;
  site: string;
  state: string;
  status: string;
  started: string;
}

/**
 * `<kind> list [--site S] [--open]`, newest first, from Temporal's visibility (the audit keeps what
 * Temporal has forgotten: `airgap audit list`).
 */
export function registerRunList(group: Command, ctx: CliContext, o: { kind: AuditKind; plural: string }): void {
  group
    .command('list')
    .description(`${o.plural} known to Temporal (newest first)`)
    .option('--site <site>', 'only this site')
    .option('--open', 'only those still running')
    .action(async (opts: { site?: string; open?: boolean }) => {
      const { config } = ctx.config();
      if (opts.site) requireSite(config, opts.site);
      const clauses = [`AirgapKind = '${o.kind}'`];
      if (opts.site) clauses.push(`AirgapSite = '${opts.site}'`);
      if (opts.open) clauses.push(`ExecutionStatus = 'Running'`);
      const rows: RunRow[] = [];
      for await (const w of (await ctx.client()).workflow.list({ query: clauses.join(' AND ') })) {
        rows.push({
          id: w.workflowId,
          site: String(w.typedSearchAttributes.get(SITE) ?? ''),
          state: String(w.typedSearchAttributes.get(STATE) ?? ''),
          status: w.status.name,
          started: w.startTime.toISOString(),
        });
      }
      const t = timesFor(ctx);
      const human = rows.length
        ? rows.map((r) => `${t.at(r.started)}  ${r.site.padEnd(10)} ${r.state.padEnd(18)} ${r.id}`).join('\n')
        : `no ${o.plural}`;
      ctx.result(human, rows);
    });
}

/** Outcomes that make `status --watch` exit 1; every other ending (completed, nothing-new, planned…) exits 0. */
export const FAILED_OUTCOMES: ReadonlySet<string> = new Set(['failed', 'expired', 'rejected', 'cancelled', 'aborted']);

/** How often `status --watch` asks the run for its state. */
export const WATCH_INTERVAL_MS = 1000;

/** What changed between two reads of a run, as lines; none when nothing did. */
export function changeLines(before: RunState | undefined, now: RunState, t: Times): string[] {
  const lines: string[] = [];
  const seen = before?.timeline.length ?? now.timeline.length;
  if (before) {
    // A continued-as-new run keeps only its latest entries: show what is new at the end.
    const fresh = now.timeline.length >= seen ? now.timeline.slice(seen) : now.timeline.slice(-1);
    lines.push(...timelineLines(fresh, t));
    if (before.state !== now.state) lines.push(`state ${now.state} since ${t.at(now.stateSince)}`);
  }
  const waitChanged = JSON.stringify(before?.waitingFor) !== JSON.stringify(now.waitingFor);
  if (now.waitingFor && (waitChanged || !before)) {
    const w = now.waitingFor;
    lines.push(`needs a person: ${w.what} from ${w.from.join(', ')}, until ${t.at(w.until)}`);
  }
  return lines;
}

/**
 * `<kind> status <id> --watch`: prints the status, then each change (state, what it waits for, new
 * history), until the run needs a person (exit 0, saying what is needed) or ends (exit 0 when it
 * ended completed, nothing-new or another non-failure; exit 1 when failed, expired, rejected,
 * cancelled or aborted). With --json, one JSON object per line for each read that changed.
 */
export async function watchRun<V extends RunState>(
  ctx: CliContext,
  read: () => Promise<V>,
  render: (v: V, t: Times) => string,
  intervalMs = WATCH_INTERVAL_MS,
): Promise<void> {
  let before: V | undefined;
  for (;;) {
    const now = await read();
    const t = timesFor(ctx, now.site);
    const changed =
      !before ||
      before.state !== now.state ||
      before.timeline.length !== now.timeline.length ||
      JSON.stringify(before.waitingFor) !== JSON.stringify(now.waitingFor);
    if (changed) {
      if (ctx.json) process.stdout.write(`${JSON.stringify(isoTimesIn(now))}\n`);
      else {
        if (!before) process.stdout.write(`${render(now, t)}\n`);
        const lines = changeLines(before, now, t);
        if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
      }
    }
    if (now.outcome) {
      if (!ctx.json) {
        process.stdout.write(
          `ended ${now.outcome.state}${now.outcome.reason ? `: ${now.outcome.reason}` : ''} at ${t.at(now.outcome.at)}\n`,
        );
      }
      if (FAILED_OUTCOMES.has(now.outcome.state)) ctx.exitCode = 1;
      return;
    }
    if (now.waitingFor) return;
    before = now;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

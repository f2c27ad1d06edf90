/**
 * `airgap`: one entry point for operators and for the embedded stack. Each command lives in its
 * own file and registers itself on the program; only the file of the command that runs is loaded
 * (cli/commands.ts), so `airgap --help` and `airgap cycle status` start at once.
 */
import { Command, CommanderError } from 'commander';
import { CliContext, type GlobalOptions } from './context';
import { namedCommand, registerCommands, type CommandGroup } from './commands';
import type * as ErrorsModule from './errors';
import { checkIdentityOptions } from './options';
import type * as RefusalsModule from './refusals';

/**
 * The program for an argument vector: the group it names is loaded, the others are help stubs.
 * `all` loads every group (tests that compare the stubs with the real commands).
 */
export async function buildProgram(
  argv: string[],
  ctx?: CliContext,
  all = false,
): Promise<{ program: Command; ctx: CliContext }> {
  const program = new Command('airgap')
    .description('Durable, auditable Deep Security update operations for air-gapped networks, on Temporal.')
    .option(
      '-c, --config <file>',
      'configuration file (default: $AIRGAP_CONFIG, else the shipped simulated demo config)',
    )
    .option('--json', 'machine-readable output on stdout')
    .showHelpAfterError()
    .exitOverride();
  const context = ctx ?? new CliContext(() => program.opts<GlobalOptions>());
  const named = namedCommand(argv);
  const wanted = (g: CommandGroup) => all || g.commands.some((c) => c.name === named);
  registerCommands(program, context, wanted);
  // Every identity that enters through an option is checked here, once, whichever command has it;
  // then what reading the configuration and reaching Temporal need is loaded.
  program.hook('preAction', async (_program, actionCommand) => {
    checkIdentityOptions(actionCommand);
    await context.prepare();
  });
  return { program, ctx: context };
}

export async function main(argv: string[]): Promise<number> {
  const { program, ctx } = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    /* eslint-disable @typescript-eslint/no-require-imports -- the error path loads what it needs */
    const { recordRefusal } = require('./refusals') as typeof RefusalsModule;
    const { reportError } = require('./errors') as typeof ErrorsModule;
    /* eslint-enable @typescript-eslint/no-require-imports */
    await recordRefusal(ctx, err);
    reportError(err, ctx.json, () => ctx.temporalWhere());
    return 1;
  } finally {
    await ctx.close().catch(() => undefined);
  }
}

/**
 * `airgap`: one entry point for operators and for the embedded stack. Each command lives in its
 * own file and registers itself on the program.
 */
import { Command, CommanderError } from 'commander';
import { CliContext, type GlobalOptions } from './context';
import { COMMANDS } from './commands';
import { reportError } from './errors';
import { checkIdentityOptions } from './options';
import { recordRefusal } from './refusals';

export function buildProgram(ctx?: CliContext): { program: Command; ctx: CliContext } {
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
  for (const register of COMMANDS) register(program, context);
  // Every identity that enters through an option is checked here, once, whichever command has it.
  program.hook('preAction', (_program, actionCommand) => checkIdentityOptions(actionCommand));
  return { program, ctx: context };
}

export async function main(argv: string[]): Promise<number> {
  const { program, ctx } = buildProgram();
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    await recordRefusal(ctx, err);
    reportError(err, ctx.json, () => ctx.temporalWhere());
    return 1;
  } finally {
    await ctx.close().catch(() => undefined);
  }
}

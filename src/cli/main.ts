/**
 * `airgap`: one entry point for operators and for the embedded stack. Each command lives in its
 * own file and registers itself on the program.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../domain/config';
import { CliContext, CliError, type GlobalOptions } from './context';
import { COMMANDS } from './commands';

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
  return { program, ctx: context };
}

export async function main(argv: string[]): Promise<number> {
  const { program, ctx } = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError) {
      if (ctx.json) process.stdout.write(`${JSON.stringify({ error: err.message, details: err.details }, null, 2)}\n`);
      process.stderr.write(`airgap: ${err.message}\n`);
    } else if (err instanceof ConfigError) {
      process.stderr.write(`airgap: ${err.message}\n`);
    } else {
      process.stderr.write(`airgap: ${(err as Error).stack ?? String(err)}\n`);
    }
    return 1;
  } finally {
    await ctx.close().catch(() => undefined);
  }
}

/**
 * Every command group, registered in help order. A file per group; each exports `register`.
 *
 * Only the group a command line names is loaded (`airgap cycle status` loads cli/cycle.ts and
 * what it imports, never the worker or the web app); the others stand in as stubs carrying the
 * name and description that `airgap --help` lists. test/cli/start-speed.test.ts checks that the
 * stubs say exactly what the loaded groups say.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- each group loads when its command runs */
import { Help, type Command } from 'commander';
import type { CliContext } from './context';
import type * as StackModule from './stack';
import type * as CycleModule from './cycle';
import type * as UpgradeModule from './upgrade';
import type * as RulesModule from './rules';
import type * as HardenModule from './harden';
import type * as ScheduleModule from './schedule';
import type * as AuditModule from './audit';
import type * as SimModule from './sim';
import type * as KeysModule from './keys';
import type * as IntakeModule from './intake';

export type Register = (program: Command, ctx: CliContext) => void;

export interface CommandGroup {
  /** The top-level commands the module registers, as `airgap --help` lists them. */
  commands: { name: string; term: string; description: string }[];
  /** Loads the module (a plain require: the ESM loader behind import() would cost more). */
  load: () => { register: Register };
}

export const COMMAND_GROUPS: CommandGroup[] = [
  {
    commands: [
      {
        name: 'start',
        term: 'start',
        description:
          'run the embedded default: Temporal dev server, workers, web app and (if configured) the simulator',
      },
      {
        name: 'setup',
        term: 'setup',
        description:
          'create or update the namespace (retention) and register the search attributes on the target cluster',
      },
      {
        name: 'worker',
        term: 'worker [options]',
        description:
          'run worker roles against the cluster: --control, --host <relay> (repeatable), --zone <zone> (repeatable); all roles by default',
      },
      {
        name: 'web',
        term: 'web',
        description: 'run the web app (dashboard, outbox, approval links) against the cluster',
      },
      {
        name: 'health',
        term: 'health [options]',
        description: 'exit 0 when Temporal answers and (with --worker) the control queue has a poller',
      },
    ],
    load: () => require('./stack') as typeof StackModule,
  },
  {
    commands: [{ name: 'cycle', term: 'cycle', description: 'update cycles: bundle → transfer → import → cleanup' }],
    load: () => require('./cycle') as typeof CycleModule,
  },
  {
    commands: [
      {
        name: 'upgrade',
        term: 'upgrade',
        description: 'upgrade rollouts in the strict DMZ-first order: U1 DMZ manager → … → U5 air-gapped agents',
      },
    ],
    load: () => require('./upgrade') as typeof UpgradeModule,
  },
  {
    commands: [
      {
        name: 'rules',
        term: 'rules',
        description: 'rule updates (.dsru) across the gap: export → carry → verify → import',
      },
    ],
    load: () => require('./rules') as typeof RulesModule,
  },
  {
    commands: [
      {
        name: 'harden',
        term: 'harden [options] [site]',
        description: 'air-gapped set-up and hardening (S1, H1–H8): harden <site> --plan | --check | --apply',
      },
    ],
    load: () => require('./harden') as typeof HardenModule,
  },
  {
    commands: [{ name: 'schedule', term: 'schedule', description: 'the per-site cycle schedules' }],
    load: () => require('./schedule') as typeof ScheduleModule,
  },
  {
    commands: [
      {
        name: 'audit',
        term: 'audit',
        description: 'The audit of past runs, kept beyond Temporal retention: list, show, export, verify',
      },
    ],
    load: () => require('./audit') as typeof AuditModule,
  },
  {
    commands: [
      {
        name: 'sim',
        term: 'sim',
        description: 'the simulated Deep Security site (embedded default, tests, demos)',
      },
    ],
    load: () => require('./sim') as typeof SimModule,
  },
  {
    commands: [
      {
        name: 'keys',
        term: 'keys',
        description: "an isolated site's signing keys: init makes a pair, rotate replaces it with an overlap",
      },
    ],
    load: () => require('./keys') as typeof KeysModule,
  },
  {
    commands: [
      {
        name: 'intake',
        term: 'intake [options] <folder>',
        description:
          'isolated sites: take in what the medium carries: packages (air-gapped side) or receipts (DMZ side), one pass',
      },
    ],
    load: () => require('./intake') as typeof IntakeModule,
  },
];

/**
 * The top-level command an argument vector names (`node airgap [-c file] [--json] <command> …`),
 * or undefined for `airgap`, `airgap --help`. `airgap help cycle` names cycle.
 */
export function namedCommand(argv: string[]): string | undefined {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '--config') {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    if (arg === 'help') continue;
    return arg;
  }
  return undefined;
}

/**
 * Registers every group on the program: `load` says which groups are loaded for real (those whose
 * commands can run); the others become stubs that only show in help.
 */
export function registerCommands(program: Command, ctx: CliContext, load: (group: CommandGroup) => boolean): void {
  const wanted = COMMAND_GROUPS.filter(load);
  const modules = new Map(wanted.map((g) => [g, g.load()] as const));
  const terms = new Map<Command, string>();
  for (const group of COMMAND_GROUPS) {
    const module = modules.get(group);
    if (module) {
      module.register(program, ctx);
      continue;
    }
    for (const c of group.commands) {
      terms.set(program.command(c.name).description(c.description), c.term);
    }
  }
  if (terms.size) {
    const standard = new Help();
    program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd) ?? standard.subcommandTerm(cmd) });
  }
}

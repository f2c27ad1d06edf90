// Every command group, registered in help order. A file per group; each exports `register`.
import type { Command } from 'commander';
import type { CliContext } from './context';
import { register as audit } from './audit';
import { register as cycle } from './cycle';
import { register as harden } from './harden';
import { register as rules } from './rules';
import { register as schedule } from './schedule';
import { register as sim } from './sim';
import { register as stack } from './stack';
import { register as upgrade } from './upgrade';

export type Register = (program: Command, ctx: CliContext) => void;

export const COMMANDS: Register[] = [stack, cycle, upgrade, rules, harden, schedule, audit, sim];

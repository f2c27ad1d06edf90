// Every command group, registered in help order. A file per group; each exports `register`.
import type { Command } from 'commander';
import type { CliContext } from './context';
import { register as audit } from './audit';

export type Register = (program: Command, ctx: CliContext) => void;

export const COMMANDS: Register[] = [audit];

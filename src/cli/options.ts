/**
 * Options shared by many commands, parsed one way. `--by` is an identity (domain/identity.ts): it
 * goes into the audit, mails, status lines and CSV exports, so a value that is not a plausible
 * identity (a formula, a line break, a control character) is refused before anything is sent.
 */
import type { Command } from 'commander';
import { parseIdentity } from '../domain/identity';

/** Options that name a person; checked on the command that runs and on every group above it. */
const IDENTITY_OPTIONS = ['by'] as const;

/**
 * Checks (and trims) every identity option given to `command` or to a parent group (`harden
 * <site> --by …` keeps --by on the group). Throws InvalidIdentityError, reported as one line.
 */
export function checkIdentityOptions(command: Command): void {
  for (let c: Command | null = command; c; c = c.parent) {
    const opts = c.opts<Record<string, unknown>>();
    for (const name of IDENTITY_OPTIONS) {
      const value = opts[name];
      if (typeof value === 'string') c.setOptionValue(name, parseIdentity(value));
    }
  }
}

/**
 * How an operation on a relay or manager host can fail. Each keeps what an operator needs to see
 * (the command's verbatim output, the refused path) and the original error in `cause`.
 */
export { DsaControlOutputError } from '../domain/dsa-control-output';

/**
 * Thrown when a host command (dsa_control, dsm_c) cannot be started, exits non-zero, or runs past
 * its timeout. `stdout`/`stderr` are verbatim.
 */
export class HostCommandError extends Error {
  override readonly name = 'HostCommandError';

  constructor(
    readonly command: string,
    readonly reason: string,
    readonly output: { exitCode?: number; timedOut: boolean; stdout: string; stderr: string },
    options?: { cause?: unknown },
  ) {
    const shown = [output.stdout.trim(), output.stderr.trim()].filter(Boolean).join('\n');
    super(`${command}: ${reason}${shown ? `. Its output was:\n${shown}` : ''}`, options);
  }
}

/**
 * Thrown when a file operation names a path outside the folders it is confined to (install dir,
 * archive dir), after resolving `..` and symbolic links. Nothing was touched.
 */
export class PathOutsideAllowedError extends Error {
  override readonly name = 'PathOutsideAllowedError';

  constructor(
    readonly requested: string,
    readonly allowed: readonly string[],
  ) {
    super(`refused: ${requested} is outside ${allowed.join(' and ')}; nothing was touched`);
  }
}

/** Thrown before running a command whose arguments the vendor tool would refuse (non-ASCII). */
export class InvalidCommandArgumentError extends Error {
  override readonly name = 'InvalidCommandArgumentError';

  constructor(
    readonly command: string,
    readonly argument: string,
  ) {
    super(`${command} accepts English (ASCII) arguments only; refused ${JSON.stringify(argument)}`);
  }
}

/** Thrown when a path that must be a regular file is a directory or something else. */
export class NotAFileError extends Error {
  override readonly name = 'NotAFileError';

  constructor(readonly path: string) {
    super(`${path} is not a regular file; nothing was touched`);
  }
}

/**
 * Thrown when a file is asked for in a folder that does not exist (or is not a folder) on the
 * host: the message names the folder, which is what a person has to fix.
 */
export class FolderMissingError extends Error {
  override readonly name = 'FolderMissingError';

  constructor(
    readonly folder: string,
    readonly file: string,
    readonly host: string | undefined,
    notAFolder = false,
    options?: { cause?: unknown },
  ) {
    super(
      `the folder ${folder}${host ? ` on ${host}` : ''} ${notAFolder ? 'is not a folder' : 'does not exist'}, so ${file} cannot be in it`,
      options,
    );
  }
}

/**
 * What the CLI shows with an action to prove who sends it (issue 14): the one-time code from the
 * approval mail (`--code`), or the login name of the process (`os-user`), which the control worker
 * maps to a person through the site's people.osUsers. The CLI proves nothing itself: the run checks.
 */
import os from 'node:os';
import type { ProofClaim } from '../domain/proof';

/** The one-time code's claim, when one was given. */
export function codeProof(code: string | undefined): ProofClaim | undefined {
  const credential = code?.trim();
  return credential ? { kind: 'cli-code', credential } : undefined;
}

/** The login name of this process as an `os-user` claim; none when the system cannot say. */
export function osUserProof(): ProofClaim | undefined {
  try {
    const { username } = os.userInfo();
    return username ? { kind: 'os-user', credential: username } : undefined;
  } catch {
    return undefined;
  }
}

/** A code when given (an approval), else the login name (an operator's action). */
export function actionProof(code: string | undefined): ProofClaim | undefined {
  return codeProof(code) ?? osUserProof();
}

export const CODE_HELP = 'the one-time code from the approval mail: proves who you are';

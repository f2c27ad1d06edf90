/**
 * How an operator action proves who sent it (issue 14). A client sends a claim with the action;
 * the control worker, which holds the keys, checks it; the run records who acted AND how that was
 * proven, and counts an approval only with a proof the site accepts (`approval.proofs`).
 *
 * Claims by kind, and what the credential is:
 *  - `mail-link`: the signed link token from the mail (domain/link-token.ts), posted by the web app;
 *  - `web-session`: a link token the web app signs at the moment of the action for the person signed
 *    in (OIDC or trusted proxy), bound to run, action, subject and that person, with a short expiry;
 *  - `shared-secret`: the same, when the web app's only sign-in is the shared secret;
 *  - `cli-code`: the one-time code mailed beside the approval link;
 *  - `os-user`: the login name of the CLI process, mapped to a person in the config;
 *  - `unproven`: nothing was shown (a plain `--by`).
 * `mail-link`, `web-session` and `shared-secret` credentials are all link tokens
 * (domain/link-token.ts) signed with the site's link keys: payload `workflowId` = the run,
 * `action` = the LinkAction the Update performs (approve, reject, file-copied, manual-done,
 * stage-confirm), `subject` = what the action is about (digest, step or stage), `recipient` = the
 * person who acts (must equal `by`). The web app signs a `web-session`/`shared-secret` one at the
 * moment of the action, expiring within minutes; which of the two it is follows the web app's
 * sign-in mode (oidc/proxy → web-session, shared secret → shared-secret).
 * Pure: types and rules only.
 */
export const PROOF_KINDS = ['mail-link', 'web-session', 'shared-secret', 'cli-code', 'os-user', 'unproven'] as const;
export type ProofKind = (typeof PROOF_KINDS)[number];

/** What a site accepts for approvals when its config says nothing. */
export const DEFAULT_APPROVAL_PROOFS: readonly ProofKind[] = ['mail-link', 'web-session', 'cli-code'];

/** Sent with an action (ActionBase.proof); checked by the control worker, never trusted as is. */
export interface ProofClaim {
  kind: ProofKind;
  /** The link token, the one-time code or the login name, by kind; absent for `unproven`. */
  credential?: string;
}

export function isProofKind(value: unknown): value is ProofKind {
  return typeof value === 'string' && (PROOF_KINDS as readonly string[]).includes(value);
}

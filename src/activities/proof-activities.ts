/**
 * The check of an operator's proof of identity (issue 14), on the control worker, which holds the
 * link keys and the configuration. Workflows call it as a local activity from the Update handler
 * of an action that carries a proof: a validator must decide synchronously, and a signature check
 * needs a key the workflow must never hold. The answer says whether the claim proves `by` for this
 * run, action and subject; the workflow decides what a failure means (refusal for approvals, an
 * `unproven` record for other actions).
 */
import { verifyCliCode } from '../domain/cli-code';
import { findSite, type AppConfig } from '../domain/config';
import { sameActor } from '../domain/cycle';
import { verifyLinkToken, type LinkAction, type LinkKeys } from '../domain/link-token';
import type { ProofClaim, ProofKind } from '../domain/proof';

export interface ProofDeps {
  config: AppConfig;
  linkKeys: LinkKeys;
  now: () => number;
}

export interface ProofCheckInput {
  site: string;
  workflowId: string;
  /** What the Update does, as a link names it (approve, reject, file-copied, manual-done, stage-confirm). */
  action: LinkAction;
  /** What the action is about: the digest, the Temporal run id, the step or stage. */
  subject: string;
  by: string;
  proof: ProofClaim;
}

export type ProofCheck =
  | { ok: true; kind: ProofKind; /** For a one-time code: its canonical text, recorded as used. */ codeId?: string }
  | { ok: false; kind: ProofKind; reason: string };

const LINK_FAILURE = {
  malformed: 'is not a token this site issued',
  tampered: 'is not signed with this site’s link key',
  expired: 'has expired',
} as const;

const CODE_FAILURE = {
  malformed: 'is not a code this site issued (12 letters and digits, as in the approval mail)',
  wrong: 'was not issued for this run, action and person',
  expired: 'has expired',
} as const;

export function createProofActivities(deps: ProofDeps) {
  return {
    async checkProof(input: ProofCheckInput): Promise<ProofCheck> {
      const { kind, credential } = input.proof;
      const fail = (reason: string): ProofCheck => ({ ok: false, kind, reason });
      if (kind === 'unproven') return { ok: true, kind };
      if (typeof credential !== 'string' || credential.length === 0) return fail(`the ${kind} proof has no credential`);
      switch (kind) {
        case 'mail-link':
        case 'web-session':
        case 'shared-secret': {
          const v = verifyLinkToken(credential, deps.linkKeys, deps.now());
          if (!v.ok) return fail(`the ${kind} token ${LINK_FAILURE[v.reason]}`);
          const p = v.payload;
          if (p.workflowId !== input.workflowId) return fail(`the ${kind} token is for another run (${p.workflowId})`);
          if (p.action !== input.action) return fail(`the ${kind} token is for "${p.action}", not "${input.action}"`);
          if (p.subject !== input.subject) return fail(`the ${kind} token is for another subject than this question`);
          if (!sameActor(p.recipient, input.by))
            return fail(`the ${kind} token is ${p.recipient}'s, not ${input.by}'s`);
          return { ok: true, kind };
        }
        case 'cli-code': {
          const binding = {
            workflowId: input.workflowId,
            action: input.action,
            subject: input.subject,
            recipient: input.by,
          };
          const v = verifyCliCode(credential, binding, deps.linkKeys, deps.now());
          if (!v.ok) return fail(`the code ${CODE_FAILURE[v.reason]}`);
          return { ok: true, kind, codeId: v.code };
        }
        case 'os-user': {
          const people = findSite(deps.config, input.site)?.people.osUsers ?? {};
          const person = Object.entries(people).find(([login]) => login === credential)?.[1];
          if (!person) return fail(`the login name "${credential}" is not in people.osUsers of site ${input.site}`);
          if (!sameActor(person, input.by))
            return fail(`the login name "${credential}" belongs to ${person}, not ${input.by}`);
          return { ok: true, kind };
        }
      }
    },
  };
}

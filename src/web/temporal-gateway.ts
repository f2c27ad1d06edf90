/**
 * The web app's link actions against Temporal. `describe` is a Query (GET and HEAD, which mail
 * scanners send, change nothing); `perform` is the run's Update with the link's token id as
 * the Update id, so a second click returns the first answer instead of acting twice. What a run
 * waits for, who answered and why it refused come from the fields it publishes (its asks, its
 * answers, a refusal's code), never from its sentences, timeline text or timings.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { recordRefusedAction, type AuditStore } from '../adapters/audit-store';
import { earlierAnswer, openAsk, type Answer, type AnswerAction, type RefusalCode } from '../domain/asks';
import { identityProblem } from '../domain/identity';
import type { LinkAction, LinkPayload } from '../domain/link-token';
import type { ProofClaim } from '../domain/proof';
import {
  approveUpdate,
  cycleStateQuery,
  fileCopiedUpdate,
  manualStepDoneUpdate,
  rejectUpdate,
  runStateQuery,
  type ActionAnswer,
  type CycleView,
  type RunState,
} from '../workflows/cycle-messages';
import { refusalOf } from '../workflows/refusal';
import type { ActionGateway, ActionOutcome, ActionView, PerformRequest } from './deps';
import { WebError } from './errors';
import { withinQueryDeadline } from './query-deadline';

const DECISION: Record<Answer['action'], string> = {
  approve: 'approved',
  reject: 'rejected',
  'file-copied': 'file copied',
  'manual-done': 'done',
  'confirm-stage': 'confirmed',
  'retry-stage': 'retried',
  cancel: 'cancelled',
  abort: 'aborted',
};

/** The answer a link's action gives (a stage confirmation answers a `confirm-stage` ask). */
const asked = (action: LinkAction): AnswerAction => (action === 'stage-confirm' ? 'confirm-stage' : action);

/** A cycle's view, or the common state of another kind of run. */
type AnyView = RunState & Partial<Omit<CycleView, keyof RunState>>;

/**
 * Manual-step and approval links work on any kind of run (cycle, rollout, rule transfer,
 * hardening) through the common run state; a cycle's view adds its bundle and relays.
 */
async function readView(client: Client, payload: LinkPayload): Promise<AnyView | undefined> {
  try {
    const handle = client.workflow.getHandle(payload.workflowId);
    const state = await withinQueryDeadline(client, () => handle.query(runStateQuery));
    return state.kind === 'cycle' && payload.action !== 'manual-done'
      ? await withinQueryDeadline(client, () => handle.query(cycleStateQuery))
      : state;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw WebError.unavailable(`Temporal did not answer: ${(err as Error).message}`);
  }
}

/** Who may answer a link's question once each: approvals count per person, other asks per run. */
function answerer(payload: LinkPayload): string | undefined {
  return payload.action === 'approve' || payload.action === 'reject' ? payload.recipient : undefined;
}

/** The earlier answer to this link's question, as the run recorded it. */
function earlierDecision(
  view: AnyView,
  payload: LinkPayload,
): { by: string; at: number; decision: string } | undefined {
  const earlier = earlierAnswer(view.answers, asked(payload.action), payload.subject, answerer(payload));
  return earlier && { by: earlier.by, at: Date.parse(earlier.at), decision: DECISION[earlier.action] };
}

/**
 * What an approval link is bound to: a cycle's bundle digest (the approver approves that file);
 * for other kinds of run, the Temporal run id (that run's request, not a later one).
 */
function approvalSubject(view: AnyView): string | undefined {
  return view.kind === 'cycle' ? view.bundle?.sha256 : view.runId;
}

const KIND_NAME: Record<RunState['kind'], string> = {
  cycle: 'cycle',
  upgrade: 'rollout',
  rules: 'rule transfer',
  harden: 'hardening',
};

/** The run asks this link's question now, and (for approvals) this recipient has not answered it. */
function isWaitingFor(view: AnyView, payload: LinkPayload): boolean {
  const ask = openAsk(view.asks, asked(payload.action), payload.subject);
  if (!ask) return false;
  const who = answerer(payload);
  return who === undefined || !earlierAnswer(view.answers, asked(payload.action), payload.subject, who);
}

function titleOf(view: AnyView, payload: LinkPayload): string {
  switch (payload.action) {
    case 'file-copied':
      return `Confirm that ${view.bundle?.fileName ?? 'the bundle'} was copied to the air-gapped relay(s)`;
    case 'approve':
      return view.kind === 'cycle'
        ? `Approve the import of ${view.bundle?.fileName ?? 'the bundle'}`
        : `Approve the ${KIND_NAME[view.kind]} ${view.id}`;
    case 'reject':
      return view.kind === 'cycle'
        ? `Reject the import of ${view.bundle?.fileName ?? 'the bundle'}`
        : `Reject the ${KIND_NAME[view.kind]} ${view.id}`;
    case 'manual-done':
      return view.waitingFor?.title
        ? `Confirm: ${view.waitingFor.title}`
        : `Confirm the manual step "${payload.subject}"`;
    case 'stage-confirm':
      return `Confirm ${payload.subject}`;
  }
}

/**
 * A double click posts one link's form twice at once; Temporal answers both Updates (same id) with
 * the one answer, so only the web process can tell the first click from its repeat: a perform of a
 * token id that is already in progress here waits for it and reports "already decided".
 */
function recogniseRepeats(gateway: ActionGateway): ActionGateway {
  const inFlight = new Map<string, Promise<ActionOutcome>>();
  return {
    describe: (payload, tokenId) => gateway.describe(payload, tokenId),
    async perform(payload, request, proof) {
      const first = await inFlight.get(request.tokenId)?.catch(() => undefined);
      if (first?.outcome === 'done' || first?.outcome === 'already-decided') {
        return { ...first, outcome: 'already-decided' };
      }
      const attempt = gateway.perform(payload, request, proof);
      inFlight.set(request.tokenId, attempt);
      try {
        return await attempt;
      } finally {
        if (inFlight.get(request.tokenId) === attempt) inFlight.delete(request.tokenId);
      }
    },
  };
}

/**
 * Every refusal of a link's action is audited (who, the link channel, the address, the reason),
 * through the helper the CLI uses: the workflow's validator refused, and validators cannot write.
 * A refusal that cannot be recorded is logged; the person still gets their answer.
 */
function auditRefusals(
  gateway: ActionGateway,
  audit: AuditStore | undefined,
  log: (message: string) => void,
): ActionGateway {
  if (!audit) return gateway;
  return {
    describe: (payload, tokenId) => gateway.describe(payload, tokenId),
    async perform(payload, request, proof) {
      const outcome = await gateway.perform(payload, request, proof);
      if (outcome.outcome === 'refused') {
        await recordRefusedAction(audit, {
          workflowId: payload.workflowId,
          action: payload.action,
          by: payload.recipient,
          channel: request.channel ?? 'link',
          ...(request.address ? { address: request.address } : {}),
          reason: outcome.message,
          ...(outcome.code ? { code: outcome.code } : {}),
          at: new Date(),
          ...(request.confirmedSha256 ? { detail: { sha256Given: request.confirmedSha256 } } : {}),
        }).catch((err: unknown) =>
          log(`a refused ${payload.action} on ${payload.workflowId} could not be audited: ${(err as Error).message}`),
        );
      }
      return outcome;
    },
  };
}

export function createTemporalActionGateway(
  client: Client,
  options: { audit?: AuditStore; log?: (message: string) => void } = {},
): ActionGateway {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  return recogniseRepeats(auditRefusals(createGateway(client), options.audit, log));
}

function createGateway(client: Client): ActionGateway {
  return {
    async describe(payload): Promise<ActionView> {
      const view = await readView(client, payload);
      if (!view) return { state: 'no-longer-waiting', currentState: 'no such run (it may have been removed)' };
      const base = { site: view.site, workflowId: view.id, title: titleOf(view, payload) };
      if (isWaitingFor(view, payload)) {
        return {
          state: 'waiting',
          ...base,
          runLabel: `${view.kind} ${view.id}`,
          file: view.bundle?.fileName,
          sha256: view.bundle?.sha256,
          sizeBytes: view.bundle?.size,
          versions: view.bundle?.versions,
          askedBy: view.trigger?.who,
          carriedBy: view.carriers?.join(', ') || undefined,
          instructions: view.waitingFor?.instructions,
          since: view.waitingFor ? Date.parse(view.waitingFor.since) : undefined,
          deadline: view.waitingFor ? Date.parse(view.waitingFor.until) : undefined,
          relays:
            payload.action === 'file-copied'
              ? (view.relays ?? []).map((r) => ({ name: r.name, os: r.os, targetFolder: r.targetFolder }))
              : undefined,
        };
      }
      const earlier = earlierDecision(view, payload);
      if (earlier) return { state: 'already-decided', ...base, ...earlier };
      const reason =
        view.bundle && payload.subject !== view.bundle.sha256 && payload.action !== 'manual-done'
          ? `${view.state} (this link is for another bundle)`
          : view.outcome?.reason
            ? `${view.state}: ${view.outcome.reason}`
            : view.state;
      return { state: 'no-longer-waiting', ...base, currentState: reason };
    },

    async perform(payload, request: PerformRequest, proof?: ProofClaim): Promise<ActionOutcome> {
      // The recipient comes from a signed link, but it becomes the actor in the audit and mails.
      const problem = identityProblem(payload.recipient);
      if (problem)
        return {
          outcome: 'refused',
          code: 'bad-identity',
          message: `this link's recipient is not a plausible identity: ${problem}`,
        };
      // Mails carry no stage links: a stage is confirmed in the web app or with the CLI.
      if (payload.action === 'stage-confirm') {
        return { outcome: 'refused', code: 'not-allowed', message: 'a stage is not confirmed through a mail link' };
      }
      const view = await readView(client, payload);
      if (!view) return { outcome: 'refused', code: 'ended', message: 'this run no longer exists' };
      const bound =
        payload.action === 'manual-done' ||
        (payload.action === 'file-copied' ? view.bundle?.sha256 : approvalSubject(view)) === payload.subject;
      if (!bound)
        return {
          outcome: 'refused',
          code: 'wrong-subject',
          message:
            view.kind === 'cycle'
              ? 'this link is for another bundle than the one this cycle carries'
              : 'this link is for an earlier run',
        };
      // The Update id is the token id, so a repeated click returns the first answer. A question
      // asked again (a copy failed verification) is a new round with its own id, so the same
      // link can report the new copy.
      const round = openAsk(view.asks, asked(payload.action), payload.subject)?.round ?? 0;
      const updateId = round > 0 ? `${request.tokenId}.${round}` : request.tokenId;
      // This link posted again: the run recorded the answer its Update carried.
      const own = (view.answers ?? []).find((a) => a.updateId === updateId);
      if (own) {
        return {
          outcome: 'already-decided',
          message: 'already answered',
          by: own.by,
          at: Date.parse(own.at),
          decision: DECISION[own.action],
        };
      }
      // Answered already by this person or, for a copy or a step, by anyone: say so without
      // asking the run, whose validator would only refuse.
      const answered = isWaitingFor(view, payload) ? undefined : earlierDecision(view, payload);
      if (answered) return { outcome: 'already-decided', message: 'already answered', ...answered };
      const handle = client.workflow.getHandle(payload.workflowId);
      // Who acts is proven (issue 14): a mail link by its own token (the third argument), the
      // waiting page by the token it signed for the signed-in person. The control worker checks it.
      const actor = {
        by: payload.recipient,
        channel: request.channel ?? ('link' as const),
        address: request.address,
        proof,
      };
      const options = { updateId };
      try {
        let answer: ActionAnswer;
        switch (payload.action) {
          case 'file-copied':
            answer = await handle.executeUpdate(fileCopiedUpdate, {
              ...options,
              args: [{ ...actor, sha256: request.confirmedSha256 ?? '' }],
            });
            break;
          case 'approve':
            answer = await handle.executeUpdate(approveUpdate, {
              ...options,
              args: [{ ...actor, comment: request.comment }],
            });
            break;
          case 'reject':
            answer = await handle.executeUpdate(rejectUpdate, {
              ...options,
              args: [{ ...actor, comment: request.comment || 'rejected from the mail link' }],
            });
            break;
          case 'manual-done':
            answer = await handle.executeUpdate(manualStepDoneUpdate, {
              ...options,
              args: [{ ...actor, step: payload.subject, comment: request.comment }],
            });
            break;
        }
        return {
          outcome: 'done',
          message: answer.message,
          by: answer.by,
          at: Date.parse(answer.at),
          decision: DECISION[asked(payload.action)],
        };
      } catch (err) {
        const refusal = err instanceof WorkflowUpdateFailedError ? refusalOf(err) : undefined;
        if (refusal) {
          if (refusal.code === 'already-decided') {
            const earlier = earlierDecision((await readView(client, payload)) ?? view, payload);
            if (earlier) return { outcome: 'already-decided', message: refusal.message, ...earlier };
          }
          return { outcome: 'refused', code: refusal.code, message: refusal.message };
        }
        if (err instanceof WorkflowNotFoundError) {
          return {
            outcome: 'refused',
            code: 'ended' satisfies RefusalCode,
            message: `the run has ended (${view.state})`,
          };
        }
        throw WebError.unavailable(`Temporal did not answer: ${(err as Error).message}`);
      }
    },
  };
}

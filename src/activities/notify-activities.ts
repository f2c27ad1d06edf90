/**
 * Notices to people: one activity call renders every recipient's mail (with that recipient's own
 * signed links, because a link acts in its recipient's name) and hands it to the mailer.
 * Temporal retries the call until SMTP is back; every mail's idempotency key is fixed by the
 * workflow (noticeId), so a retry never sends a second copy through the outbox and gives SMTP
 * copies one Message-ID.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Mailer } from '../adapters/mailer';
import type { LinkKeys } from '../domain/link-token';
import { signLinkToken } from '../domain/link-token';
import { deriveCliCode } from '../domain/cli-code';
import type { MailMessage } from '../domain/mail/message';
import {
  approvalRequestMail,
  escalationMail,
  failureMail,
  manualStepMail,
  plainNoticeMail,
  formatMailTime,
  reminderMail,
  resultMail,
  transferInstructionsMail,
  upgradeStageMail,
  STAGE_STATUSES,
  RUN_OUTCOMES,
  isRunOutcome,
  MailTemplateError,
  type MailRun,
  type RunOutcome,
  type StageStatus,
} from '../domain/mail/templates';
import type { BundleInfo } from '../domain/cycle';
import type { PlainNoticeRequest } from '../domain/mail/notice';
import type { LinkAction, NoticeRequest } from './types';
import type { ManualStepNotice } from '../domain/mail/notice';

/** A final notice's outcome; an unknown one is refused (in the templates' words) rather than mailed as another. */
function runOutcomeOf(purpose: string, outcome: string): RunOutcome {
  if (isRunOutcome(outcome)) return outcome;
  throw new MailTemplateError(`${purpose} mail: "${outcome}" is not an outcome (${RUN_OUTCOMES.join(', ')})`);
}

/** A stage notice's status; an unknown one is refused rather than mailed as another. */
function stageStatusOf(outcome: string | undefined): StageStatus {
  if (outcome === undefined) return 'waiting';
  if ((STAGE_STATUSES as readonly string[]).includes(outcome)) return outcome as StageStatus;
  throw new Error(`"${outcome}" is not a stage status (${STAGE_STATUSES.join(', ')})`);
}

export interface NotifyDeps {
  mailer: Mailer;
  linkKeys: LinkKeys;
  /** Base of the links, e.g. http://127.0.0.1:8080 */
  publicUrl: string;
  linkTtl: number;
  now: () => number;
}

export function createNotifyActivities(deps: NotifyDeps) {
  const linkFor = (n: NoticeRequest, recipient: string, action: LinkAction): string | undefined => {
    const spec = n.links.find((l) => l.action === action);
    if (!spec) return undefined;
    const expiresAt = Math.max(deps.now() + deps.linkTtl, n.deadline ?? 0);
    const token = signLinkToken(
      { workflowId: n.workflowId, action, subject: spec.subject, recipient, expiresAt },
      deps.linkKeys,
    );
    return `${deps.publicUrl.replace(/\/$/, '')}/a/${token}`;
  };

  // The one-time CLI codes of an approval, bound like its links (run, action, subject, recipient, expiry).
  const codesFor = (n: NoticeRequest, recipient: string): { approve: string; reject: string } | undefined => {
    const approve = n.links.find((l) => l.action === 'approve');
    const reject = n.links.find((l) => l.action === 'reject');
    if (!approve || !reject) return undefined;
    const expiresAt = Math.max(deps.now() + deps.linkTtl, n.deadline ?? 0);
    const code = (action: 'approve' | 'reject', subject: string) =>
      deriveCliCode({ workflowId: n.workflowId, action, subject, recipient }, expiresAt, deps.linkKeys);
    return { approve: code('approve', approve.subject), reject: code('reject', reject.subject) };
  };
  /** A rollout stage's approval step (`U2-approval`, `U2-approval-a2`): the CLI confirms it with a code. */
  const stageApprovalLines = (n: ManualStepNotice, recipient: string): string | undefined => {
    const stage = n.runKind === 'upgrade' ? /^(U\d)-approval(-a\d+)?$/.exec(n.step.id)?.[1] : undefined;
    if (!stage) return undefined;
    const expiresAt = Math.max(deps.now() + deps.linkTtl, n.deadline ?? 0);
    const code = deriveCliCode(
      { workflowId: n.workflowId, action: 'stage-confirm', subject: n.step.id, recipient },
      expiresAt,
      deps.linkKeys,
    );
    return [
      'Or from a terminal (the code works once, for you only):',
      `airgap upgrade confirm ${n.workflowId} --stage ${stage} --by ${recipient} --code ${code}`,
    ].join('\n');
  };
  /** A plain notice's approve/reject commands, with the recipient's name and codes in place of `<you>`. */
  const withCodes = (commands: readonly string[] | undefined, recipient: string, n: NoticeRequest) => {
    const codes = codesFor(n, recipient);
    if (!codes || !commands) return commands;
    return commands.map((c) => {
      const verb = / approve /.test(c) ? 'approve' : / reject /.test(c) ? 'reject' : undefined;
      return verb ? c.replace('--by <you>', `--by ${recipient} --code ${codes[verb]}`) : c;
    });
  };

  /** A link the template cannot go without; a notice sent without it is refused, naming it. */
  const requiredLink = (n: NoticeRequest, recipient: string, action: LinkAction): string => {
    const url = linkFor(n, recipient, action);
    if (url === undefined) throw new Error(`a ${n.purpose} notice needs a ${action} link and has none`);
    return url;
  };

  function runOf(n: NoticeRequest): MailRun {
    return {
      siteId: n.site,
      siteName: n.siteName,
      workflowId: n.workflowId,
      kind:
        n.runKind === 'rules'
          ? 'rule transfer'
          : n.runKind === 'harden'
            ? 'hardening'
            : n.runKind === 'upgrade' || n.purpose === 'upgrade-stage'
              ? 'rollout'
              : 'cycle',
      runUrl: `${deps.publicUrl.replace(/\/$/, '')}/runs/${encodeURIComponent(n.workflowId)}`,
    };
  }

  /** A notice of a run kind without templates of its own: one plain mail, or one per recipient with links. */
  function renderPlain(n: PlainNoticeRequest, run: MailRun): MailMessage[] {
    const purpose =
      n.purpose === 'transfer' ? 'transfer-instructions' : n.purpose === 'arrival-problem' ? 'reminder' : n.purpose;
    const notice = n.notice;
    // A result or failure notice that names an outcome is a run's final notice: its subject and
    // first line state the run's own outcome (one the templates do not know is refused there).
    const finalNotice = n.purpose === 'result' || n.purpose === 'failure';
    const plain = (to: string[], actions?: { label: string; url: string }[]) =>
      plainNoticeMail({
        run,
        to,
        purpose,
        discriminator: n.noticeId,
        ask: n.ask,
        ...notice,
        // One recipient per mail when it has links: their approve/reject commands carry their codes.
        commands: to.length === 1 ? withCodes(notice.commands, to[0]!, n) : notice.commands,
        facts: [
          ...(notice.facts ?? []),
          ...(n.deadline !== undefined ? [{ label: 'Deadline', value: formatMailTime(n.deadline) }] : []),
        ],
        actions,
        outcome: finalNotice && n.outcome !== undefined ? runOutcomeOf(purpose, n.outcome) : undefined,
      });
    // Links act in their recipient's name: one mail each when there are links, else one for all.
    if (n.links.length === 0) return [plain(n.to)];
    return n.to.map((recipient) =>
      plain(
        [recipient],
        n.links.map((l) => ({ label: l.label, url: requiredLink(n, recipient, l.action) })),
      ),
    );
  }

  function render(n: NoticeRequest): MailMessage[] {
    const run = runOf(n);
    if (n.notice !== undefined) return renderPlain(n, run);
    const now = deps.now();
    const facts = (bundle: BundleInfo) => ({
      fileName: bundle.fileName,
      sha256: bundle.sha256,
      sizeBytes: bundle.size,
    });
    const each = (make: (recipient: string) => MailMessage) => n.to.map(make);
    switch (n.purpose) {
      case 'transfer':
        return each((recipient) =>
          transferInstructionsMail({
            run,
            recipient,
            fileCopiedUrl: requiredLink(n, recipient, 'file-copied'),
            bundle: facts(n.bundle),
            pickup: n.pickup,
            relays: n.relays,
            deadline: n.deadline,
          }),
        );
      case 'reminder':
      case 'arrival-problem': {
        const details = (n.relays ?? []).flatMap((r) => (r.problem ? [{ label: r.name, value: r.problem }] : []));
        const first = n.links[0];
        return each((recipient) => {
          const url = first && linkFor(n, recipient, first.action);
          return reminderMail({
            run,
            to: [recipient],
            request: n.ask,
            since: n.since ?? now,
            now,
            deadline: n.deadline,
            reminderNumber: n.number ?? 1,
            link: first && url ? { url, label: first.label } : undefined,
            details: details.length ? details : undefined,
          });
        });
      }
      case 'escalation':
        return [
          escalationMail({
            run,
            to: n.to,
            request: n.ask,
            askedOf: n.to,
            since: n.since ?? now,
            now,
            deadline: n.deadline,
            escalationNumber: n.number ?? 1,
          }),
        ];
      case 'approval-request':
        return each((recipient) =>
          approvalRequestMail({
            run,
            recipient,
            approveUrl: requiredLink(n, recipient, 'approve'),
            rejectUrl: requiredLink(n, recipient, 'reject'),
            bundle: facts(n.bundle),
            versions: n.bundle.versions,
            carriedBy: n.askedBy ?? 'unknown',
            deadline: n.deadline,
            policy: n.policy,
            codes: codesFor(n, recipient),
          }),
        );
      case 'manual-step':
        return each((recipient) =>
          manualStepMail({
            run,
            recipient,
            doneUrl: requiredLink(n, recipient, 'manual-done'),
            step: n.step,
            deadline: n.deadline,
            cliLines: stageApprovalLines(n, recipient),
          }),
        );
      case 'result':
        return [
          resultMail({
            run,
            to: n.to,
            outcome: runOutcomeOf('result', n.outcome),
            at: now,
            reason: n.body,
            bundle: n.bundle && facts(n.bundle),
            versions: n.bundle?.versions,
          }),
        ];
      case 'failure':
        return [
          failureMail({
            run,
            to: n.to,
            reason: n.body ?? 'unknown failure',
            operatorCanDo: [
              'Read the cycle timeline in the web app or with `airgap cycle status`.',
              'The DMZ bundle and any verified copies were kept: fix the cause, then start a new cycle.',
            ],
            at: now,
            failureKey: n.noticeId,
          }),
        ];
      case 'upgrade-stage':
        return [
          upgradeStageMail({
            run,
            to: n.to,
            stage: { id: n.step.id, name: n.step.title },
            status: stageStatusOf(n.outcome),
            at: now,
            detail: n.body,
          }),
        ];
    }
  }

  return {
    async notify(n: NoticeRequest): Promise<{ sent: number; duplicates: number }> {
      let messages: MailMessage[];
      try {
        messages = render(n);
      } catch (err) {
        // A notice that cannot be rendered will not render on a retry either.
        throw ApplicationFailure.nonRetryable(
          `cannot render ${n.purpose} mail: ${(err as Error).message}`,
          'MailRenderError',
        );
      }
      let sent = 0;
      let duplicates = 0;
      for (const message of messages) {
        message.idempotencyKey = `${n.workflowId}/${n.noticeId}/${message.to.join(',').toLowerCase()}`;
        let result;
        try {
          result = await deps.mailer.send(message);
        } catch (err) {
          // A refused recipient or bad credentials will be refused again: fail now, say why.
          if ((err as { retryable?: boolean }).retryable === false) {
            throw ApplicationFailure.nonRetryable((err as Error).message, (err as Error).name);
          }
          throw err;
        }
        if (result.duplicate) duplicates++;
        else sent++;
      }
      return { sent, duplicates };
    },
  };
}

/**
 * A mail as the workflows hand it to the mail activity: already rendered (text and HTML), already
 * addressed, and carrying the key that makes sending it twice harmless. Sending happens in an
 * activity that Temporal retries, so the same message may reach `Mailer.send` more than once; the
 * transport uses `idempotencyKey` to store it once (outbox) or to give every copy the same
 * Message-ID (SMTP), which receiving systems use to drop duplicates.
 */
import { createHash } from 'node:crypto';

export const MAIL_PURPOSES = [
  'transfer-instructions',
  'reminder',
  'escalation',
  'approval-request',
  'result',
  'failure',
  'manual-step',
  'upgrade-stage',
] as const;
export type MailPurpose = (typeof MAIL_PURPOSES)[number];

export interface MailMessage {
  to: string[];
  subject: string;
  text: string;
  html: string;
  purpose: MailPurpose;
  /** The site id, for filtering the outbox and the audit. */
  site: string;
  workflowId: string;
  /** Same key = same mail: derived from the workflow, the purpose, what distinguishes repeats, and the recipients. */
  idempotencyKey: string;
}

/**
 * One line of "what versions" in a mail or on a page: a component, its version and the one it
 * replaces. The manager-side ComponentVersion (src/domain/cycle.ts) fits it as is.
 */
export interface VersionLine {
  name: string;
  version: string;
  /** The version it replaces, when known. */
  previous?: string | undefined;
}

/**
 * The idempotency key of a mail: readable (it is shown in the outbox) and stable across retries.
 * `discriminator` tells repeats of one purpose apart (reminder 3, step "import", stage "canary").
 */
export function mailIdempotencyKey(parts: {
  workflowId: string;
  purpose: MailPurpose;
  discriminator?: string | number | undefined;
  to: readonly string[];
}): string {
  const to = [...parts.to].map((a) => a.toLowerCase()).sort();
  const head = [
    parts.workflowId,
    parts.purpose,
    ...(parts.discriminator === undefined ? [] : [String(parts.discriminator)]),
  ];
  return `${head.join('/')}/${to.join(',')}`;
}

/** The address part of "Name <addr@host>" or of a bare address. */
export function addressOf(mailbox: string): string {
  const m = /<([^<>]+)>\s*$/.exec(mailbox);
  return (m ? m[1]! : mailbox).trim();
}

/**
 * The Message-ID every copy of a mail carries: a hash of the idempotency key at the sender's
 * domain, so it is the same for every retry and reveals nothing about the run.
 */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = addressOf(from).split('@')[1] || 'airgap-orchestrator.invalid';
  const hash = createHash('sha256').update(idempotencyKey, 'utf8').digest('hex').slice(0, 40);
  return `<airgap.${hash}@${domain}>`;
}

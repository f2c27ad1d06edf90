/**
 * The boundary every mail goes through. `send` is called from an activity that Temporal retries,
 * so it must be safe to call twice with the same message: transports dedupe on the message's
 * idempotency key where they can (the outbox stores it once; SMTP gives every copy the same
 * Message-ID so receiving systems can drop the copy).
 */
import type { MailMessage } from '../domain/mail/message';
import { InvalidMailMessageError } from './mail-errors';

export interface SendResult {
  /** The Message-ID the mail carries (same for every retry of one idempotency key). */
  messageId: string;
  /** True when this transport already had this idempotency key and did not send again. */
  duplicate: boolean;
  /** Recipients the server refused while accepting the others (SMTP only). */
  rejected?: string[];
}

export interface Mailer {
  /** Throws a MailSendError; its `retryable` says whether trying again can help. */
  send(msg: MailMessage): Promise<SendResult>;
  close(): Promise<void>;
}

const ADDRESS = /^[^\s@<>,;]+@[^\s@<>,;]+$/;

/** Refuses a message no transport should send: no key, no recipient, a malformed address. */
export function checkMailMessage(msg: MailMessage): void {
  const key = msg.idempotencyKey;
  if (typeof key !== 'string' || key.trim() === '') {
    throw new InvalidMailMessageError('mail has no idempotencyKey; retries could send it twice', String(key));
  }
  if (!Array.isArray(msg.to) || msg.to.length === 0) {
    throw new InvalidMailMessageError(`mail ${key} has no recipient`, key);
  }
  for (const a of msg.to) {
    if (!ADDRESS.test(a)) throw new InvalidMailMessageError(`mail ${key}: "${a}" is not an email address`, key);
  }
  if (/[\r\n]/.test(msg.subject)) throw new InvalidMailMessageError(`mail ${key}: the subject has a line break`, key);
}

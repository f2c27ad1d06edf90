/**
 * How sending a mail can fail, one class per kind. The mail activity turns `retryable: false`
 * into a non-retryable Temporal failure and lets Temporal retry the rest; every class keeps the
 * transport's error in `cause` and names the mail's idempotency key.
 */

/** Base of the errors `Mailer.send` throws. */
export abstract class MailSendError extends Error {
  abstract readonly retryable: boolean;
  constructor(
    message: string,
    readonly idempotencyKey: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Thrown when the mail server cannot take the mail now: unreachable, timed out, TLS handshake
 * failed, or it answered with a temporary (4xx) code. Retrying later may succeed.
 */
export class MailUnavailableError extends MailSendError {
  readonly retryable = true;
  constructor(message: string, idempotencyKey: string, options?: { cause?: unknown }) {
    super(message, idempotencyKey, options);
    this.name = 'MailUnavailableError';
  }
}

/** Thrown when the server refused every recipient permanently (5xx): the addresses need fixing. */
export class MailRecipientsRejectedError extends MailSendError {
  readonly retryable = false;
  constructor(
    message: string,
    idempotencyKey: string,
    readonly rejected: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, idempotencyKey, options);
    this.name = 'MailRecipientsRejectedError';
  }
}

/** Thrown when the server refused the credentials or requires ones that are not configured. */
export class MailAuthError extends MailSendError {
  readonly retryable = false;
  constructor(message: string, idempotencyKey: string, options?: { cause?: unknown }) {
    super(message, idempotencyKey, options);
    this.name = 'MailAuthError';
  }
}

/** Thrown when the server refused the sender or the message itself permanently (5xx: policy, size). */
export class MailRejectedError extends MailSendError {
  readonly retryable = false;
  constructor(message: string, idempotencyKey: string, options?: { cause?: unknown }) {
    super(message, idempotencyKey, options);
    this.name = 'MailRejectedError';
  }
}

/** Thrown before sending when a MailMessage is incomplete (no recipient, no key): a bug in the caller. */
export class InvalidMailMessageError extends MailSendError {
  readonly retryable = false;
  constructor(message: string, idempotencyKey: string) {
    super(message, idempotencyKey);
    this.name = 'InvalidMailMessageError';
  }
}

/** Thrown by createMailer when the mail configuration cannot work: names the setting or variable. */
export class MailConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MailConfigError';
  }
}

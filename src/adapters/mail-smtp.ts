/**
 * Mail through an SMTP relay (nodemailer). SMTP has no idempotency of its own, so every copy of a
 * mail carries the Message-ID derived from its idempotency key (receivers and archives dedupe on
 * it), and keys this process has already delivered are answered from memory without a new send.
 *
 * Failures are classified once here: unreachable, timed out or 4xx → MailUnavailableError (the
 * activity retries); refused credentials → MailAuthError; every recipient refused (5xx) →
 * MailRecipientsRejectedError; sender or message refused (5xx) → MailRejectedError.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { messageIdFor, type MailMessage } from '../domain/mail/message';
import {
  MailAuthError,
  MailRecipientsRejectedError,
  MailRejectedError,
  MailUnavailableError,
  type MailSendError,
} from './mail-errors';
import { checkMailMessage, type Mailer, type SendResult } from './mail-transport';

export interface SmtpMailerOptions {
  host: string;
  port: number;
  /** true: TLS from the first byte (port 465); false: plain, upgraded with STARTTLS when offered. */
  secure: boolean;
  auth?: { user: string; pass: string } | undefined;
  /** PEM of the CA that signed the server's certificate, when it is not a public one. */
  ca?: string | Buffer | undefined;
  /** "Name <address>" the mails come from. */
  from: string;
  /** Refuse to send without TLS; defaults to true when credentials are configured (never send them in clear). */
  requireTls?: boolean | undefined;
  /** Certificate name to check when `host` is an IP address. */
  tlsServerName?: string | undefined;
  connectionTimeoutMs?: number | undefined;
  socketTimeoutMs?: number | undefined;
  /** How many delivered idempotency keys to remember in this process. */
  rememberDelivered?: number | undefined;
}

interface NodemailerError extends Error {
  code?: string;
  /** The system or TLS code nodemailer replaced with its own (ESOCKET…). */
  originalCode?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  permanent?: boolean;
  rejected?: Array<string | { address: string }>;
}

const AUTH_CODES = new Set([530, 534, 535, 538]);

function addresses(list: ReadonlyArray<string | { address: string }> | undefined): string[] {
  return (list ?? []).map((a) => (typeof a === 'string' ? a : a.address));
}

/** Maps a nodemailer error to the MailSendError that says what happened and whether to retry. */
export function classifySmtpError(err: unknown, msg: MailMessage, server: string): MailSendError {
  const e = (err ?? {}) as NodemailerError;
  const key = msg.idempotencyKey;
  const reply = e.response ? ` (server said: ${e.response})` : '';
  const code = e.responseCode;
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH' || (code !== undefined && AUTH_CODES.has(code))) {
    return new MailAuthError(
      `SMTP server ${server} refused the credentials for mail ${key}${reply}; check the user and password variables`,
      key,
      { cause: err },
    );
  }
  const certificateProblem = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(e.originalCode ?? '');
  if (e.code === 'ETLS' || e.command === 'STARTTLS' || certificateProblem) {
    // A certificate the configured CA does not vouch for, or a server without STARTTLS while
    // credentials are configured (they are never sent in clear). Retryable: fixing the server or
    // the config lets the waiting activity through without restarting the run.
    return new MailUnavailableError(
      `SMTP server ${server}: TLS failed for mail ${key}: ${e.message ?? String(err)}; check mail.smtp.secure, mail.smtp.caFile and the server's TLS setup`,
      key,
      { cause: err },
    );
  }
  const permanent = e.permanent ?? (code !== undefined && code >= 500 && code < 600 && code !== 503);
  if (permanent && e.command === 'RCPT TO') {
    const rejected = addresses(e.rejected);
    return new MailRecipientsRejectedError(
      `SMTP server ${server} refused every recipient of mail ${key} (${rejected.join(', ') || msg.to.join(', ')})${reply}`,
      key,
      rejected.length > 0 ? rejected : msg.to,
      { cause: err },
    );
  }
  if (permanent) {
    const what = e.command === 'MAIL FROM' ? 'the sender' : 'the message';
    return new MailRejectedError(`SMTP server ${server} refused ${what} of mail ${key}${reply}`, key, {
      cause: err,
    });
  }
  const why = code !== undefined ? 'answered with a temporary error' : 'unreachable';
  return new MailUnavailableError(
    `SMTP server ${server} ${why} for mail ${key}: ${e.message ?? String(err)}${e.response && !e.message?.includes(e.response) ? reply : ''}`,
    key,
    { cause: err },
  );
}

export class SmtpMailer implements Mailer {
  readonly kind = 'smtp' as const;
  private readonly transport: Transporter<SMTPTransport.SentMessageInfo>;
  private readonly delivered = new Map<string, string>();
  private readonly remember: number;
  private readonly server: string;

  constructor(private readonly options: SmtpMailerOptions) {
    this.server = `${options.host}:${options.port}`;
    this.remember = options.rememberDelivered ?? 10_000;
    this.transport = nodemailer.createTransport({
      host: options.host,
      port: options.port,
      secure: options.secure,
      auth: options.auth,
      requireTLS: options.requireTls ?? (options.auth !== undefined && !options.secure),
      tls: {
        minVersion: 'TLSv1.2',
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.tlsServerName ? { servername: options.tlsServerName } : {}),
      },
      connectionTimeout: options.connectionTimeoutMs ?? 10_000,
      greetingTimeout: options.connectionTimeoutMs ?? 10_000,
      socketTimeout: options.socketTimeoutMs ?? 60_000,
      // The mail content is ours, but a path or URL in it must never be read by the transport.
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async send(msg: MailMessage): Promise<SendResult> {
    checkMailMessage(msg);
    const messageId = messageIdFor(msg.idempotencyKey, this.options.from);
    if (this.delivered.has(msg.idempotencyKey)) return { messageId, duplicate: true };
    let info: SMTPTransport.SentMessageInfo;
    try {
      info = await this.transport.sendMail({
        from: this.options.from,
        to: msg.to,
        subject: msg.subject,
        text: msg.text,
        html: msg.html,
        messageId,
        headers: {
          // RFC 3834: no vacation replies or other auto-answers to these mails.
          'Auto-Submitted': 'auto-generated',
          'X-Airgap-Site': msg.site,
          'X-Airgap-Workflow-Id': msg.workflowId,
          'X-Airgap-Purpose': msg.purpose,
        },
      });
    } catch (err) {
      throw classifySmtpError(err, msg, this.server);
    }
    this.delivered.set(msg.idempotencyKey, messageId);
    if (this.delivered.size > this.remember) this.delivered.delete(this.delivered.keys().next().value!);
    const rejected = addresses(info.rejected as Array<string | { address: string }>);
    return rejected.length > 0 ? { messageId, duplicate: false, rejected } : { messageId, duplicate: false };
  }

  /** Connects and authenticates without sending: for `airgap doctor`-style checks. */
  async verify(): Promise<void> {
    try {
      await this.transport.verify();
    } catch (err) {
      const probe = { idempotencyKey: '(connection check)', to: [] } as unknown as MailMessage;
      throw classifySmtpError(err, probe, this.server);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

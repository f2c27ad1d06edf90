/**
 * The mail boundary: `Mailer` and the choice of transport. With an `smtp` block in the config,
 * mail goes to that server; without one (the embedded default) it goes to the outbox the web app
 * shows. Its credentials come resolved (runtime/secrets.ts reads them at start).
 */
import fs from 'node:fs';
import type { AppConfig } from '../domain/config';
import { MailConfigError } from './mail-errors';
import { SmtpMailer, type SmtpMailerOptions } from './mail-smtp';
import { OutboxMailer } from './outbox';

export type { Mailer, SendResult } from './mail-transport';
export { SmtpMailer, type SmtpMailerOptions } from './mail-smtp';
export { OutboxMailer, type OutboxEntry, type OutboxFilter, type OutboxReader, type OutboxSummary } from './outbox';
export * from './mail-errors';

/** The transport createMailer chose; the outbox one also serves the web app's outbox pages. */
export type ConfiguredMailer = SmtpMailer | OutboxMailer;

/** The SmtpMailer options a config's `mail.smtp` block means, credentials and CA included. */
export function smtpOptionsFrom(
  mail: AppConfig['mail'],
  auth: { user: string; pass: string } | undefined,
): SmtpMailerOptions {
  const smtp = mail.smtp;
  if (!smtp) throw new MailConfigError('mail.smtp is not configured');
  if (smtp.userEnv && !auth) {
    throw new MailConfigError(`mail.smtp.userEnv names ${smtp.userEnv}, but its login was not resolved at start`);
  }
  let ca: Buffer | undefined;
  if (smtp.caFile) {
    try {
      ca = fs.readFileSync(smtp.caFile);
    } catch (err) {
      throw new MailConfigError(`mail.smtp.caFile ${smtp.caFile} cannot be read: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  return { host: smtp.host, port: smtp.port, secure: smtp.secure, auth, ca, from: mail.from };
}

/**
 * SMTP when `mail.smtp` is configured, else the outbox in `<dataDir>/outbox.sqlite`. `smtpAuth` is
 * the login `mail.smtp.userEnv`/`passwordEnv` name, resolved at start (smtpAuthFromEnv).
 */
export function createMailer(
  config: Pick<AppConfig, 'mail' | 'dataDir'>,
  smtpAuth: { user: string; pass: string } | undefined,
  options: { now?: () => number } = {},
): ConfiguredMailer {
  if (config.mail.smtp) return new SmtpMailer(smtpOptionsFrom(config.mail, smtpAuth));
  return OutboxMailer.inDataDir(config.dataDir, config.mail.from, options.now);
}

/**
 * The mail boundary: `Mailer` and the choice of transport. With an `smtp` block in the config,
 * mail goes to that server; without one (the embedded default) it goes to the outbox the web app
 * shows. Credentials are read here, from the environment variables the config names.
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

function secretFrom(env: Readonly<Record<string, string | undefined>>, name: string, setting: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new MailConfigError(`mail.smtp.${setting} names ${name}, but ${name} is unset in the environment`);
  }
  return value;
}

/** The SmtpMailer options a config's `mail.smtp` block means, credentials and CA included. */
export function smtpOptionsFrom(
  mail: AppConfig['mail'],
  env: Readonly<Record<string, string | undefined>>,
): SmtpMailerOptions {
  const smtp = mail.smtp;
  if (!smtp) throw new MailConfigError('mail.smtp is not configured');
  if ((smtp.userEnv === undefined) !== (smtp.passwordEnv === undefined)) {
    throw new MailConfigError('mail.smtp.userEnv and mail.smtp.passwordEnv go together: set both or neither');
  }
  const auth =
    smtp.userEnv && smtp.passwordEnv
      ? { user: secretFrom(env, smtp.userEnv, 'userEnv'), pass: secretFrom(env, smtp.passwordEnv, 'passwordEnv') }
      : undefined;
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

/** SMTP when `mail.smtp` is configured, else the outbox in `<dataDir>/outbox.sqlite`. */
export function createMailer(
  config: Pick<AppConfig, 'mail' | 'dataDir'>,
  env: Readonly<Record<string, string | undefined>>,
  options: { now?: () => number } = {},
): ConfiguredMailer {
  if (config.mail.smtp) return new SmtpMailer(smtpOptionsFrom(config.mail, env));
  return OutboxMailer.inDataDir(config.dataDir, config.mail.from, options.now);
}

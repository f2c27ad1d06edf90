/**
 * SmtpMailer against a real SMTP server (smtp-server) on a free loopback port; the received mail
 * is parsed with mailparser and its link followed into the web app.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import {
  MailAuthError,
  MailRecipientsRejectedError,
  MailUnavailableError,
  SmtpMailer,
  type SmtpMailerOptions,
} from '../../src/adapters/mailer';
import { actionLinkUrl, signLinkToken } from '../../src/domain/link-token';
import { messageIdFor, type MailMessage } from '../../src/domain/mail/message';
import { resultMail, transferInstructionsMail } from '../../src/domain/mail/templates';
import { createApp } from '../../src/web/app';
import { noAuth } from '../../src/web/auth';
import { CookieJar, csrfFieldOf, form, KEYS, NOW, payloadFor, RecordingGateway, SHA } from '../web/support';

const FROM = 'airgap <airgap@demo.example>';

interface Received {
  envelopeTo: string[];
  mail: ParsedMail;
}

interface TestSmtp {
  port: number;
  received: Received[];
  close(): Promise<void>;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

async function startSmtp(options: Partial<SMTPServerOptions> = {}): Promise<TestSmtp> {
  const received: Received[] = [];
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          received.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), mail });
          callback();
        })
        .catch(callback);
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as net.AddressInfo).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function mailerFor(port: number, extra: Partial<SmtpMailerOptions> = {}): SmtpMailer {
  return new SmtpMailer({ host: '127.0.0.1', port, secure: false, from: FROM, connectionTimeoutMs: 3000, ...extra });
}

function result(to: string[] = ['op@demo.example']): MailMessage {
  return resultMail({
    run: { siteId: 'demo', workflowId: 'cycle-a', kind: 'cycle' },
    to,
    outcome: 'completed',
    at: NOW,
  });
}

/** A port nothing listens on: bind, note it, close. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('SmtpMailer with a real SMTP server', () => {
  let smtp: TestSmtp;
  afterEach(async () => smtp?.close());

  it('delivers text and HTML with the Message-ID derived from the idempotency key, and the link leads to the web app', async () => {
    smtp = await startSmtp();
    const gateway = new RecordingGateway();
    const app = createApp({ actions: gateway, keys: KEYS, auth: noAuth(), now: () => NOW });
    const token = signLinkToken(payloadFor('file-copied'), KEYS);
    const mail = transferInstructionsMail({
      run: { siteId: 'demo', workflowId: 'cycle-demo-2026-11-25T06:00', runId: 'demo-2026-11-25T06:00', kind: 'cycle' },
      recipient: 'operator@demo.example',
      fileCopiedUrl: actionLinkUrl('http://airgap.demo.example:8080', token),
      bundle: { fileName: 'ds-updates-20261125.zip', sha256: SHA, sizeBytes: 1234 },
      relays: [{ name: 'demo-airgap-relay', os: 'linux', targetFolder: '/opt/ds_agent/relay' }],
    });
    const mailer = mailerFor(smtp.port);
    const sent = await mailer.send(mail);
    await mailer.close();

    expect(sent).toEqual({ messageId: messageIdFor(mail.idempotencyKey, FROM), duplicate: false });
    expect(smtp.received).toHaveLength(1);
    const got = smtp.received[0]!;
    expect(got.envelopeTo).toEqual(['operator@demo.example']);
    expect(got.mail.subject).toBe(
      '[airgap demo] cycle demo-2026-11-25T06:00 — copy the bundle to the air-gapped relay',
    );
    expect(got.mail.messageId).toBe(sent.messageId);
    expect(got.mail.from?.value).toEqual([{ name: 'airgap', address: 'airgap@demo.example' }]);
    expect(got.mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(got.mail.headers.get('x-airgap-workflow-id')).toBe('cycle-demo-2026-11-25T06:00');
    expect(got.mail.text).toContain(SHA);
    expect(got.mail.html).toContain(SHA);

    // Follow the link as the recipient would: from the text body, then from the HTML body.
    const textLink = /http:\/\/airgap\.demo\.example:8080\/a\/[A-Za-z0-9_.-]+/.exec(got.mail.text ?? '')?.[0];
    const htmlLink = /href="(http:\/\/airgap\.demo\.example:8080\/a\/[^"]+)"/.exec(got.mail.html || '')?.[1];
    expect(textLink).toBe(actionLinkUrl('http://airgap.demo.example:8080', token));
    expect(htmlLink).toBe(textLink);
    const linkPath = new URL(textLink!).pathname;
    const jar = new CookieJar();
    const page = await app.request(linkPath);
    jar.store(page);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('Confirm the file is copied');
    expect(gateway.performs).toHaveLength(0);
    const f = form({ csrf: csrfFieldOf(html), sha256: SHA });
    const done = await app.request(linkPath, {
      method: 'POST',
      body: f.body,
      headers: { ...f.headers, cookie: jar.header(linkPath) },
    });
    expect(await done.text()).toContain('<h1>Done</h1>');
    expect(gateway.performs).toHaveLength(1);
    expect(gateway.performs[0]!.request.confirmedSha256).toBe(SHA);
  });

  it('does not send again a mail it already delivered, and a second mailer (another worker) sends it with the same Message-ID', async () => {
    smtp = await startSmtp();
    const mail = result();
    const worker1 = mailerFor(smtp.port);
    const first = await worker1.send(mail);
    const retry = await worker1.send(mail);
    expect(retry).toEqual({ messageId: first.messageId, duplicate: true });
    expect(smtp.received).toHaveLength(1);
    const worker2 = mailerFor(smtp.port);
    await worker2.send(mail);
    expect(smtp.received.map((r) => r.mail.messageId)).toEqual([first.messageId, first.messageId]);
    await worker1.close();
    await worker2.close();
  });

  it('throws a retryable MailUnavailableError when the server is down', async () => {
    const mailer = mailerFor(await closedPort());
    const error = await mailer.send(result()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailUnavailableError);
    expect(error).toMatchObject({ retryable: true, idempotencyKey: result().idempotencyKey });
    expect((error as Error).message).toMatch(/SMTP server 127\.0\.0\.1:\d+ unreachable/);
    expect((error as Error).cause).toBeDefined();
    await mailer.close();
  });

  it('throws a retryable MailUnavailableError when the server defers (4xx)', async () => {
    smtp = await startSmtp({
      onRcptTo: (_address, _session, callback) => callback(smtpError(451, 'greylisted, try again later')),
    });
    const mailer = mailerFor(smtp.port);
    await expect(mailer.send(result())).rejects.toMatchObject({ name: 'MailUnavailableError', retryable: true });
    await mailer.close();
  });

  it('throws a non-retryable MailRecipientsRejectedError naming the refused addresses', async () => {
    smtp = await startSmtp({
      onRcptTo: (address, _session, callback) =>
        callback(address.address.endsWith('@gone.example') ? smtpError(550, 'no such user') : null),
    });
    const mailer = mailerFor(smtp.port);
    const error = await mailer.send(result(['old@gone.example'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailRecipientsRejectedError);
    expect(error).toMatchObject({ retryable: false, rejected: ['old@gone.example'] });

    const partial = await mailer.send(result(['old@gone.example', 'op@demo.example']));
    expect(partial.rejected).toEqual(['old@gone.example']);
    expect(smtp.received.map((r) => r.envelopeTo)).toEqual([['op@demo.example']]);
    await mailer.close();
  });

  describe('with TLS and credentials', () => {
    let dir: string;
    let cert: Buffer;
    let key: Buffer;
    const hasOpenssl = (() => {
      try {
        execFileSync('openssl', ['version'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    const tlsIt = hasOpenssl ? it : it.skip;

    beforeAll(() => {
      if (!hasOpenssl) return;
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-smtp-tls-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=IP:127.0.0.1,DNS:localhost',
          '-keyout',
          path.join(dir, 'key.pem'),
          '-out',
          path.join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      cert = fs.readFileSync(path.join(dir, 'cert.pem'));
      key = fs.readFileSync(path.join(dir, 'key.pem'));
    });
    afterAll(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    const authServer = () =>
      startSmtp({
        disabledCommands: [],
        authOptional: false,
        key,
        cert,
        onAuth: (auth, _session, callback) =>
          auth.username === 'airgap' && auth.password === 'right-password'
            ? callback(null, { user: 'airgap' })
            : callback(smtpError(535, 'authentication failed')),
      });

    tlsIt('authenticates over STARTTLS, trusting the configured CA', async () => {
      smtp = await authServer();
      const mailer = mailerFor(smtp.port, { auth: { user: 'airgap', pass: 'right-password' }, ca: cert });
      await mailer.send(result());
      expect(smtp.received).toHaveLength(1);
      await mailer.close();
    });

    tlsIt('throws a non-retryable MailAuthError for a wrong password', async () => {
      smtp = await authServer();
      const mailer = mailerFor(smtp.port, { auth: { user: 'airgap', pass: 'wrong' }, ca: cert });
      const error = await mailer.send(result()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MailAuthError);
      expect(error).toMatchObject({ retryable: false });
      expect(smtp.received).toHaveLength(0);
      await mailer.close();
    });

    tlsIt('refuses to send credentials to a server whose certificate it cannot verify', async () => {
      smtp = await authServer();
      const mailer = mailerFor(smtp.port, { auth: { user: 'airgap', pass: 'right-password' } });
      const error = await mailer.send(result()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MailUnavailableError);
      expect((error as Error).message).toMatch(/TLS failed.*certificate/);
      expect(smtp.received).toHaveLength(0);
      await mailer.close();
    });

    it('refuses to send credentials over a connection without TLS', async () => {
      smtp = await startSmtp({
        disabledCommands: ['STARTTLS'],
        allowInsecureAuth: true,
        onAuth: (_a, _s, cb) => cb(null, { user: 'x' }),
      });
      const mailer = mailerFor(smtp.port, { auth: { user: 'airgap', pass: 'right-password' } });
      const error = await mailer.send(result()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MailUnavailableError);
      expect((error as Error).message).toMatch(/TLS failed/);
      expect(smtp.received).toHaveLength(0);
      await mailer.close();
    });
  });
});

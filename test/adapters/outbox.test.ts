import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  createMailer,
  InvalidMailMessageError,
  MailConfigError,
  OutboxMailer,
  SmtpMailer,
} from '../../src/adapters/mailer';
import { messageIdFor } from '../../src/domain/mail/message';
import { smtpAuthFromEnv } from '../../src/runtime/secrets';
import { resultMail } from '../../src/domain/mail/templates';

const NOW = Date.UTC(2026, 10, 25, 10, 0);
const FROM = 'airgap <airgap@demo.example>';

function result(workflowId: string, outcome: 'completed' | 'expired' = 'completed', site = 'demo') {
  return resultMail({ run: { siteId: site, workflowId, kind: 'cycle' }, to: ['op@demo.example'], outcome, at: NOW });
}

describe('the outbox', () => {
  let dir: string;
  let outbox: OutboxMailer;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-outbox-'));
    outbox = OutboxMailer.inDataDir(path.join(dir, 'data'), FROM, () => NOW);
  });
  afterEach(async () => {
    await outbox.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores a mail once however often it is sent, answering retries with the first Message-ID', async () => {
    const mail = result('cycle-a');
    const first = await outbox.send(mail);
    const retries = await Promise.all([outbox.send(mail), outbox.send({ ...mail, text: 'changed on retry' })]);
    expect(first).toEqual({ messageId: messageIdFor(mail.idempotencyKey, FROM), duplicate: false });
    for (const r of retries) expect(r).toEqual({ messageId: first.messageId, duplicate: true });
    expect(outbox.countByKey(mail.idempotencyKey)).toBe(1);
    const stored = await outbox.get((await outbox.list())[0]!.id);
    expect(stored?.text).toBe(mail.text);
  });

  it('stores different mails of one run separately', async () => {
    await outbox.send(result('cycle-a', 'completed'));
    await outbox.send(result('cycle-a', 'expired'));
    expect(await outbox.list()).toHaveLength(2);
  });

  it('lists newest first, filtered by site and workflow, a page at a time', async () => {
    for (let i = 1; i <= 5; i++) await outbox.send(result(`cycle-${i}`, 'completed', i % 2 === 0 ? 'east' : 'west'));
    const all = await outbox.list();
    expect(all.map((m) => m.workflowId)).toEqual(['cycle-5', 'cycle-4', 'cycle-3', 'cycle-2', 'cycle-1']);
    expect((await outbox.list({ site: 'east' })).map((m) => m.workflowId)).toEqual(['cycle-4', 'cycle-2']);
    expect((await outbox.list({ workflowId: 'cycle-3' })).map((m) => m.site)).toEqual(['west']);
    const page = await outbox.list({ limit: 2, beforeId: all[1]!.id });
    expect(page.map((m) => m.workflowId)).toEqual(['cycle-3', 'cycle-2']);
    expect(all[0]).toMatchObject({ to: ['op@demo.example'], purpose: 'result', createdAt: NOW });
    expect(await outbox.get(9999)).toBeUndefined();
  });

  it('keeps mails across restarts in <dataDir>/outbox.sqlite, in WAL mode, readable through a read-only connection', async () => {
    const mail = result('cycle-a');
    await outbox.send(mail);
    await outbox.close();
    const file = path.join(dir, 'data', 'outbox.sqlite');
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    outbox = OutboxMailer.inDataDir(path.join(dir, 'data'), FROM, () => NOW);
    expect((await outbox.send(mail)).duplicate).toBe(true);
    const reader = new OutboxMailer({ file, from: FROM, readonly: true });
    expect((await reader.list()).map((m) => m.idempotencyKey)).toEqual([mail.idempotencyKey]);
    await reader.close();
  });

  it('refuses a mail without a key or recipient as a caller bug, not retryable', async () => {
    const mail = result('cycle-a');
    await expect(outbox.send({ ...mail, idempotencyKey: ' ' })).rejects.toThrow(InvalidMailMessageError);
    await expect(outbox.send({ ...mail, to: [] })).rejects.toMatchObject({ retryable: false });
    await expect(outbox.send({ ...mail, to: ['a@b.example, c@d.example'] })).rejects.toThrow(/not an email address/);
    expect(await outbox.list()).toHaveLength(0);
  });
});

describe('createMailer', () => {
  // The login is resolved at start (runtime/secrets.ts), then handed to createMailer.
  const mailerFor = (config: Parameters<typeof createMailer>[0], env: Record<string, string>) =>
    createMailer(config, smtpAuthFromEnv(config.mail.smtp, env));

  it('uses the outbox in the data dir when no SMTP server is configured', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-mailer-'));
    const mailer = mailerFor({ dataDir: dir, mail: { from: FROM } }, {});
    expect(mailer).toBeInstanceOf(OutboxMailer);
    await mailer.send(result('cycle-a'));
    await mailer.close();
    expect(fs.existsSync(path.join(dir, 'outbox.sqlite'))).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('uses SMTP when configured and names the unset credential variable', async () => {
    const smtp = { host: '127.0.0.1', port: 2525, secure: false, userEnv: 'SMTP_USER', passwordEnv: 'SMTP_PASS' };
    const mailer = mailerFor(
      { dataDir: '/nonexistent', mail: { from: FROM, smtp } },
      { SMTP_USER: 'u', SMTP_PASS: 'p' },
    );
    expect(mailer).toBeInstanceOf(SmtpMailer);
    await mailer.close();
    expect(() => mailerFor({ dataDir: '/x', mail: { from: FROM, smtp } }, { SMTP_USER: 'u' })).toThrow(
      'mail.smtp.passwordEnv names SMTP_PASS, but SMTP_PASS is unset in the environment',
    );
    expect(() =>
      mailerFor({ dataDir: '/x', mail: { from: FROM, smtp: { ...smtp, passwordEnv: undefined } } }, {}),
    ).toThrow(MailConfigError);
    expect(() =>
      mailerFor(
        { dataDir: '/x', mail: { from: FROM, smtp: { ...smtp, caFile: '/no/such/ca.pem' } } },
        {
          SMTP_USER: 'u',
          SMTP_PASS: 'p',
        },
      ),
    ).toThrow(/mail.smtp.caFile \/no\/such\/ca.pem cannot be read/);
  });
});

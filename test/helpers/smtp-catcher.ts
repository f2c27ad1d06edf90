/**
 * A real SMTP server (smtp-server) on a free loopback port that keeps what it receives, parsed by
 * mailparser. It can be stopped and started again on the same port, to play an SMTP relay that
 * goes down and comes back.
 */
import type net from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  envelopeTo: string[];
  mail: ParsedMail;
  /** The X-Airgap-Purpose header: "transfer-instructions", "approval-request", … */
  purpose: string;
  /** The X-Airgap-Workflow-Id header. */
  workflowId: string;
}

export interface SmtpCatcher {
  readonly port: number;
  readonly received: CaughtMail[];
  /** Whether the server is listening now. */
  readonly up: boolean;
  /** Stops listening: clients get "connection refused". */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Waits until `count` mails match, then returns every match. */
  waitFor(what: string, test: (m: CaughtMail) => boolean, count?: number, timeoutMs?: number): Promise<CaughtMail[]>;
  close(): Promise<void>;
}

const header = (mail: ParsedMail, name: string): string => {
  const value = mail.headers.get(name);
  return typeof value === 'string' ? value : '';
};

function newServer(received: CaughtMail[]): SMTPServer {
  return new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    // Nodemailer closes its connection after each mail; a short grace keeps stop() prompt anyway.
    closeTimeout: 1_000,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          received.push({
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            mail,
            purpose: header(mail, 'x-airgap-purpose'),
            workflowId: header(mail, 'x-airgap-workflow-id'),
          });
          callback();
        })
        .catch(callback);
    },
  });
}

async function listen(server: SMTPServer, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  return (server.server.address() as net.AddressInfo).port;
}

export async function startSmtpCatcher(): Promise<SmtpCatcher> {
  const received: CaughtMail[] = [];
  let server: SMTPServer | undefined = newServer(received);
  const port = await listen(server, 0);

  const catcher: SmtpCatcher = {
    port,
    received,
    get up() {
      return server !== undefined;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async start() {
      if (server) return;
      const s = newServer(received);
      await listen(s, port);
      server = s;
    },
    async waitFor(what, test, count = 1, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = received.filter(test);
        if (found.length >= count) return found;
        if (Date.now() > until) {
          const seen = received.map((m) => `${m.purpose} → ${m.envelopeTo.join(',')}`).join('; ') || 'none';
          throw new Error(
            `expected ${count} ${what} mail(s) within ${timeoutMs} ms, got ${found.length} (seen: ${seen})`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: () => catcher.stop(),
  };
  return catcher;
}

/** Every http(s) URL in a mail: the text part's and the HTML part's hrefs, each once. */
export function linksOf(mail: ParsedMail): string[] {
  const fromText = mail.text?.match(/https?:\/\/[^\s<>"]+/g) ?? [];
  const fromHtml = [...(typeof mail.html === 'string' ? mail.html : '').matchAll(/href="([^"]+)"/g)].map((m) =>
    m[1]!.replace(/&amp;/g, '&'),
  );
  return [...new Set([...fromText, ...fromHtml])];
}

/** The URL the text part puts under `label:` (how the templates write an action), e.g. "File copied". */
export function actionUrl(mail: ParsedMail, label: string): string {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^${escaped}:\\n(https?://\\S+)`, 'm').exec(mail.text ?? '');
  if (!match) throw new Error(`no "${label}" link in the mail "${mail.subject}":\n${mail.text}`);
  return match[1]!;
}

/**
 * Mail without a mail server: the embedded default stores every mail in `<dataDir>/outbox.sqlite`
 * and the web app shows it (with working links). The idempotency key is a UNIQUE column, so a
 * retried send stores nothing new and answers with the first copy's Message-ID.
 *
 * WAL mode lets the worker write while the web app reads from another process.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MAIL_PURPOSES, messageIdFor, type MailMessage, type MailPurpose } from '../domain/mail/message';
import { MailUnavailableError } from './mail-errors';
import { checkMailMessage, type Mailer, type SendResult } from './mail-transport';

export const OUTBOX_FILE_NAME = 'outbox.sqlite';

export interface OutboxSummary {
  id: number;
  createdAt: number;
  site: string;
  workflowId: string;
  purpose: MailPurpose;
  to: string[];
  subject: string;
  idempotencyKey: string;
  messageId: string;
}

export interface OutboxEntry extends OutboxSummary {
  from: string;
  text: string;
  html: string;
}

export interface OutboxFilter {
  site?: string | undefined;
  workflowId?: string | undefined;
  purpose?: MailPurpose | undefined;
  /** Newest first; only entries with a smaller id (the next page). */
  beforeId?: number | undefined;
  /** 50 by default, at most 500. */
  limit?: number | undefined;
}

/** What the web app needs from the outbox. */
export interface OutboxReader {
  list(filter?: OutboxFilter): Promise<OutboxSummary[]>;
  get(id: number): Promise<OutboxEntry | undefined>;
}

export interface OutboxMailerOptions {
  /** The SQLite file; created with its folder when missing. */
  file: string;
  from: string;
  now?: () => number;
  /** Open without writing (the web app in another process). */
  readonly?: boolean;
}

interface Row {
  id: number;
  created_at: number;
  site: string;
  workflow_id: string;
  purpose: string;
  to_json: string;
  subject: string;
  idempotency_key: string;
  message_id: string;
  from_addr: string;
  text_body: string;
  html_body: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key TEXT NOT NULL UNIQUE,
  message_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  site TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  purpose TEXT NOT NULL,
  from_addr TEXT NOT NULL,
  to_json TEXT NOT NULL,
  subject TEXT NOT NULL,
  text_body TEXT NOT NULL,
  html_body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_workflow ON outbox (workflow_id, id);
CREATE INDEX IF NOT EXISTS outbox_by_site ON outbox (site, id);
`;

const SUMMARY_COLUMNS = 'id, created_at, site, workflow_id, purpose, to_json, subject, idempotency_key, message_id';

function toSummary(row: Row): OutboxSummary {
  return {
    id: row.id,
    createdAt: row.created_at,
    site: row.site,
    workflowId: row.workflow_id,
    purpose: (MAIL_PURPOSES as readonly string[]).includes(row.purpose) ? (row.purpose as MailPurpose) : 'failure',
    to: JSON.parse(row.to_json) as string[],
    subject: row.subject,
    idempotencyKey: row.idempotency_key,
    messageId: row.message_id,
  };
}

export class OutboxMailer implements Mailer, OutboxReader {
  readonly kind = 'outbox' as const;
  private readonly db: Database.Database;
  private readonly now: () => number;

  constructor(private readonly options: OutboxMailerOptions) {
    this.now = options.now ?? Date.now;
    if (!options.readonly) fs.mkdirSync(path.dirname(options.file), { recursive: true });
    const readonly = options.readonly ?? false;
    this.db = new Database(options.file, { readonly, fileMustExist: readonly });
    this.db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(SCHEMA);
    }
  }

  /** The outbox of a data directory: `<dataDir>/outbox.sqlite`. */
  static inDataDir(dataDir: string, from: string, now?: () => number): OutboxMailer {
    return new OutboxMailer({ file: path.join(dataDir, OUTBOX_FILE_NAME), from, ...(now ? { now } : {}) });
  }

  async send(msg: MailMessage): Promise<SendResult> {
    checkMailMessage(msg);
    const messageId = messageIdFor(msg.idempotencyKey, this.options.from);
    let inserted: { id: number } | undefined;
    try {
      inserted = this.db
        .prepare<unknown[], { id: number }>(
          `INSERT INTO outbox (idempotency_key, message_id, created_at, site, workflow_id, purpose, from_addr, to_json,
             subject, text_body, html_body)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (idempotency_key) DO NOTHING
           RETURNING id`,
        )
        .get(
          msg.idempotencyKey,
          messageId,
          this.now(),
          msg.site,
          msg.workflowId,
          msg.purpose,
          this.options.from,
          JSON.stringify(msg.to),
          msg.subject,
          msg.text,
          msg.html,
        );
    } catch (err) {
      // SQLITE_BUSY, a full disk, a locked file: all may clear up; the activity retries.
      throw new MailUnavailableError(
        `outbox ${this.options.file} could not store mail ${msg.idempotencyKey}: ${(err as Error).message}`,
        msg.idempotencyKey,
        { cause: err },
      );
    }
    if (inserted) return { messageId, duplicate: false };
    const first = this.db
      .prepare<[string], { message_id: string }>('SELECT message_id FROM outbox WHERE idempotency_key = ?')
      .get(msg.idempotencyKey);
    return { messageId: first?.message_id ?? messageId, duplicate: true };
  }

  async list(filter: OutboxFilter = {}): Promise<OutboxSummary[]> {
    const conditions: Array<[string, string | number | undefined]> = [
      ['site = ?', filter.site],
      ['workflow_id = ?', filter.workflowId],
      ['purpose = ?', filter.purpose],
      ['id < ?', filter.beforeId],
    ];
    const used = conditions.filter(([, value]) => value !== undefined && value !== '');
    const where = used.map(([sql]) => sql);
    const args = used.map(([, value]) => value!);
    const limit = Math.min(Math.max(1, Math.trunc(filter.limit ?? 50)), 500);
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return this.db
      .prepare<unknown[], Row>(sql)
      .all(...args, limit)
      .map(toSummary);
  }

  async get(id: number): Promise<OutboxEntry | undefined> {
    if (!Number.isSafeInteger(id)) return undefined;
    const row = this.db.prepare<[number], Row>('SELECT * FROM outbox WHERE id = ?').get(id);
    if (!row) return undefined;
    return { ...toSummary(row), from: row.from_addr, text: row.text_body, html: row.html_body };
  }

  /** How many mails carry this idempotency key (0 or 1): for tests and diagnostics. */
  countByKey(idempotencyKey: string): number {
    const row = this.db
      .prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE idempotency_key = ?')
      .get(idempotencyKey);
    return row?.n ?? 0;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

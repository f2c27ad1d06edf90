/**
 * Export formats of the audit: CSV for spreadsheets, JSON for machines. Both carry every hashed
 * field, so an export read back here verifies with `verifyRecords` on a machine that never saw
 * the store — which is what makes an export kept elsewhere worth keeping.
 *
 * A cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return may be read as a formula by
 * a spreadsheet ("CSV injection"). Such cells are neutralised the way OWASP describes: prefixed
 * with a single quote and quoted. Reading an export back removes exactly that quote, so the
 * records, and their hashes, are what the store holds; a value that itself begins with quotes
 * before a formula character gets one more quote, so it reads back unchanged too.
 */
import type { AuditActor, AuditRecord, RunSummary } from './audit';

export const RECORD_COLUMNS = [
  'seq',
  'id',
  'workflowId',
  'runId',
  'site',
  'kind',
  'type',
  'at',
  'actorWho',
  'actorChannel',
  'actorAddress',
  'outcome',
  'data',
  'recordedAt',
  'prevHash',
  'hash',
] as const;

export const RUN_COLUMNS = [
  'workflowId',
  'runId',
  'site',
  'kind',
  'started',
  'ended',
  'outcome',
  'sha256',
  'lastSeq',
  'lastType',
  'lastAt',
  'events',
] as const;

/** Thrown when an export cannot be read back; names the line or index and what is wrong. */
export class AuditExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditExportError';
  }
}

// Quotes, then a character a spreadsheet starts a formula with.
const FORMULA_CELL = /^'*[=+\-@\t\r]/;

/** The cell as written: neutralised if a spreadsheet could run it, then quoted per RFC 4180 if needed. */
export function csvCell(value: string | number | undefined): string {
  if (value === undefined) return '';
  const raw = String(value);
  const neutralised = FORMULA_CELL.test(raw);
  const s = neutralised ? `'${raw}` : raw;
  return neutralised || /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The value of a cell read back: the neutralising quote removed. */
export function csvValue(cell: string): string {
  return FORMULA_CELL.test(cell) && cell.startsWith("'") ? cell.slice(1) : cell;
}

/** One RFC 4180 line, CRLF-terminated. */
export function csvLine(values: readonly (string | number | undefined)[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

export function recordCsvLine(r: AuditRecord): string {
  return csvLine([
    r.seq,
    r.id,
    r.workflowId,
    r.runId,
    r.site,
    r.kind,
    r.type,
    r.at,
    r.actor?.who,
    r.actor?.channel,
    r.actor?.address,
    r.outcome,
    r.data === undefined ? undefined : JSON.stringify(r.data),
    r.recordedAt,
    r.prevHash,
    r.hash,
  ]);
}

export function runCsvLine(r: RunSummary): string {
  return csvLine([
    r.workflowId,
    r.runId,
    r.site,
    r.kind,
    r.started,
    r.ended,
    r.outcome,
    r.sha256,
    r.lastEvent.seq,
    r.lastEvent.type,
    r.lastEvent.at,
    r.events,
  ]);
}

/** Splits RFC 4180 text into rows of cells (quoted cells may hold commas, quotes and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let value = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        value += '"';
        i++;
      } else if (c === '"') quoted = false;
      else value += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(value);
      value = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(value);
      rows.push(row);
      row = [];
      value = '';
    } else value += c;
  }
  if (quoted) throw new AuditExportError('CSV ends inside a quoted cell');
  if (value !== '' || row.length > 0) rows.push([...row, value]);
  return rows;
}

/** Reads a CSV export back into records; empty cells are absent optional fields. */
export function recordsFromCsv(text: string): AuditRecord[] {
  const [header, ...rows] = parseCsv(text);
  if (header?.join(',') !== RECORD_COLUMNS.join(',')) {
    throw new AuditExportError(`not an audit CSV export: the header must be ${RECORD_COLUMNS.join(',')}`);
  }
  return rows.map((written, i) => {
    const cells = written.map(csvValue);
    if (cells.length !== RECORD_COLUMNS.length) {
      throw new AuditExportError(`line ${i + 2}: ${cells.length} cells, expected ${RECORD_COLUMNS.length}`);
    }
    const get = (name: (typeof RECORD_COLUMNS)[number]): string | undefined =>
      cells[RECORD_COLUMNS.indexOf(name)] || undefined;
    const record = {
      seq: Number(get('seq')),
      id: get('id'),
      workflowId: get('workflowId'),
      runId: get('runId'),
      site: get('site'),
      kind: get('kind'),
      type: get('type'),
      at: get('at'),
      actor:
        get('actorWho') === undefined ? undefined : actorOf(get('actorWho')!, get('actorChannel'), get('actorAddress')),
      outcome: get('outcome'),
      data: get('data') === undefined ? undefined : parseData(get('data')!, i + 2),
      recordedAt: get('recordedAt'),
      prevHash: get('prevHash'),
      hash: get('hash'),
    };
    return checkShape(dropUndefined(record), `line ${i + 2}`);
  });
}

function actorOf(who: string, channel: string | undefined, address: string | undefined): AuditActor {
  return dropUndefined({ who, channel, address }) as AuditActor;
}

function parseData(text: string, line: number): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new AuditExportError(`line ${line}: the data cell is not JSON`);
  }
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Reads a JSON export (an array of records) back. */
export function recordsFromJson(text: string): AuditRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new AuditExportError(`not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new AuditExportError('not an audit JSON export: expected an array of records');
  return parsed.map((r, i) => checkShape(r, `record #${i}`));
}

// Only the shape the chain walk relies on; whether the content is genuine is the hash's job.
function checkShape(r: unknown, where: string): AuditRecord {
  const o = r as Partial<AuditRecord> | null;
  const ok =
    typeof o === 'object' &&
    o !== null &&
    Number.isSafeInteger(o.seq) &&
    typeof o.hash === 'string' &&
    typeof o.prevHash === 'string';
  if (!ok) throw new AuditExportError(`${where}: expected a record with seq, prevHash and hash`);
  return o as AuditRecord;
}

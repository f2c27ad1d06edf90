/**
 * `airgap audit`: the history of past runs from the configured audit store (`<dataDir>/audit.sqlite`
 * or PostgreSQL, audit.store), which outlives Temporal's retention. list / show / export read it,
 * verify checks its hash chain (exit 1 naming the first bad record), reconcile closes runs that
 * ended without a record, migrate copies a SQLite chain into PostgreSQL.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import {
  AUDIT_KINDS,
  isAuditKind,
  OPEN_OUTCOME,
  protectionStatus,
  type AuditRecord,
  type ProtectionStatus,
  type RunFilter,
  type RunSummary,
} from '../domain/audit';
import { AuditHeadError, formatHead, parseHead, verifyRecords, type VerifyResult } from '../domain/audit-chain';
import {
  recordCsvLine,
  RECORD_COLUMNS,
  recordsFromCsv,
  recordsFromJson,
  RUN_COLUMNS,
  runCsvLine,
  csvLine,
  AuditExportError,
} from '../domain/audit-format';
import { findSite } from '../domain/config';
import { formatDuration, parseDuration } from '../domain/duration';
import { describeWithTemporal, reconcileTerminated } from '../adapters/audit-reconcile';
import { auditStoreFile, SqliteAuditStore, type AuditStore } from '../adapters/audit-store';
import { openConfiguredAuditStore, openConfiguredPostgresAuditStore } from '../runtime/audit-open';
import { CliError, type CliContext } from './context';

const FORMATS = ['table', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];
const DEFAULT_TABLE_LIMIT = 50;

export interface ListOptions {
  site?: string;
  kind?: string;
  outcome?: string;
  since?: string;
  until?: string;
  limit?: string;
  format?: string;
}

/** `--since 2025-05-01`, `--since 2025-05-01T06:00:00+02:00` or `--since 30d` (that long before now). */
export function parseWhen(flag: string, value: string, now: Date): Date {
  const v = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(v) || /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(v)) {
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) return new Date(ms);
  } else if (/^[\d.]+[a-z]/.test(v)) {
    try {
      return new Date(now.getTime() - parseDuration(v));
    } catch {
      // fall through to the message below
    }
  }
  throw new CliError(
    `${flag}: "${value}" is not a date (2025-05-01, 2025-05-01T06:00:00Z) or a duration before now (30d, 12h)`,
  );
}

function parseFormat(value: string | undefined, json: boolean, allowed: readonly Format[] = FORMATS): Format {
  if (value === undefined) return json ? 'json' : allowed[0]!;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new CliError(`--format: "${value}" is not one of ${allowed.join(', ')}`);
  }
  return value as Format;
}

/** Options normalised once: every flag checked, named with its value when wrong. */
export function normaliseListOptions(raw: ListOptions, now: Date, json = false): { filter: RunFilter; format: Format } {
  const format = parseFormat(raw.format, json);
  const filter: RunFilter = {};
  if (raw.site !== undefined) filter.site = raw.site;
  if (raw.kind !== undefined) {
    if (!isAuditKind(raw.kind)) throw new CliError(`--kind: "${raw.kind}" is not one of ${AUDIT_KINDS.join(', ')}`);
    filter.kind = raw.kind;
  }
  if (raw.outcome !== undefined) filter.outcome = raw.outcome;
  if (raw.since !== undefined) filter.since = parseWhen('--since', raw.since, now);
  if (raw.until !== undefined) filter.until = parseWhen('--until', raw.until, now);
  if (filter.since && filter.until && filter.since >= filter.until) {
    throw new CliError(`--since ${raw.since} is not before --until ${raw.until}`);
  }
  if (raw.limit !== undefined) {
    if (!/^\d+$/.test(raw.limit) || Number(raw.limit) < 1) {
      throw new CliError(`--limit: "${raw.limit}" is not a positive whole number`);
    }
    filter.limit = Number(raw.limit);
  } else if (format === 'table') filter.limit = DEFAULT_TABLE_LIMIT;
  return { filter, format };
}

/**
 * Reading commands do not create a store (with none yet, they read an empty one), and open it
 * read-only: no migration, no write lock, so they answer while another process is writing.
 */
async function openForReading(ctx: CliContext): Promise<AuditStore> {
  const { config } = ctx.config();
  if (config.audit.store === 'sqlite') {
    const file = auditStoreFile(config.dataDir);
    if (!fs.existsSync(file)) ctx.info(`no audit store at ${file} yet: nothing has been recorded`);
  }
  return openConfiguredAuditStore(config, { readOnly: true });
}

async function withStore<S extends AuditStore, T>(store: S, use: (store: S) => Promise<T>): Promise<T> {
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** Columns padded to their widest cell. */
function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? '').length), h.length));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

const short = (hash: string | undefined) => (hash ? hash.slice(0, 12) : '');
const age = (ms: number) => formatDuration(Math.floor(ms / 60_000) * 60_000 || ms);

function runsTable(runs: readonly RunSummary[]): string {
  if (runs.length === 0) return 'No runs match.';
  return table(
    ['STARTED', 'SITE', 'KIND', 'OUTCOME', 'ENDED', 'BUNDLE', 'LAST EVENT', 'WORKFLOW'],
    runs.map((r) => [
      r.started,
      r.site,
      r.kind,
      r.outcome ?? OPEN_OUTCOME,
      r.ended ?? '',
      short(r.sha256),
      r.lastEvent.type,
      r.workflowId,
    ]),
  );
}

function protectionLines(statuses: readonly ProtectionStatus[]): string {
  const rows = statuses.map((p) => {
    const last = p.lastImport ? `last import ${p.lastImport.at} (${p.lastImport.workflowId})` : '';
    const notice =
      p.ageMs === undefined
        ? 'NOTICE: no successful import recorded'
        : p.over
          ? `NOTICE: over the ${age(p.thresholdMs)} threshold`
          : '';
    return [p.site, p.ageMs === undefined ? '-' : age(p.ageMs), [last, notice].filter(Boolean).join('  ')];
  });
  return `Protection age\n${table(['SITE', 'AGE', ''], rows)}`;
}

export async function auditList(ctx: CliContext, raw: ListOptions, now = new Date()): Promise<void> {
  const { filter, format } = normaliseListOptions(raw, now, ctx.json);
  const { config } = ctx.config();
  await withStore(await openForReading(ctx), async (store) => {
    const probe = filter.limit === undefined ? filter : { ...filter, limit: filter.limit + 1 };
    const found = await store.list(probe);
    const runs = found.slice(0, filter.limit ?? found.length);
    if (found.length > runs.length) ctx.info(`showing the ${runs.length} most recent runs; --limit shows more`);
    const sites = filter.site ? [findSite(config, filter.site)].filter((s) => s !== undefined) : config.sites;
    const protection = await Promise.all(
      sites.map(async (s) =>
        protectionStatus(s.id, await store.lastSuccessfulImport(s.id), s.protectionAgeThreshold, now),
      ),
    );
    const human =
      format === 'csv'
        ? (csvLine(RUN_COLUMNS) + runs.map(runCsvLine).join('')).trimEnd()
        : format === 'json'
          ? JSON.stringify({ runs, protection }, null, 2)
          : [runsTable(runs), protection.length > 0 ? protectionLines(protection) : ''].filter(Boolean).join('\n\n');
    ctx.result(human, { runs, protection });
  });
}

export async function auditShow(ctx: CliContext, workflowId: string): Promise<void> {
  await withStore(await openForReading(ctx), async (store) => {
    const run = await store.run(workflowId);
    const records = await store.timeline(workflowId);
    if (!run || records.length === 0) throw new CliError(`no audit records for workflow "${workflowId}"`);
    const end = run.ended ? `ended ${run.ended} ${run.outcome}` : 'open';
    const heading = `${run.workflowId}  site ${run.site}  ${run.kind}  started ${run.started}  ${end}${
      run.sha256 ? `  bundle ${run.sha256}` : ''
    }`;
    const rows = records.map((r) => [
      String(r.seq),
      r.at,
      r.type,
      r.actor ? `${r.actor.who} (${r.actor.channel}${r.actor.address ? ` ${r.actor.address}` : ''})` : '',
      r.outcome ?? '',
      r.data ? JSON.stringify(r.data) : '',
    ]);
    ctx.result(`${heading}\n${table(['SEQ', 'AT', 'TYPE', 'ACTOR', 'OUTCOME', 'DATA'], rows)}`, { run, records });
  });
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** Streams records as CSV or a JSON array (one record per line); returns how many were written. */
export async function writeExport(out: Writable, records: AsyncIterable<AuditRecord>, format: 'csv' | 'json') {
  let count = 0;
  let last: AuditRecord | undefined;
  if (format === 'csv') await write(out, csvLine(RECORD_COLUMNS));
  else await write(out, '[');
  for await (const r of records) {
    await write(out, format === 'csv' ? recordCsvLine(r) : `${count === 0 ? '\n' : ',\n'}${JSON.stringify(r)}`);
    count += 1;
    last = r;
  }
  if (format === 'json') await write(out, count === 0 ? ']\n' : '\n]\n');
  return { count, head: last && { seq: last.seq, hash: last.hash } };
}

export async function auditExport(ctx: CliContext, raw: { format?: string; out?: string }): Promise<void> {
  const format = parseFormat(raw.format ?? 'json', false, ['json', 'csv']) as 'json' | 'csv';
  await withStore(await openForReading(ctx), async (store) => {
    if (!raw.out) {
      const { count } = await writeExport(process.stdout, store.export(), format);
      ctx.info(`exported ${count} audit records`);
      return;
    }
    // Written aside and renamed, so a failed export never leaves a file that looks complete.
    const partial = `${raw.out}.partial`;
    const file = fs.createWriteStream(partial);
    try {
      const { count, head } = await writeExport(file, store.export(), format);
      file.end();
      await once(file, 'finish');
      fs.renameSync(partial, raw.out);
      const headText = head ? `; head ${formatHead(head)}` : '';
      ctx.result(`exported ${count} audit records to ${raw.out}${headText}`, { file: raw.out, count, head });
    } catch (err) {
      file.destroy();
      fs.rmSync(partial, { force: true });
      throw err;
    }
  });
}

function readExport(file: string): AuditRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`--file: cannot read "${file}": ${(err as Error).message}`);
  }
  try {
    return text.trimStart().startsWith('[') ? recordsFromJson(text) : recordsFromCsv(text);
  } catch (err) {
    if (err instanceof AuditExportError) throw new CliError(`--file: "${file}": ${err.message}`);
    throw err;
  }
}

export async function auditVerify(ctx: CliContext, raw: { expectHead?: string; file?: string }): Promise<void> {
  let expectHead: ReturnType<typeof parseHead> | undefined;
  try {
    expectHead = raw.expectHead === undefined ? undefined : parseHead(raw.expectHead);
  } catch (err) {
    if (err instanceof AuditHeadError) throw new CliError(`--expect-head: ${err.message}`);
    throw err;
  }
  const result: VerifyResult = raw.file
    ? verifyRecords(readExport(raw.file), expectHead)
    : await withStore(await openForReading(ctx), (store) => store.verify(expectHead ? { expectHead } : {}));
  const what = raw.file ?? 'audit chain';
  if (!result.ok) {
    const bad = result.firstBad;
    throw new CliError(`${what} is broken at record ${bad.seq} (${bad.reason}): ${bad.detail}`, result);
  }
  const human = result.head
    ? `${what} ok: ${result.count} records, head ${formatHead(result.head)}\n` +
      `keep this head somewhere else and check it later with: airgap audit verify --expect-head ${formatHead(result.head)}`
    : `${what} ok: no records`;
  ctx.result(human, { ...result, head: result.head && formatHead(result.head) });
}

export async function auditReconcile(ctx: CliContext, now = new Date()): Promise<void> {
  const client = await ctx.client();
  const { config } = ctx.config();
  await withStore(await openConfiguredAuditStore(config, { onWait: (line) => ctx.info(line) }), async (store) => {
    const appended = await reconcileTerminated(store, describeWithTemporal(client), now);
    const human =
      appended.length === 0
        ? 'every open run is still running in Temporal'
        : appended.map((r) => `${r.workflowId}: recorded ${r.type} ${r.outcome}`).join('\n');
    ctx.result(human, { appended });
  });
}

/**
 * `audit migrate --from sqlite:<file> --to postgres`: copies a whole chain, hashes and all, into the
 * configured PostgreSQL database (audit.postgres), then verifies the copy. The source is verified
 * first (a broken chain is not carried over), and a target holding anything is refused.
 */
export async function auditMigrate(ctx: CliContext, raw: { from?: string; to?: string }): Promise<void> {
  const from = raw.from ?? '';
  if (!from.startsWith('sqlite:') || from.length === 'sqlite:'.length) {
    throw new CliError(`--from: "${from}" is not sqlite:<file>, e.g. --from sqlite:./data/audit.sqlite`);
  }
  if (raw.to !== 'postgres') throw new CliError(`--to: "${raw.to ?? ''}" is not postgres`);
  const file = from.slice('sqlite:'.length);
  if (!fs.existsSync(file)) throw new CliError(`--from: no audit store at ${file}`);
  const { config } = ctx.config();
  await withStore(new SqliteAuditStore(file, { readOnly: true }), async (source) => {
    const checked = await source.verify();
    if (!checked.ok) {
      const bad = checked.firstBad;
      throw new CliError(
        `${file} is broken at record ${bad.seq} (${bad.reason}): ${bad.detail}; nothing was copied`,
        checked,
      );
    }
    await withStore(await openConfiguredPostgresAuditStore(config.audit), async (target) => {
      const copied = await target.importChain(source.export());
      const after = await target.verify(checked.head ? { expectHead: checked.head } : {});
      if (!after.ok) {
        const bad = after.firstBad;
        throw new CliError(
          `the copy in PostgreSQL is broken at record ${bad.seq} (${bad.reason}): ${bad.detail}`,
          after,
        );
      }
      const head = after.head ? `, head ${formatHead(after.head)}` : '';
      ctx.result(`copied ${copied} audit records from ${file} to PostgreSQL (${target.where}); verified${head}`, {
        copied,
        head: after.head && formatHead(after.head),
      });
    });
  });
}

export function register(program: Command, ctx: CliContext): void {
  const audit = program
    .command('audit')
    .description('The audit of past runs, kept beyond Temporal retention: list, show, export, verify');
  audit
    .command('list')
    .description('runs, newest first, with each site’s protection age')
    .option('--site <id>', 'only this site')
    .option('--kind <kind>', AUDIT_KINDS.join('|'))
    .option('--outcome <outcome>', `completed, failed, nothing-new, … or ${OPEN_OUTCOME} for runs without an end`)
    .option('--since <when>', 'runs started at or after: a date, a time with zone, or a duration ago (30d)')
    .option('--until <when>', 'runs started before: same forms as --since')
    .option('--limit <n>', `at most n runs (table default ${DEFAULT_TABLE_LIMIT})`)
    .option('--format <format>', FORMATS.join('|'))
    .action((opts: ListOptions) => auditList(ctx, opts));
  audit
    .command('show')
    .description('every record of one workflow, in order')
    .argument('<workflowId>')
    .action((workflowId: string) => auditShow(ctx, workflowId));
  audit
    .command('export')
    .description('every record, with its hashes, for keeping elsewhere')
    .option('--format <format>', 'json|csv', 'json')
    .option('--out <file>', 'write to a file instead of stdout')
    .action((opts: { format?: string; out?: string }) => auditExport(ctx, opts));
  audit
    .command('verify')
    .description('check the hash chain; exit 1 naming the first bad record')
    .option('--expect-head <seq:hash>', 'a head printed by an earlier verify: the chain must still contain it')
    .option('--file <export>', 'verify an exported file instead of the store')
    .action((opts: { expectHead?: string; file?: string }) => auditVerify(ctx, opts));
  audit
    .command('migrate')
    .description('copy a whole audit chain into the configured PostgreSQL database (audit.postgres), then verify it')
    .requiredOption('--from <store>', 'sqlite:<file>, e.g. sqlite:./data/audit.sqlite')
    .requiredOption('--to <store>', 'postgres')
    .action((opts: { from?: string; to?: string }) => auditMigrate(ctx, opts));
  audit
    .command('reconcile')
    .description('record the end of runs that Temporal closed without the workflow recording it')
    .action(() => auditReconcile(ctx));
}

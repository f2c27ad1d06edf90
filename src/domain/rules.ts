/**
 * Rule updates (.dsru) carried on their own (R1–R3): which ones the air-gapped manager lacks, what
 * a person reports having exported, whether what arrived is what was exported, and what the
 * approver and the importer are told. Pure: the activities gather the facts, the workflow
 * (src/workflows/rules-transfer.ts) applies these rules.
 *
 * What is known: rule updates are numbered YY-NNN, increasing within a year (versions.ts). What is
 * not: the exported file's naming, and any REST endpoint for export/import (there is none), so
 * both steps are done by a person and the version is taken from what they report.
 */
import type { HostOs } from './config';
import { normaliseQuotedDigest, type ApprovalRules, type ComponentVersion } from './cycle';
import type { WaitPolicy } from './human-wait';
import { compareRuleUpdates, formatRuleUpdate, isRuleUpdate, parseRuleUpdate } from './versions';

/** The component name under which computers report the rule update level (securityUpdates.rules). */
export const RULE_UPDATE_COMPONENT = 'Deep Security Rule Update';

export const RULES_STATES = [
  'planning',
  'nothing-new',
  'awaiting-export',
  'awaiting-transfer',
  'verifying',
  'awaiting-approval',
  'importing',
  'confirming',
  'completed',
  'failed',
  'expired',
  'rejected',
  'cancelled',
] as const;
export type RulesState = (typeof RULES_STATES)[number];

const TERMINAL: ReadonlySet<RulesState> = new Set([
  'nothing-new',
  'completed',
  'failed',
  'expired',
  'rejected',
  'cancelled',
]);

export function isTerminalRulesState(state: RulesState): boolean {
  return TERMINAL.has(state);
}

/** The highest rule update any of the computers reports, or undefined when none reports one. */
export function ruleUpdateLevel(computers: readonly (readonly ComponentVersion[])[]): string | undefined {
  let level: string | undefined;
  for (const components of computers) {
    for (const c of components) {
      if (c.name !== RULE_UPDATE_COMPONENT || !isRuleUpdate(c.version)) continue;
      if (level === undefined || compareRuleUpdates(c.version, level) > 0) level = c.version;
    }
  }
  return level;
}

export interface PendingRuleUpdates {
  /** What the air-gapped manager has. */
  current: string;
  /** The newest the DMZ manager has. */
  latest: string;
  /** The ids that certainly exist between them, oldest first (every number within a year). */
  ids: string[];
  /**
   * True when the range crosses a year: how many updates the older year had after `current` is
   * not knowable from the numbering, so the list starts at the new year's 001.
   */
  incomplete: boolean;
}

/** The rule updates newer than `current` up to `latest`; empty when the site is up to date. */
export function pendingRuleUpdates(current: string, latest: string): PendingRuleUpdates {
  const from = parseRuleUpdate(current);
  const to = parseRuleUpdate(latest);
  if (compareRuleUpdates(latest, current) <= 0) return { current, latest, ids: [], incomplete: false };
  const start = from.year === to.year ? from.sequence + 1 : 1;
  const ids: string[] = [];
  for (let n = start; n <= to.sequence; n++) ids.push(formatRuleUpdate({ year: to.year, sequence: n }));
  return { current, latest, ids, incomplete: from.year !== to.year };
}

export function describePending(p: PendingRuleUpdates): string {
  const listed = p.ids.join(', ');
  return p.incomplete
    ? `every rule update newer than ${p.current} up to ${p.latest} (at least ${listed}, and any later ones of 20${String(parseRuleUpdate(p.current).year).padStart(2, '0')})`
    : `${listed} (every rule update newer than ${p.current} up to ${p.latest})`;
}

/** The rule update id in a file name such as DSRU-26-047.dsru, if the name shows one. */
export function ruleUpdateFromName(fileName: string): string | undefined {
  const m = /(?:^|[^0-9])(\d{2}-\d{3})(?![0-9])/.exec(fileName);
  return m ? m[1] : undefined;
}

/** What a person reports for one exported file. */
export interface ReportedRuleFile {
  fileName: string;
  /** ≥ 12 hex digits of the SHA-256 of the exported file. */
  sha256: string;
  /** The rule update it holds; taken from the name when left out. */
  ruleUpdate?: string;
  /** Bytes, when the person gives it; then checked on arrival too. */
  size?: number;
}

/** One exported file as the run records it. */
export interface ExportedRuleFile {
  fileName: string;
  ruleUpdate: string;
  /** The digest as quoted at export, normalised (lowercase hex, ≥ 12 digits). */
  sha256: string;
  size?: number;
}

/** Thrown by checkExportReport when a report cannot be accepted; the message says why, naming the file. */
export class RuleFileReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleFileReportError';
  }
}

export const MAX_RULE_FILES = 60;

/**
 * Validates a report of exported files against the levels of both managers. A file not newer than
 * what the air-gapped manager has is refused (rollback protection, as for bundles); a file newer
 * than the DMZ manager's newest cannot have come from it. Returns the files oldest first.
 */
export function checkExportReport(
  files: readonly ReportedRuleFile[],
  levels: { current: string; latest: string },
): ExportedRuleFile[] {
  if (!Array.isArray(files) || files.length === 0)
    throw new RuleFileReportError('name at least one exported .dsru file');
  if (files.length > MAX_RULE_FILES) throw new RuleFileReportError(`at most ${MAX_RULE_FILES} files per transfer`);
  const out: ExportedRuleFile[] = [];
  for (const f of files) {
    const name = (f.fileName ?? '').trim();
    if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(name) || /[\\/:]/.test(name) || name === '.' || name === '..') {
      throw new RuleFileReportError(`"${f.fileName}" is not a plain file name (no folders, ASCII only)`);
    }
    if (!/\.dsru$/i.test(name)) throw new RuleFileReportError(`${name} is not a .dsru rule update file`);
    const fromName = ruleUpdateFromName(name);
    const id = (f.ruleUpdate ?? fromName ?? '').trim();
    if (!id) {
      throw new RuleFileReportError(
        `${name}: the name does not show which rule update it is; say it (e.g. ${name}@26-047)`,
      );
    }
    if (!isRuleUpdate(id)) throw new RuleFileReportError(`${name}: "${id}" is not a rule update id such as 26-047`);
    if (f.ruleUpdate && fromName && fromName !== f.ruleUpdate.trim()) {
      throw new RuleFileReportError(`${name}: the name says ${fromName} but the report says ${f.ruleUpdate}`);
    }
    if (compareRuleUpdates(id, levels.current) <= 0) {
      throw new RuleFileReportError(
        `rollback refused: ${name} is rule update ${id}, not newer than ${levels.current}, which the air-gapped manager already has`,
      );
    }
    if (compareRuleUpdates(id, levels.latest) > 0) {
      throw new RuleFileReportError(
        `${name} is rule update ${id}, newer than ${levels.latest}, the newest the DMZ manager has: it cannot have been exported from it`,
      );
    }
    let sha256: string;
    try {
      sha256 = normaliseQuotedDigest(f.sha256 ?? '');
    } catch (err) {
      throw new RuleFileReportError(`${name}: ${(err as Error).message}`);
    }
    if (f.size !== undefined && (!Number.isInteger(f.size) || f.size <= 0)) {
      throw new RuleFileReportError(`${name}: size must be a positive number of bytes, got ${f.size}`);
    }
    if (out.some((o) => o.fileName.toLowerCase() === name.toLowerCase())) {
      throw new RuleFileReportError(`${name} is named twice`);
    }
    if (out.some((o) => o.ruleUpdate === id)) throw new RuleFileReportError(`rule update ${id} is named twice`);
    out.push({ fileName: name, ruleUpdate: id, sha256, ...(f.size !== undefined ? { size: f.size } : {}) });
  }
  return out.sort((a, b) => compareRuleUpdates(a.ruleUpdate, b.ruleUpdate));
}

/** What the host sees of one expected file in the import folder. */
export interface RuleFileObservation {
  fileName: string;
  path: string;
  exists: boolean;
  isFile?: boolean;
  size?: number;
  /** Full SHA-256, when it is a file. */
  sha256?: string;
  /** Set when the import folder itself is missing or not a folder. */
  folderProblem?: 'missing' | 'not-a-folder';
}

export type RuleFileStatus = 'ok' | 'missing' | 'not-a-file' | 'truncated' | 'different-file';

export interface RuleFileReport {
  fileName: string;
  ruleUpdate: string;
  status: RuleFileStatus;
  /** For the operator: what is wrong and what to do, or that it is in place. */
  message: string;
  path: string;
  size?: number;
  /** The full SHA-256 of what arrived. */
  sha256?: string;
}

/** Did the person put the exported file, whole and unchanged, into the import folder? */
export function classifyRuleFile(
  expected: ExportedRuleFile,
  obs: RuleFileObservation,
  where: { host: string; folder: string },
): RuleFileReport {
  const base = { fileName: expected.fileName, ruleUpdate: expected.ruleUpdate, path: obs.path };
  const on = `on ${where.host}`;
  if (obs.folderProblem) {
    // Not "the file is not in the folder": no copy can succeed until the folder is there.
    return {
      ...base,
      status: 'missing',
      message:
        `the import folder ${where.folder} ${obs.folderProblem === 'missing' ? 'does not exist' : 'is not a folder'} ${on}, ` +
        `so ${expected.fileName} cannot be in it. Create the folder (or correct sites[].rules.importFolder), then copy the file there.`,
    };
  }
  if (!obs.exists) {
    return {
      ...base,
      status: 'missing',
      message: `${expected.fileName} is not in ${where.folder} ${on}. Copy it there under the name it was exported with.`,
    };
  }
  if (!obs.isFile || obs.size === undefined || obs.sha256 === undefined) {
    return {
      ...base,
      status: 'not-a-file',
      message: `${obs.path} ${on} is not a regular file. Replace it with the exported file.`,
    };
  }
  const seen = { size: obs.size, sha256: obs.sha256 };
  if (expected.size !== undefined && obs.size < expected.size) {
    return {
      ...base,
      ...seen,
      status: 'truncated',
      message: `${obs.path} ${on} is incomplete: ${obs.size} of ${expected.size} bytes. Copy it again.`,
    };
  }
  if (expected.size !== undefined && obs.size !== expected.size) {
    return {
      ...base,
      ...seen,
      status: 'different-file',
      message: `${obs.path} ${on} has ${obs.size} bytes, not the ${expected.size} reported at export. Replace it with the exported file.`,
    };
  }
  if (!obs.sha256.startsWith(expected.sha256)) {
    return {
      ...base,
      ...seen,
      status: 'different-file',
      message:
        `${obs.path} ${on} is not the exported file: its SHA-256 ${obs.sha256} does not start with ` +
        `${expected.sha256}, reported at export. Replace it with the exported file (a damaged copy, or another update).`,
    };
  }
  return { ...base, ...seen, status: 'ok', message: `${expected.fileName} is in ${where.folder} ${on} and intact.` };
}

/** One verified file, as the approver and the audit see it. */
export interface VerifiedRuleFile extends ExportedRuleFile {
  /** The full digest of the copy that arrived. */
  sha256Full: string;
  sizeArrived: number;
}

/** The approver's summary: which updates, their files and digests, and what they replace. */
export function transferSummary(files: readonly VerifiedRuleFile[], current: string): string[] {
  const newest = files.at(-1)?.ruleUpdate;
  return [
    ...files.map(
      (f) =>
        `Rule update ${f.ruleUpdate}: ${f.fileName}, ${f.sizeArrived.toLocaleString('en-US')} bytes, SHA-256 ${f.sha256Full}`,
    ),
    newest
      ? `After the import the air-gapped manager goes from rule update ${current} to ${newest}; ${current} and every older update are replaced.`
      : `Nothing to import: the manager stays at ${current}.`,
  ];
}

/** The console address of a manager whose API is at https://host:4119/api. */
export function consoleUrlOf(apiUrl: string): string {
  return apiUrl.replace(/\/api\/?$/, '/');
}

export function exportInstructions(p: { pending: PendingRuleUpdates; dmzConsole: string; command: string }): string[] {
  return [
    `Sign in to the DMZ Deep Security Manager console (${p.dmzConsole}).`,
    'Go to Administration → Updates → Security → Rules.',
    `Select ${describePending(p.pending)}, one at a time, and click Export: each downloads one .dsru file. Do not rename the files.`,
    'Compute the SHA-256 of each downloaded file (sha256sum FILE, or Get-FileHash -Algorithm SHA256 FILE).',
    `Report the files with their SHA-256 (at least 12 hex digits): ${p.command}`,
  ];
}

export function copyInstructions(p: { host: string; folder: string; files: readonly ExportedRuleFile[] }): string[] {
  return [
    `Carry ${p.files.map((f) => f.fileName).join(', ')} across the air gap, without renaming them.`,
    `Put them into ${p.folder} on ${p.host}, the import folder of the air-gapped manager zone.`,
    'Then report them copied; their name, size and SHA-256 are checked there before anyone imports them.',
  ];
}

export function importInstructions(p: {
  agConsole: string;
  host: string;
  folder: string;
  files: readonly ExportedRuleFile[];
}): string[] {
  return [
    `Sign in to the air-gapped Deep Security Manager console (${p.agConsole}) from ${p.host} (or a machine that sees ${p.folder}).`,
    'Go to Administration → Updates → Security → Rules and click Import.',
    ...p.files.map(
      (f) =>
        `Choose ${p.folder}${p.folder.includes('\\') ? '\\' : '/'}${f.fileName}: the manager validates it and shows a summary of the rules inside; check that it is rule update ${f.ruleUpdate}, confirm, and wait for the success message.`,
    ),
    ...(p.files.length > 1 ? ['Import them in this order, oldest first.'] : []),
    'Then confirm here; the run checks that the manager reports the newest one.',
  ];
}

/** What a rule transfer needs to know about its site, frozen into its history when it starts. */
export interface RulesPlan {
  site: string;
  name: string;
  people: { operators: string[]; escalation: string[]; approvers: string[] };
  waits: WaitPolicy & { importTimeout: number; pollInterval: number };
  approval: ApprovalRules;
  queues: { dmzManager: string; airgappedManager: string };
  /** Whose components tell each manager's rule update level. */
  dmzComputerIds: number[];
  airgappedComputerIds: number[];
  consoles: { dmz: string; airgapped: string };
  /** Where the carried files go and are checked; absent when the configuration does not say. */
  importFolder?: { host: string; os: HostOs; folder: string; taskQueue: string };
}

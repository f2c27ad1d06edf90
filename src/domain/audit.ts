/**
 * The audit of past runs: what the workflows record, one event at a time, so the history of every
 * cycle, upgrade, rule transfer and hardening run outlives Temporal's retention.
 *
 * Pure: the contract, validation, the canonical serialisation that hashes are computed over, and
 * the run summary derived from events. No Node built-ins here, so workflow code may import it;
 * hashing lives in audit-chain.ts and storage in src/adapters/audit-store.ts.
 */

import { isProofKind, type ProofKind } from './proof';

export type AuditKind = 'cycle' | 'upgrade' | 'rules' | 'harden';
export type AuditChannel = 'cli' | 'link' | 'web' | 'schedule' | 'system';
export interface AuditActor {
  who: string;
  channel: AuditChannel;
  address?: string;
  /** How `who` was proven (issue 14): mail-link, web-session, shared-secret, cli-code, os-user or unproven. */
  proof?: ProofKind;
}
export interface AuditEvent {
  id: string; // idempotency key chosen by the caller (e.g. `${workflowId}/${runId}/${seq}`); appending the same id twice is a no-op that returns the first record
  workflowId: string;
  runId?: string;
  site: string;
  kind: AuditKind;
  type: string; // e.g. 'cycle.started', 'bundle.built', 'human.file-copied', 'arrival.mismatch', 'import.completed', 'cycle.ended'
  at: string; // ISO-8601 time of the event (from the workflow, not the store)
  actor?: AuditActor;
  outcome?: string; // on run-ending events: completed | nothing-new | failed | expired | rejected | cancelled | terminated …
  data?: Record<string, unknown>; // digests, versions, attempts, durations, reasons
}

/** An event as the store keeps it: numbered, chained to its predecessor, and stamped on arrival. */
export interface AuditRecord extends AuditEvent {
  seq: number;
  prevHash: string;
  hash: string;
  /** When the store wrote it; `at` is when it happened. */
  recordedAt: string;
}

// Records make the keys complete at compile time: adding a kind or channel to the union above
// without listing it here is a type error, so validation cannot drift from the contract.
const KINDS: Record<AuditKind, true> = { cycle: true, upgrade: true, rules: true, harden: true };
const CHANNELS: Record<AuditChannel, true> = { cli: true, link: true, web: true, schedule: true, system: true };
export const AUDIT_KINDS = Object.keys(KINDS) as AuditKind[];
export const AUDIT_CHANNELS = Object.keys(CHANNELS) as AuditChannel[];

export function isAuditKind(value: unknown): value is AuditKind {
  return typeof value === 'string' && Object.hasOwn(KINDS, value);
}

/** Thrown by validateAuditEvent (so by AuditStore.append) when an event is malformed; names the field and value. */
export class AuditEventError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`audit event ${field}: ${message}`);
    this.name = 'AuditEventError';
  }
}

/**
 * Sorted keys, no whitespace, `undefined` members dropped, the same escaping and number format as
 * JSON.stringify: RFC 8785 (JCS) for the values an audit event can hold. Anything JSON cannot
 * carry faithfully (NaN, Infinity, bigint, functions, symbols) is refused rather than silently
 * changed, because the hash must be over exactly what a reader will get back.
 */
export function canonicalJson(value: unknown): string {
  // Written as loops rather than entries/filter/map: verify serialises every record, and this is
  // most of its time.
  const v = hasToJson(value) ? value.toJSON() : value;
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`${v} has no JSON form`);
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++)
          out += `${i > 0 ? ',' : ''}${v[i] === undefined ? 'null' : canonicalJson(v[i])}`;
        return `${out}]`;
      }
      const o = v as Record<string, unknown>;
      let out = '{';
      // Default sort compares UTF-16 code units, which is the order RFC 8785 prescribes.
      for (const key of Object.keys(o).sort()) {
        if (o[key] === undefined) continue;
        out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(o[key])}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`a ${typeof v} has no JSON form`);
  }
}

function hasToJson(value: unknown): value is { toJSON(): unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

const EVENT_FIELDS: Record<keyof AuditEvent, true> = {
  id: true,
  workflowId: true,
  runId: true,
  site: true,
  kind: true,
  type: true,
  at: true,
  actor: true,
  outcome: true,
  data: true,
};
const TYPE = /^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/;
// A zone is required: an event time without one would mean a different instant on each machine.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function text(field: string, value: unknown, optional = false): string | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new AuditEventError(field, `expected a non-empty string, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

/** Milliseconds since the epoch of an event time, or NaN when it is not ISO-8601 with a zone. */
export function eventTimeMs(at: string): number {
  return ISO_TIME.test(at) ? Date.parse(at) : Number.NaN;
}

/**
 * Checks an event from a caller and returns a normalised copy (absent optional fields omitted,
 * `data` as it will read back from JSON). Unknown fields are refused, not dropped: a field the
 * store silently loses would be audit evidence lost.
 */
export function validateAuditEvent(input: unknown): AuditEvent {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AuditEventError('(event)', 'expected an object');
  }
  const e = input as Record<string, unknown>;
  const unknown = Object.keys(e).filter((k) => !Object.hasOwn(EVENT_FIELDS, k) && e[k] !== undefined);
  if (unknown.length > 0) throw new AuditEventError(unknown.join(', '), 'unknown field(s)');
  if (!isAuditKind(e.kind)) {
    throw new AuditEventError('kind', `${JSON.stringify(e.kind)} is not one of ${AUDIT_KINDS.join(', ')}`);
  }
  const type = text('type', e.type)!;
  if (!TYPE.test(type)) throw new AuditEventError('type', `"${type}" is not dotted lowercase words like cycle.started`);
  const at = text('at', e.at)!;
  if (Number.isNaN(eventTimeMs(at))) {
    throw new AuditEventError('at', `"${at}" is not an ISO-8601 time with a zone, e.g. 2025-05-06T06:00:00Z`);
  }
  const event: AuditEvent = {
    id: text('id', e.id)!,
    workflowId: text('workflowId', e.workflowId)!,
    site: text('site', e.site)!,
    kind: e.kind,
    type,
    at,
  };
  const runId = text('runId', e.runId, true);
  if (runId !== undefined) event.runId = runId;
  if (e.actor !== undefined) event.actor = validateActor(e.actor);
  const outcome = text('outcome', e.outcome, true);
  if (outcome !== undefined) event.outcome = outcome;
  if (e.data !== undefined) {
    if (typeof e.data !== 'object' || e.data === null || Array.isArray(e.data)) {
      throw new AuditEventError('data', 'expected an object');
    }
    try {
      event.data = JSON.parse(canonicalJson(e.data)) as Record<string, unknown>;
    } catch (err) {
      throw new AuditEventError('data', (err as Error).message);
    }
  }
  return event;
}

function validateActor(value: unknown): AuditActor {
  if (typeof value !== 'object' || value === null) throw new AuditEventError('actor', 'expected an object');
  const a = value as Record<string, unknown>;
  const extra = Object.keys(a).filter((k) => !['who', 'channel', 'address', 'proof'].includes(k) && a[k] !== undefined);
  if (extra.length > 0) throw new AuditEventError(`actor.${extra.join(', actor.')}`, 'unknown field(s)');
  if (typeof a.channel !== 'string' || !Object.hasOwn(CHANNELS, a.channel)) {
    throw new AuditEventError(
      'actor.channel',
      `${JSON.stringify(a.channel)} is not one of ${AUDIT_CHANNELS.join(', ')}`,
    );
  }
  const actor: AuditActor = { who: text('actor.who', a.who)!, channel: a.channel as AuditChannel };
  const address = text('actor.address', a.address, true);
  if (address !== undefined) actor.address = address;
  if (a.proof !== undefined) {
    if (!isProofKind(a.proof))
      throw new AuditEventError('actor.proof', `${JSON.stringify(a.proof)} is not a proof kind`);
    actor.proof = a.proof;
  }
  return actor;
}

/** `cycle.started`, `upgrade.started`…: the run's own first event. */
export function isRunStart(type: string): boolean {
  return type.endsWith('.started');
}

/**
 * `schedule.paused`, `schedule.created`…: a change to a site's schedule, recorded by whoever made
 * it as an entry of its own (one record, complete in itself: it never waits for an end).
 */
export function isScheduleChange(type: string): boolean {
  return type.startsWith('schedule.');
}

/** `cycle.ended`, `rules.ended`…: the event that carries the run's outcome (a schedule change is its own end). */
export function isRunEnd(type: string): boolean {
  return type.endsWith('.ended') || isScheduleChange(type);
}

/** What resets a site's protection age: an import confirmed, or a whole cycle completed. */
export function isSuccessfulImport(e: Pick<AuditEvent, 'kind' | 'type' | 'outcome'>): boolean {
  return e.type === 'import.completed' || (e.kind === 'cycle' && isRunEnd(e.type) && e.outcome === 'completed');
}

/** One row per workflow id: what `airgap audit list` shows. */
export interface RunSummary {
  workflowId: string;
  /** The latest run id seen (a workflow that continued-as-new has several). */
  runId?: string;
  site: string;
  kind: AuditKind;
  /** `at` of the run's earliest event. */
  started: string;
  /** `at` of the first run-ending event; absent while the run is open. */
  ended?: string;
  outcome?: string;
  /** The latest `data.sha256` recorded by the run: the bundle it carried. */
  sha256?: string;
  lastEvent: { seq: number; type: string; at: string };
  events: number;
}

/**
 * Folds one record into its run's summary. Records arrive in seq order; the first end wins, since
 * a later one (e.g. the reconciler racing a slow workflow) is visible in the timeline anyway.
 */
export function applyToRun(run: RunSummary | undefined, r: AuditRecord): RunSummary {
  const next: RunSummary = run
    ? { ...run, lastEvent: { ...run.lastEvent } }
    : { workflowId: r.workflowId, site: r.site, kind: r.kind, started: r.at, lastEvent: lastEventOf(r), events: 0 };
  next.events += 1;
  next.lastEvent = lastEventOf(r);
  if (r.runId !== undefined) next.runId = r.runId;
  if (eventTimeMs(r.at) < eventTimeMs(next.started)) next.started = r.at;
  if (isRunEnd(r.type) && next.ended === undefined) {
    next.ended = r.at;
    next.outcome = r.outcome ?? 'unknown';
  }
  const sha256 = r.data?.sha256;
  if (typeof sha256 === 'string') next.sha256 = sha256;
  return next;
}

function lastEventOf(r: AuditRecord): RunSummary['lastEvent'] {
  return { seq: r.seq, type: r.type, at: r.at };
}

/** `outcome: 'open'` selects runs without an end. Runs are selected by start time in [since, until). */
export interface RunFilter {
  site?: string;
  kind?: AuditKind;
  outcome?: string;
  since?: Date;
  until?: Date;
  limit?: number;
}

export const OPEN_OUTCOME = 'open';

export interface ProtectionStatus {
  site: string;
  /** The last successful import, if any was ever recorded. */
  lastImport?: { at: string; seq: number; workflowId: string };
  ageMs?: number;
  thresholdMs: number;
  /** True when the age passes the threshold, or no import was ever recorded. */
  over: boolean;
}

export function protectionStatus(
  site: string,
  lastImport: AuditRecord | undefined,
  thresholdMs: number,
  now: Date,
): ProtectionStatus {
  if (!lastImport) return { site, thresholdMs, over: true };
  const ageMs = Math.max(0, now.getTime() - eventTimeMs(lastImport.at));
  return {
    site,
    lastImport: { at: lastImport.at, seq: lastImport.seq, workflowId: lastImport.workflowId },
    ageMs,
    thresholdMs,
    over: ageMs > thresholdMs,
  };
}

/** The record type of a human action that was refused (by a validator, a digest check, a role check). */
export const ACTION_REFUSED = 'action.refused';

/** A refused human action as whoever received the refusal reports it. */
export interface RefusedAction {
  workflowId: string;
  /** The action as asked: `approve`, `fileCopied`, `manualStepDone`, `abortRollout`… */
  action: string;
  /** Who asked; 'unknown' when the request named no one. */
  by: string;
  channel: AuditChannel;
  /** The network address of a link's click, when known. */
  address?: string;
  /** Why it was refused, in the words the person was shown. */
  reason: string;
  /** Why it was refused, as the run's refusal code (domain/asks.ts), when it gave one. */
  code?: string;
  at: Date;
  /** What the person gave, when it matters to the refusal (e.g. the digest they typed). */
  detail?: Record<string, unknown>;
}

/** The `action.refused` event of a refused action on a run the audit knows (`run` is its summary). */
export function refusedActionEvent(
  run: Pick<RunSummary, 'workflowId' | 'site' | 'kind' | 'runId'>,
  refused: RefusedAction,
  unique: string,
): AuditEvent {
  const actor: AuditActor = { who: refused.by.trim() || 'unknown', channel: refused.channel };
  if (refused.address) actor.address = refused.address;
  return {
    id: `${run.workflowId}/refused/${unique}`,
    workflowId: run.workflowId,
    ...(run.runId ? { runId: run.runId } : {}),
    site: run.site,
    kind: run.kind,
    type: ACTION_REFUSED,
    at: refused.at.toISOString(),
    actor,
    data: {
      action: refused.action,
      reason: refused.reason,
      ...(refused.code ? { code: refused.code } : {}),
      ...(refused.detail ?? {}),
    },
  };
}

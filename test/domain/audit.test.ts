import {
  applyToRun,
  AuditEventError,
  canonicalJson,
  isSuccessfulImport,
  protectionStatus,
  validateAuditEvent,
  type AuditEvent,
  type AuditRecord,
  type RunSummary,
} from '../../src/domain/audit';

const event = (over: Partial<AuditEvent> = {}): AuditEvent => ({
  id: 'cycle-north-1/run-a/1',
  workflowId: 'cycle-north-1',
  runId: 'run-a',
  site: 'north',
  kind: 'cycle',
  type: 'cycle.started',
  at: '2025-05-06T06:00:00.000Z',
  ...over,
});

let seq = 0;
const record = (over: Partial<AuditEvent> = {}): AuditRecord => ({
  ...event(over),
  seq: ++seq,
  prevHash: 'p',
  hash: 'h',
  recordedAt: '2025-05-06T06:00:01.000Z',
});

describe('canonical JSON of audit content', () => {
  it('sorts keys at every depth and drops undefined members, so equal content hashes equally', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}',
    );
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });

  it('writes strings and numbers exactly as JSON.stringify does', () => {
    const s = 'quote " backslash \\ newline \n unicode é 😀 control \u0001';
    expect(canonicalJson(s)).toBe(JSON.stringify(s));
    expect(canonicalJson([1e21, 0.1, -0, 5])).toBe('[1e+21,0.1,0,5]');
    expect(canonicalJson(new Date('2025-01-02T03:04:05Z'))).toBe('"2025-01-02T03:04:05.000Z"');
  });

  it('refuses values JSON would silently change', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow('NaN has no JSON form');
    expect(() => canonicalJson({ n: Infinity })).toThrow('Infinity has no JSON form');
    expect(() => canonicalJson({ b: BigInt(1) })).toThrow('bigint');
  });
});

describe('validating an audit event', () => {
  it('returns a copy whose data reads back as stored JSON would', () => {
    const valid = validateAuditEvent(
      event({ data: { when: new Date('2025-01-01T00:00:00Z'), gone: undefined, n: 1 }, outcome: undefined }),
    );
    expect(valid.data).toEqual({ when: '2025-01-01T00:00:00.000Z', n: 1 });
    expect('outcome' in valid).toBe(false);
  });

  it.each([
    [{ kind: 'deploy' }, 'kind', '"deploy" is not one of cycle, upgrade, rules, harden'],
    [{ at: '2025-05-06 06:00' }, 'at', 'not an ISO-8601 time with a zone'],
    [{ at: '2025-05-06T06:00:00' }, 'at', 'not an ISO-8601 time with a zone'],
    [{ type: 'Cycle Started' }, 'type', 'dotted lowercase'],
    [{ id: '' }, 'id', 'non-empty string'],
    [{ site: undefined }, 'site', 'non-empty string'],
    [{ actor: { who: 'ann', channel: 'phone' } }, 'actor.channel', '"phone" is not one of'],
    [{ data: [1, 2] }, 'data', 'expected an object'],
    [{ data: { ratio: Number.NaN } }, 'data', 'NaN has no JSON form'],
  ] as [Partial<AuditEvent>, string, string][])('refuses %j, naming the field %s', (over, field, message) => {
    const attempt = () => validateAuditEvent(event(over));
    expect(attempt).toThrow(AuditEventError);
    expect(attempt).toThrow(`audit event ${field}:`);
    expect(attempt).toThrow(message);
  });

  it('refuses fields the store would otherwise drop', () => {
    expect(() => validateAuditEvent({ ...event(), severity: 'high' })).toThrow('audit event severity: unknown field');
    expect(() => validateAuditEvent(event({ actor: { who: 'a', channel: 'cli', ip: '1' } as never }))).toThrow(
      'actor.ip',
    );
  });

  it('accepts times with an offset and optional fields left undefined by the workflow', () => {
    const valid = validateAuditEvent(
      event({ at: '2025-05-06T08:00:00+02:00', actor: undefined, data: undefined, runId: undefined }),
    );
    expect(valid).toEqual({
      id: 'cycle-north-1/run-a/1',
      workflowId: 'cycle-north-1',
      site: 'north',
      kind: 'cycle',
      type: 'cycle.started',
      at: '2025-05-06T08:00:00+02:00',
    });
  });
});

describe('run summaries folded from records', () => {
  it('takes the start, the first end and its outcome, the bundle digest and the last event', () => {
    const records = [
      record({ type: 'cycle.started', at: '2025-05-06T06:00:00Z' }),
      record({ type: 'bundle.built', at: '2025-05-06T06:05:00Z', data: { sha256: 'aaa' } }),
      record({ type: 'cycle.ended', at: '2025-05-06T09:00:00Z', outcome: 'completed' }),
      record({ type: 'cycle.ended', at: '2025-05-06T10:00:00Z', outcome: 'terminated' }),
      record({ type: 'mail.sent', at: '2025-05-06T09:01:00Z', runId: 'run-b' }),
    ];
    const run = records.reduce<RunSummary | undefined>(applyToRun, undefined)!;
    expect(run).toEqual({
      workflowId: 'cycle-north-1',
      runId: 'run-b',
      site: 'north',
      kind: 'cycle',
      started: '2025-05-06T06:00:00Z',
      ended: '2025-05-06T09:00:00Z',
      outcome: 'completed',
      sha256: 'aaa',
      lastEvent: { seq: records[4]!.seq, type: 'mail.sent', at: '2025-05-06T09:01:00Z' },
      events: 5,
    });
  });

  it('starts a run at its earliest event time even when records arrive out of time order', () => {
    const run = [
      record({ type: 'bundle.built', at: '2025-05-06T06:05:00Z' }),
      record({ type: 'cycle.started', at: '2025-05-06T08:00:00+02:00' }),
    ].reduce<RunSummary | undefined>(applyToRun, undefined)!;
    expect(run.started).toBe('2025-05-06T08:00:00+02:00');
    expect(run.ended).toBeUndefined();
  });
});

describe('protection age', () => {
  it('counts an import or a completed cycle as protection, and nothing else', () => {
    expect(isSuccessfulImport({ kind: 'cycle', type: 'import.completed' })).toBe(true);
    expect(isSuccessfulImport({ kind: 'cycle', type: 'cycle.ended', outcome: 'completed' })).toBe(true);
    expect(isSuccessfulImport({ kind: 'cycle', type: 'cycle.ended', outcome: 'nothing-new' })).toBe(false);
    expect(isSuccessfulImport({ kind: 'upgrade', type: 'upgrade.ended', outcome: 'completed' })).toBe(false);
  });

  it('is over the threshold once the last import is older than it, or when there never was one', () => {
    const now = new Date('2025-05-15T06:00:00Z');
    const last = record({ type: 'import.completed', at: '2025-05-06T06:00:00Z' });
    const day = 86_400_000;
    expect(protectionStatus('north', last, 9 * day, now)).toMatchObject({ ageMs: 9 * day, over: false });
    expect(protectionStatus('north', last, 8 * day, now)).toMatchObject({ ageMs: 9 * day, over: true });
    expect(protectionStatus('south', undefined, 8 * day, now)).toEqual({
      site: 'south',
      thresholdMs: 8 * day,
      over: true,
    });
  });
});

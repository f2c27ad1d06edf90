/**
 * The audit store's contract, one suite for both stores: audit-store.test.ts runs it over the
 * SQLite file, audit-store-postgres.test.ts over a real PostgreSQL. Tampering is done the way a
 * person with write access would (guard triggers dropped or disabled first), through the backend.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { AuditEvent, AuditRecord } from '../../src/domain/audit';
import { formatHead, GENESIS_HASH, parseHead, recordHash } from '../../src/domain/audit-chain';
import { recordsFromCsv, recordsFromJson } from '../../src/domain/audit-format';
import type { AuditStore } from '../../src/adapters/audit-store';
import { writeExport } from '../../src/cli/audit';

export const clock = () => new Date('2025-06-01T00:00:00.000Z');

/** A fresh folder per test, and the stores a test opened, closed after it (then the folder removed). */
export function scratchStores(prefix: string): { dir: () => string; open: AuditStore[] } {
  let dir = '';
  const open: AuditStore[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { dir: () => dir, open };
}

/** One store kind: how to open it fresh, and how someone with write access tampers with it. */
export interface Backend {
  /** A new empty store for this test; later `store()` calls open the same one again. */
  fresh(): void;
  store(options?: { readOnly?: boolean }): Promise<AuditStore>;
  /** SQL run with the guard triggers out of the way. */
  tamper(sql: string): void;
  /** SQL run as is: the guard triggers apply. Throws what the database says. */
  raw(sql: string): void;
}

export function ev(workflowId: string, n: number, over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: `${workflowId}/r1/${n}`,
    workflowId,
    runId: 'r1',
    site: 'north',
    kind: 'cycle',
    type: 'step.done',
    at: `2025-05-06T06:${String(n).padStart(2, '0')}:00Z`,
    ...over,
  };
}

export async function completedCycle(s: AuditStore, workflowId: string, day: string, site = 'north') {
  const at = (h: string) => `${day}T${h}:00:00Z`;
  await s.append(ev(workflowId, 1, { site, type: 'cycle.started', at: at('06') }));
  await s.append(
    ev(workflowId, 2, { site, type: 'bundle.built', at: at('07'), data: { sha256: `sha-${workflowId}` } }),
  );
  await s.append(ev(workflowId, 3, { site, type: 'import.completed', at: at('08') }));
  await s.append(ev(workflowId, 4, { site, type: 'cycle.ended', at: at('09'), outcome: 'completed' }));
}

export async function sixRecords(s: AuditStore): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for (let n = 1; n <= 6; n++) out.push(await s.append(ev('cycle-north-1', n, { data: { n } })));
  return out;
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

/** Every behaviour both stores promise, over the store `make` opens. */
export function auditStoreContract(name: string, make: () => Backend): void {
  describe(`the audit store contract on ${name}`, () => {
    const b = make();
    beforeEach(() => b.fresh());

    describe('appending', () => {
      it('numbers and chains records, each hash covering its content and predecessor', async () => {
        const s = await b.store();
        const first = await s.append(ev('wf', 1, { type: 'cycle.started', actor: { who: 'ann', channel: 'cli' } }));
        const second = await s.append(ev('wf', 2, { data: { sha256: 'abc' } }));
        expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, recordedAt: '2025-06-01T00:00:00.000Z' });
        expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
        const { hash, ...content } = second;
        expect(hash).toBe(recordHash(content));
        expect(await s.timeline('wf')).toEqual([first, second]);
        expect(await s.head()).toEqual({ seq: 2, hash: second.hash });
      });

      it('keeps one record per id: a repeated append returns the first record unchanged', async () => {
        const s = await b.store();
        const first = await s.append(ev('wf', 1, { data: { attempt: 1 } }));
        expect(await s.append(ev('wf', 1, { data: { attempt: 2 } }))).toEqual(first);
        expect(await s.timeline('wf')).toHaveLength(1);
        expect(await s.verify()).toMatchObject({ ok: true, count: 1 });
      });

      it('stays one chain when two store instances append to the same store', async () => {
        const a = await b.store();
        const c = await b.store();
        const r1 = await a.append(ev('wf', 1));
        expect(await c.append(ev('wf', 1))).toEqual(r1);
        const r2 = await c.append(ev('wf', 2));
        const r3 = await a.append(ev('wf', 3));
        expect([r2.seq, r2.prevHash, r3.seq, r3.prevHash]).toEqual([2, r1.hash, 3, r2.hash]);
        expect(await a.verify()).toEqual({ ok: true, count: 3, head: { seq: 3, hash: r3.hash } });
      });

      it('stays one chain when many appends of one process overlap', async () => {
        const s = await b.store();
        const records = await Promise.all(Array.from({ length: 40 }, (_, i) => s.append(ev(`wf-${i % 3}`, i))));
        expect(records.map((r) => r.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        expect(await s.verify()).toMatchObject({ ok: true, count: 40 });
      });

      it('refuses a malformed event and writes nothing', async () => {
        const s = await b.store();
        await expect(s.append(ev('wf', 1, { kind: 'deploy' as never }))).rejects.toThrow('audit event kind');
        expect(await s.head()).toBeUndefined();
      });

      it('refuses UPDATE and DELETE on records from anyone who has not disabled the guard triggers', async () => {
        await sixRecords(await b.store());
        expect(() => b.raw("UPDATE audit_records SET data = '{}' WHERE seq = 2")).toThrow('append-only');
        expect(() => b.raw('DELETE FROM audit_records WHERE seq = 6')).toThrow('append-only');
        expect(await (await b.store()).verify()).toMatchObject({ ok: true, count: 6 });
      });

      it('refuses to append through a store opened read-only', async () => {
        await sixRecords(await b.store());
        const reader = await b.store({ readOnly: true });
        await expect(reader.append(ev('wf', 9))).rejects.toThrow('read-only');
        expect(await reader.verify()).toMatchObject({ ok: true, count: 6 });
      });
    });

    describe('verifying', () => {
      it('names a record whose data was edited', async () => {
        await sixRecords(await b.store());
        b.tamper(`UPDATE audit_records SET data = '{"n":33}' WHERE seq = 3`);
        expect(await (await b.store()).verify()).toMatchObject({
          ok: false,
          count: 2,
          firstBad: { seq: 3, reason: 'changed' },
        });
      });

      it('names the record deleted from the middle', async () => {
        await sixRecords(await b.store());
        b.tamper('DELETE FROM audit_records WHERE seq = 3');
        expect(await (await b.store()).verify()).toMatchObject({ ok: false, firstBad: { seq: 3, reason: 'removed' } });
      });

      it('names the gap when a deleted record was hidden by renumbering the rest', async () => {
        await sixRecords(await b.store());
        b.tamper(`DELETE FROM audit_records WHERE seq = 3;
          UPDATE audit_records SET seq = -seq WHERE seq > 3;
          UPDATE audit_records SET seq = -seq - 1 WHERE seq < 0`);
        expect(await (await b.store()).verify()).toMatchObject({ ok: false, firstBad: { seq: 3, reason: 'removed' } });
      });

      it('names the first of two records that swapped places', async () => {
        await sixRecords(await b.store());
        b.tamper(`UPDATE audit_records SET seq = -1 WHERE seq = 3;
          UPDATE audit_records SET seq = 3 WHERE seq = 4;
          UPDATE audit_records SET seq = 4 WHERE seq = -1`);
        const result = await (await b.store()).verify();
        expect(result).toMatchObject({ ok: false, firstBad: { seq: 3, reason: 'reordered' } });
        expect(!result.ok && result.firstBad.detail).toContain('written after the record now numbered 4');
      });

      it('names the first record cut from the end, through the head anchor', async () => {
        await sixRecords(await b.store());
        b.tamper('DELETE FROM audit_records WHERE seq >= 5');
        const result = await (await b.store()).verify();
        expect(result).toMatchObject({ ok: false, count: 4, firstBad: { seq: 5, reason: 'truncated' } });
        expect(!result.ok && result.firstBad.detail).toContain('records 5..6 are missing');
      });

      it('notices records inserted past the head anchor', async () => {
        const records = await sixRecords(await b.store());
        const content = { ...ev('forged', 1), seq: 7, prevHash: records[5]!.hash, recordedAt: clock().toISOString() };
        b.tamper(`INSERT INTO audit_records (seq, id, workflow_id, site, kind, type, at, at_ms, recorded_at, prev_hash, hash, run_id)
          VALUES (7, '${content.id}', 'forged', 'north', 'cycle', 'step.done', '${content.at}', ${Date.parse(content.at)},
            '${content.recordedAt}', '${content.prevHash}', '${recordHash(content)}', 'r1')`);
        expect(await (await b.store()).verify()).toMatchObject({
          ok: false,
          firstBad: { seq: 7, reason: 'unanchored' },
        });
      });

      it('notices a run summary edited to show a different outcome', async () => {
        const s = await b.store();
        await completedCycle(s, 'cycle-a', '2025-05-06');
        await s.append(ev('cycle-b', 1, { type: 'cycle.started' }));
        await s.append(ev('cycle-b', 2, { type: 'cycle.ended', outcome: 'failed' }));
        b.tamper(`UPDATE audit_runs SET outcome = 'completed' WHERE workflow_id = 'cycle-b'`);
        expect(await (await b.store()).verify()).toMatchObject({
          ok: false,
          firstBad: { seq: 6, reason: 'index-mismatch' },
        });
      });

      it('passes a store rewritten consistently, which only a head kept elsewhere exposes', async () => {
        const s = await b.store();
        const records = await sixRecords(s);
        const kept = formatHead((await s.head())!);
        let prev = GENESIS_HASH;
        const updates: string[] = [];
        for (const r of records) {
          const { hash: _old, ...content } = { ...r, prevHash: prev, data: r.seq === 2 ? { n: 'forged' } : r.data };
          prev = recordHash(content);
          updates.push(
            `UPDATE audit_records SET data = '${JSON.stringify(content.data)}', prev_hash = '${content.prevHash}', hash = '${prev}' WHERE seq = ${r.seq}`,
          );
        }
        updates.push(`UPDATE audit_head SET hash = '${prev}'`);
        b.tamper(updates.join(';\n'));
        expect(await (await b.store()).verify()).toMatchObject({ ok: true, count: 6 });
        expect(await (await b.store()).verify({ expectHead: parseHead(kept) })).toMatchObject({
          ok: false,
          firstBad: { seq: 6, reason: 'head-mismatch' },
        });
        expect(await (await b.store()).verify({ expectHead: { hash: parseHead(kept).hash } })).toMatchObject({
          ok: false,
          firstBad: { seq: 6, reason: 'head-mismatch' },
        });
      });

      it('accepts a head kept elsewhere that the chain still holds', async () => {
        const s = await b.store();
        await sixRecords(s);
        const kept = (await s.head())!;
        await s.append(ev('later', 1));
        expect(await s.verify({ expectHead: kept })).toMatchObject({ ok: true, count: 7 });
        expect(await s.verify({ expectHead: { hash: kept.hash } })).toMatchObject({ ok: true, count: 7 });
        expect(await s.verify({ expectHead: { seq: 9, hash: kept.hash } })).toMatchObject({
          ok: false,
          firstBad: { seq: 8, reason: 'truncated' },
        });
      });
    });

    describe('listing runs and protection age', () => {
      async function history(s: AuditStore) {
        await completedCycle(s, 'cycle-north-1', '2025-05-06');
        await completedCycle(s, 'cycle-south-1', '2025-05-07', 'south');
        await s.append(ev('cycle-north-2', 1, { type: 'cycle.started', at: '2025-05-13T06:00:00Z' }));
        await s.append(
          ev('cycle-north-2', 2, { type: 'cycle.ended', at: '2025-05-13T06:01:00Z', outcome: 'nothing-new' }),
        );
        await s.append(
          ev('upgrade-north-1', 1, { kind: 'upgrade', type: 'upgrade.started', at: '2025-05-14T10:00:00Z' }),
        );
        // Same start as cycle-north-2: ordered by workflow id, bytewise (B before a), on both stores.
        await s.append(ev('Cycle-B', 1, { type: 'cycle.started', at: '2025-05-13T06:00:00Z' }));
      }

      it('summarises each workflow in one row, newest first', async () => {
        const s = await b.store();
        await history(s);
        const runs = await s.list();
        expect(runs.map((r) => r.workflowId)).toEqual([
          'upgrade-north-1',
          'Cycle-B',
          'cycle-north-2',
          'cycle-south-1',
          'cycle-north-1',
        ]);
        expect(runs[4]).toEqual({
          workflowId: 'cycle-north-1',
          runId: 'r1',
          site: 'north',
          kind: 'cycle',
          started: '2025-05-06T06:00:00Z',
          ended: '2025-05-06T09:00:00Z',
          outcome: 'completed',
          sha256: 'sha-cycle-north-1',
          lastEvent: { seq: 4, type: 'cycle.ended', at: '2025-05-06T09:00:00Z' },
          events: 4,
        });
        expect(runs[0]).not.toHaveProperty('ended');
        expect(await s.run('cycle-south-1')).toEqual(runs[3]);
        expect(await s.run('nope')).toBeUndefined();
      });

      it('filters by site, kind, outcome, start window and limit', async () => {
        const s = await b.store();
        await history(s);
        const ids = async (filter: Parameters<AuditStore['list']>[0]) =>
          (await s.list(filter)).map((r) => r.workflowId);
        expect(await ids({ site: 'south' })).toEqual(['cycle-south-1']);
        expect(await ids({ kind: 'upgrade' })).toEqual(['upgrade-north-1']);
        expect(await ids({ outcome: 'nothing-new' })).toEqual(['cycle-north-2']);
        expect(await ids({ outcome: 'open' })).toEqual(['upgrade-north-1', 'Cycle-B']);
        expect(await ids({ since: new Date('2025-05-07T00:00:00Z'), until: new Date('2025-05-14T00:00:00Z') })).toEqual(
          ['Cycle-B', 'cycle-north-2', 'cycle-south-1'],
        );
        expect(await ids({ site: 'north', kind: 'cycle', limit: 1 })).toEqual(['Cycle-B']);
      });

      it('lists runs that started but never ended, oldest first, for the reconciler', async () => {
        const s = await b.store();
        await history(s);
        expect(await s.openRunsWithoutEnd()).toEqual(['Cycle-B', 'upgrade-north-1']);
      });

      it('counts protection age from the latest successful import by event time, per site', async () => {
        const s = await b.store();
        await completedCycle(s, 'cycle-north-2', '2025-05-13');
        // Recorded later but happened earlier: it must not move the age back.
        await completedCycle(s, 'cycle-north-1', '2025-05-06');
        await s.append(ev('cycle-north-3', 1, { type: 'cycle.ended', at: '2025-05-20T09:00:00Z', outcome: 'failed' }));
        expect(await s.lastSuccessfulImport('north')).toMatchObject({
          workflowId: 'cycle-north-2',
          type: 'cycle.ended',
          at: '2025-05-13T09:00:00Z',
        });
        expect(await s.protectionAge('north', new Date('2025-05-14T09:00:00Z'))).toBe(86_400_000);
        expect(await s.protectionAge('south', new Date('2025-05-14T09:00:00Z'))).toBeUndefined();
        expect(await s.verify()).toMatchObject({ ok: true });
      });
    });

    describe('exporting', () => {
      it.each(['json', 'csv'] as const)('writes %s that parses back to the stored records', async (format) => {
        const s = await b.store();
        await completedCycle(s, 'cycle-north-1', '2025-05-06');
        await s.append(
          ev('cycle-north-1', 5, {
            actor: { who: 'Ann, "ops"', channel: 'link', address: '10.0.0.7' },
            data: { c: 'a\nb' },
          }),
        );
        const stored: AuditRecord[] = [];
        for await (const r of s.export()) stored.push(r);
        const out = new Collect();
        const written = await writeExport(out, s.export(), format);
        const back = format === 'json' ? recordsFromJson(out.text) : recordsFromCsv(out.text);
        expect(back).toEqual(stored);
        expect(back).toHaveLength(5);
        expect(written).toEqual({ count: 5, head: await s.head() });
      });

      it('pages through more records than one page holds, in order', async () => {
        const s = await b.store();
        for (let n = 1; n <= 1205; n++) await s.append(ev(`wf-${n % 7}`, n, { at: '2025-05-06T06:00:00Z' }));
        let expected = 1;
        for await (const r of s.export()) expect(r.seq).toBe(expected++);
        expect(expected).toBe(1206);
      });
    });
  });
}

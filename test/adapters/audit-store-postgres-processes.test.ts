/**
 * Control workers, CLI and web app on several machines append to one PostgreSQL audit. This runs
 * the real store in several Node processes at once (compiled with swc, as jest does) against a
 * real server and checks that the database's ordering (the advisory lock in each append) gives
 * one unbroken chain with each id once: no fork, nothing lost, nothing doubled.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { transformFileSync } from '@swc/core';
import { PostgresAuditStore } from '../../src/adapters/audit-store-postgres';
import { startPostgres, type PostgresCluster } from '../helpers/postgres';

const ROOT = path.resolve(__dirname, '..', '..');
const SOURCES = [
  'src/domain/audit.ts',
  'src/domain/audit-chain.ts',
  'src/domain/proof.ts',
  'src/adapters/audit-schema.ts',
  'src/adapters/audit-store.ts',
  'src/adapters/audit-store-postgres.ts',
];
const PROCESSES = 4;
const EVENTS = 60;

let dir: string;
let cluster: PostgresCluster;

beforeAll(async () => {
  cluster = await startPostgres();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-pg-processes-'));
  for (const source of SOURCES) {
    const { code } = transformFileSync(path.join(ROOT, source), {
      jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
      module: { type: 'commonjs' },
    });
    const out = path.join(dir, source.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, code);
  }
  // Each process appends the shared ids (as a retried activity on another worker would) and ids
  // of its own, each open of the store migrating a new database at the same moment as the others.
  fs.writeFileSync(
    path.join(dir, 'appender.js'),
    `const { PostgresAuditStore } = require('./src/adapters/audit-store-postgres');
     const [url, me, count, startAt] = process.argv.slice(2);
     (async () => {
       while (Date.now() < Number(startAt)) await new Promise((r) => setTimeout(r, 5));
       const store = await PostgresAuditStore.open({ url });
       for (let i = 0; i < Number(count); i++) {
         for (const id of ['shared-' + i, me + '-' + i]) {
           await store.append({ id, workflowId: 'wf-' + (i % 5), site: 'north', kind: 'cycle',
             type: i % 7 === 3 ? 'import.completed' : 'step.done', at: '2025-05-06T06:' + String(i % 60).padStart(2, '0') + ':00Z',
             data: { by: me } });
         }
       }
       await store.close();
     })().catch((err) => { console.error(err); process.exit(1); });`,
  );
}, 60_000);

afterAll(() => {
  cluster?.remove();
  fs.rmSync(dir, { recursive: true, force: true });
});

function run(url: string, me: string, startAt: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const args = [path.join(dir, 'appender.js'), url, me, String(EVENTS), String(startAt)];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('appends to PostgreSQL from several processes at once', () => {
  it('keep one unbroken chain in which every id appears exactly once', async () => {
    const { url } = cluster.createDatabase();
    const names = Array.from({ length: PROCESSES }, (_, i) => `p${i}`);
    // Started together once all are loaded, so their opens (and migrations) and appends overlap.
    const startAt = Date.now() + 1500;
    const results = await Promise.all(names.map((name) => run(url, name, startAt)));
    expect(results).toEqual(names.map(() => ({ code: 0, stderr: '' })));

    const store = await PostgresAuditStore.open({ url, readOnly: true });
    try {
      const ids: string[] = [];
      const writers: unknown[] = [];
      let expectedSeq = 1;
      for await (const r of store.export()) {
        expect(r.seq).toBe(expectedSeq++);
        ids.push(r.id);
        writers.push(r.data?.by);
      }
      const turns = writers.filter((w, i) => i > 0 && w !== writers[i - 1]).length;
      expect(turns).toBeGreaterThan(EVENTS); // the premise: the writers did interleave
      expect(ids).toHaveLength(EVENTS * (PROCESSES + 1));
      expect(new Set(ids).size).toBe(ids.length);
      // verify also rebuilds the run and protection summaries the processes updated in turn.
      expect(await store.verify()).toMatchObject({ ok: true, count: EVENTS * (PROCESSES + 1) });
      expect((await store.list()).map((r) => r.events).reduce((a, b) => a + b, 0)).toBe(EVENTS * (PROCESSES + 1));
    } finally {
      await store.close();
    }
  });
});

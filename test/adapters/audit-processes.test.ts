/**
 * Worker, CLI and web app are separate processes that append to one audit file. This runs the real
 * store in several Node processes at once (compiled with swc, as jest does) and checks that they
 * still produce one unbroken chain with each id once.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { transformFileSync } from '@swc/core';
import { SqliteAuditStore } from '../../src/adapters/audit-store';

const ROOT = path.resolve(__dirname, '..', '..');
const SOURCES = [
  'src/domain/audit.ts',
  'src/domain/audit-chain.ts',
  'src/domain/proof.ts',
  'src/adapters/audit-schema.ts',
  'src/adapters/audit-store.ts',
];
const PROCESSES = 4;
const EVENTS = 60;

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-processes-'));
  for (const source of SOURCES) {
    const { code } = transformFileSync(path.join(ROOT, source), {
      jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
      module: { type: 'commonjs' },
    });
    const out = path.join(dir, source.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, code);
  }
  // Each process appends the shared ids (as a retried activity would) and ids of its own. The
  // 2 ms pause stands for a real process's other work: without it one process would retake the
  // lock at once each time and the others would append only after it finished.
  fs.writeFileSync(
    path.join(dir, 'appender.js'),
    `const { SqliteAuditStore } = require('./src/adapters/audit-store');
     const [file, me, count, startAt] = process.argv.slice(2);
     const store = new SqliteAuditStore(file);
     (async () => {
       while (Date.now() < Number(startAt)) await new Promise((r) => setTimeout(r, 5));
       for (let i = 0; i < Number(count); i++) {
         for (const id of ['shared-' + i, me + '-' + i]) {
           await store.append({ id, workflowId: 'wf-' + (i % 5), site: 'north', kind: 'cycle',
             type: 'step.done', at: '2025-05-06T06:00:00Z', data: { by: me } });
           await new Promise((r) => setTimeout(r, 2));
         }
       }
       await store.close();
     })().catch((err) => { console.error(err); process.exit(1); });`,
  );
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(file: string, me: string, startAt: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const args = [path.join(dir, 'appender.js'), file, me, String(EVENTS), String(startAt)];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('appends from several processes at once', () => {
  it('keep one unbroken chain in which every id appears exactly once', async () => {
    const file = path.join(dir, 'audit.sqlite');
    const names = Array.from({ length: PROCESSES }, (_, i) => `p${i}`);
    // Started together once all are loaded, so their appends really overlap.
    const startAt = Date.now() + 1500;
    const results = await Promise.all(names.map((name) => run(file, name, startAt)));
    expect(results).toEqual(names.map(() => ({ code: 0, stderr: '' })));

    const store = new SqliteAuditStore(file);
    try {
      const ids: string[] = [];
      const writers: unknown[] = [];
      for await (const r of store.export()) {
        ids.push(r.id);
        writers.push(r.data?.by);
      }
      const turns = writers.filter((w, i) => i > 0 && w !== writers[i - 1]).length;
      expect(turns).toBeGreaterThan(EVENTS); // the premise: the writers did interleave
      expect(ids).toHaveLength(EVENTS * (PROCESSES + 1));
      expect(new Set(ids).size).toBe(ids.length);
      expect(await store.verify()).toMatchObject({ ok: true, count: EVENTS * (PROCESSES + 1) });
    } finally {
      await store.close();
    }
  });
});

/**
 * The audit store against a real second process (the sqlite3 shell) holding the write lock:
 * a read-only store answers at once; a writer that must wait says so in one line and, when the
 * lock outlasts its timeout, fails with one line instead of a raw SqliteError.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditStoreBusyError, SqliteAuditStore } from '../../src/adapters/audit-store';

let dir: string;
let file: string;
let holder: ChildProcessWithoutNullStreams | undefined;

const event = (id: string) => ({
  id,
  workflowId: 'cycle-north-1',
  site: 'north',
  kind: 'cycle' as const,
  type: id === 'a' ? 'cycle.started' : 'step.done',
  at: '2025-05-06T06:00:00Z',
});

/** Another process takes the write lock; with `forSeconds`, it commits by itself after that long. */
async function holdWriteLock(forSeconds?: number): Promise<void> {
  holder = spawn('sqlite3', [file]);
  await new Promise<void>((resolve, reject) => {
    holder!.stdout.on('data', (d: Buffer) => d.toString().includes('holding') && resolve());
    holder!.once('error', reject);
    const release = forSeconds === undefined ? '' : `.shell sleep ${forSeconds}\nCOMMIT;\n`;
    holder!.stdin.write(`BEGIN IMMEDIATE;\nSELECT 'holding';\n${release}`);
  });
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-lock-'));
  file = path.join(dir, 'audit.sqlite');
  const store = new SqliteAuditStore(file);
  await store.append(event('a'));
  await store.close();
});

afterEach(async () => {
  if (holder && holder.exitCode === null) {
    holder.stdin.end('COMMIT;\n');
    await new Promise((resolve) => holder!.once('exit', resolve));
  }
  holder = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('while another process holds BEGIN IMMEDIATE', () => {
  it('a read-only store opens, lists and verifies without waiting', async () => {
    await holdWriteLock();
    const started = Date.now();
    const store = new SqliteAuditStore(file, { readOnly: true, busyTimeoutMs: 5_000 });
    try {
      expect((await store.list()).map((r) => r.workflowId)).toEqual(['cycle-north-1']);
      expect(await store.verify()).toMatchObject({ ok: true, count: 1 });
    } finally {
      await store.close();
    }
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a writer opens without the lock, says once that it waits, then fails in one line', async () => {
    await holdWriteLock();
    const waits: string[] = [];
    const store = new SqliteAuditStore(file, { busyTimeoutMs: 300, onWait: (m) => waits.push(m) });
    try {
      expect(await store.list()).toHaveLength(1);
      const append = store.append(event('b'));
      await expect(append).rejects.toThrow(AuditStoreBusyError);
      await expect(append).rejects.toThrow(/stayed locked by another process/);
      expect(waits).toEqual([expect.stringMatching(/is being written by another process; waiting/)]);
    } finally {
      await store.close();
    }
  });

  it('a writer that waited appends once the other process commits', async () => {
    await holdWriteLock(0.5);
    const waits: string[] = [];
    const store = new SqliteAuditStore(file, { busyTimeoutMs: 5_000, onWait: (m) => waits.push(m) });
    try {
      expect((await store.append(event('b'))).seq).toBe(2);
      expect(waits).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});

it('a read-only store refuses to append', async () => {
  const store = new SqliteAuditStore(file, { readOnly: true });
  try {
    await expect(store.append(event('b'))).rejects.toThrow('read-only');
  } finally {
    await store.close();
  }
});

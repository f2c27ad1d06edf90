/**
 * The intake's memory on real files: a folder is known by its content, a file it cannot read or
 * write is named and never stops the intake, and two processes' records are merged.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fingerprintOf, IntakeMemory, type HandledEntry } from '../../src/runtime/intake-memory';

const entry = (fingerprint: string, at = new Date().toISOString()): HandledEntry => ({
  fingerprint,
  status: 'started',
  message: 'intake started',
  at,
});

describe('the intake memory', () => {
  let dir: string;
  let pkg: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-intake-memory-'));
    pkg = path.join(dir, 'medium', 'airgap-package-cycle-1');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'manifest.json'), '{"cycleId":"cycle-1"}');
    fs.writeFileSync(path.join(pkg, 'manifest.json.sig'), Buffer.alloc(64, 1));
    fs.writeFileSync(path.join(pkg, 'bundle.zip'), Buffer.alloc(2 * 1024 * 1024, 7));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('knows a folder by its content: the same files again are the same, a changed manifest or zip is not', async () => {
    const first = await fingerprintOf(pkg);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await fingerprintOf(pkg)).toBe(first);
    // A hidden partial file (a copy under way) does not count.
    fs.writeFileSync(path.join(pkg, '.partial'), 'x');
    expect(await fingerprintOf(pkg)).toBe(first);

    fs.writeFileSync(path.join(pkg, 'manifest.json'), '{"cycleId":"cycle-2"}');
    const manifestChanged = await fingerprintOf(pkg);
    expect(manifestChanged).not.toBe(first);
    // The large zip written again (a new copy): known by size and modification time.
    const zip = path.join(pkg, 'bundle.zip');
    fs.utimesSync(zip, new Date(), new Date(Date.now() - 60_000));
    expect(await fingerprintOf(pkg)).not.toBe(manifestChanged);
    expect(await fingerprintOf(path.join(dir, 'medium', 'gone'))).toBeUndefined();
  });

  it('remembers across instances, and a new fingerprint at the same path is not handled', async () => {
    const fp = (await fingerprintOf(pkg))!;
    const a = IntakeMemory.in(dir);
    await a.remember(pkg, entry(fp));
    const b = IntakeMemory.in(dir);
    expect(b.handled(pkg, fp)).toBeUndefined(); // not read yet
    await b.refresh();
    expect(b.handled(pkg, fp)).toMatchObject({ fingerprint: fp, status: 'started' });
    expect(b.handled(pkg, 'other')).toBeUndefined();
    // Another process's record is merged, not overwritten.
    const other = path.join(dir, 'medium', 'airgap-package-cycle-2');
    await IntakeMemory.in(dir).remember(other, entry('x'));
    await b.remember(path.join(dir, 'medium', 'airgap-package-cycle-3'), entry('y'));
    const c = IntakeMemory.in(dir);
    await c.refresh();
    expect([c.handled(pkg, fp), c.handled(other, 'x')].every(Boolean)).toBe(true);
  });

  it('names a file it cannot read, goes on, and writes a good one again', async () => {
    const errors: Error[] = [];
    const memory = IntakeMemory.in(dir, (e) => errors.push(e));
    fs.mkdirSync(path.dirname(memory.file), { recursive: true });
    fs.writeFileSync(memory.file, '{ not json');
    await memory.refresh();
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(new RegExp(`^${memory.file}: cannot read the intake's memory: `)),
    ]);
    await memory.remember(pkg, entry('fp'));
    expect(JSON.parse(fs.readFileSync(memory.file, 'utf8'))).toMatchObject({ [pkg]: { fingerprint: 'fp' } });
  });

  it('names a file it cannot write, and this process still knows what it handled', async () => {
    const errors: Error[] = [];
    const memory = IntakeMemory.in(path.join(dir, 'data'), (e) => errors.push(e));
    // Where its folder should be, a file: no one (not even root) can write the memory there.
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.dirname(memory.file), 'in the way');
    await memory.remember(pkg, entry('fp'));
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(new RegExp(`^${memory.file}: cannot write the intake's memory: `)),
    ]);
    expect(memory.handled(pkg, 'fp')).toMatchObject({ fingerprint: 'fp' });
  });
});

/** The courier copies as a person would, including the mistakes people make. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { carryBundle, CourierError } from '../../src/sim';

let dir: string;
let bundle: string;
let relays: { name: string; installDir: string }[];
const digest = (p: string) => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-courier-'));
  bundle = path.join(dir, 'ds_update_bundle_20250311T060012Z.zip');
  fs.writeFileSync(bundle, crypto.randomBytes(10_000));
  relays = ['r1', 'r2'].map((name) => ({ name, installDir: path.join(dir, name, 'opt', 'ds_agent') }));
  for (const r of relays) fs.mkdirSync(r.installDir, { recursive: true });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('without a mistake every relay gets an identical copy under the original name', async () => {
  const { copies } = await carryBundle({ bundlePath: bundle, relays });
  expect(copies.map((c) => c.path)).toEqual(relays.map((r) => path.join(r.installDir, path.basename(bundle))));
  for (const c of copies) expect(digest(c.path)).toBe(digest(bundle));
});

test('a renamed copy has the same content under another name', async () => {
  const [copy] = (await carryBundle({ bundlePath: bundle, relays, mistake: 'rename' })).copies;
  expect(path.basename(copy!.path)).toBe('ds_update_bundle_20250311T060012Z (1).zip');
  expect(digest(copy!.path)).toBe(digest(bundle));
});

test('a truncated copy has the right name and the first part of the content', async () => {
  const [copy] = (await carryBundle({ bundlePath: bundle, relays, mistake: 'truncate' })).copies;
  expect(copy!.size).toBe(6000);
  expect(fs.readFileSync(copy!.path).equals(fs.readFileSync(bundle).subarray(0, 6000))).toBe(true);
});

test('a corrupted copy has the right name and size but other content', async () => {
  const [copy] = (await carryBundle({ bundlePath: bundle, relays, mistake: 'corrupt' })).copies;
  expect(copy!.size).toBe(10_000);
  expect(digest(copy!.path)).not.toBe(digest(bundle));
});

test('a copy into the wrong folder lands next to the install dir, not in it', async () => {
  const [copy] = (await carryBundle({ bundlePath: bundle, relays, mistake: 'wrong-folder' })).copies;
  expect(copy!.path).toBe(path.join(dir, 'r1', 'opt', path.basename(bundle)));
  expect(fs.readdirSync(relays[0]!.installDir)).toEqual([]);
});

test('a relay whose install dir does not exist stops the courier with its name', async () => {
  fs.rmSync(relays[1]!.installDir, { recursive: true });
  await expect(carryBundle({ bundlePath: bundle, relays })).rejects.toThrow(CourierError);
  await expect(carryBundle({ bundlePath: bundle, relays })).rejects.toThrow(
    `relay r2: the install dir ${relays[1]!.installDir} does not exist`,
  );
  fs.writeFileSync(relays[1]!.installDir, 'a file where the folder should be');
  await expect(carryBundle({ bundlePath: bundle, relays })).rejects.toThrow(
    `relay r2: the install dir ${relays[1]!.installDir} is not a folder`,
  );
});

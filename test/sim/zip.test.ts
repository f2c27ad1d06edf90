import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildZip, crc32, readZip, ZipFormatError } from '../../src/sim/zip';

const exec = promisify(execFile);

const entries = [
  {
    name: 'manifest.json',
    data: Buffer.from(JSON.stringify({ hello: 'world' }).repeat(50)),
    method: 'deflate' as const,
  },
  { name: 'patterns/lpt$vpn.611', data: Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251)) },
];

describe('the simulator zip format', () => {
  test('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  test('writes zips that the system unzip tool tests as intact', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-zip-'));
    const file = path.join(dir, 'b.zip');
    fs.writeFileSync(file, buildZip(entries, new Date()));
    const { stdout } = await exec('unzip', ['-t', file]);
    expect(stdout).toContain('No errors detected');
    expect(stdout).toContain('patterns/lpt$vpn.611');
    fs.rmSync(dir, { recursive: true });
  });

  test('reads back what it wrote, stored and deflated', () => {
    const back = readZip(buildZip(entries, new Date()));
    expect(back.map((e) => e.name)).toEqual(['manifest.json', 'patterns/lpt$vpn.611']);
    expect(back[0]!.data.equals(entries[0]!.data)).toBe(true);
    expect(back[1]!.data.equals(entries[1]!.data)).toBe(true);
  });

  test('rejects a zip with a flipped byte in a stored entry', () => {
    const zip = buildZip(entries, new Date());
    const at = zip.indexOf(entries[1]!.data.subarray(0, 16)) + 100;
    zip[at] = zip[at]! ^ 0xff;
    expect(() => readZip(zip)).toThrow(ZipFormatError);
  });

  test('rejects a truncated zip', () => {
    const zip = buildZip(entries, new Date());
    expect(() => readZip(zip.subarray(0, Math.floor(zip.length * 0.6)))).toThrow('truncated or not a zip');
  });
});

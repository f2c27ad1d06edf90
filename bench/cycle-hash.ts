/**
 * Cycle benchmark 4 (bench/README.md, "Cycle"): hashing throughput of the verify step — the host
 * adapter's sha256File and inspectArrival, what a relay worker runs on an arrived bundle — against
 * `openssl dgst -sha256` (and `sha256sum` where installed) on the same file in the same run.
 *
 * The file (1 GiB by default) is made in a temporary folder and deleted at the end; every tool
 * reads it once before timing, so all of them hash from the page cache. Medians of 3, interleaved.
 *
 *   node /tmp/bench-build/bench/cycle-hash.js [MiB]     (build: see bench/README.md)
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createHostOps } from '../src/adapters/host-ops';
import { describeMachine, median, ms, ratio, runBench } from './cycle-kit';

const MIB = Number(process.argv[2] ?? 1024);
const REPEATS = 3;

type Contender = [name: string, run: () => Promise<string> | string];

function has(tool: string, args: string[]): boolean {
  try {
    execFileSync(tool, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

runBench(async () => {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  const shaNi = /\bsha_ni\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  console.log(`cycle hash bench: ${MIB} MiB, median of ${REPEATS}, ${describeMachine()}`);
  console.log(`${cpu}, SHA extensions ${shaNi ? 'present' : 'absent'}; node's OpenSSL ${process.versions.openssl}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-hash-bench-'));
  try {
    const installDir = path.join(dir, 'opt', 'ds_agent');
    fs.mkdirSync(installDir, { recursive: true });
    const fileName = 'ds_update_bundle_20260101T060000Z.zip';
    const file = path.join(installDir, fileName);
    const chunk = randomFillSync(Buffer.alloc(16 * 1024 * 1024));
    const fd = fs.openSync(file, 'w');
    for (let written = 0; written < MIB * 1024 * 1024; written += chunk.length) {
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, MIB * 1024 * 1024 - written));
    }
    fs.closeSync(fd);
    const size = fs.statSync(file).size;
    const ops = createHostOps({ name: 'bench-relay', os: 'linux', installDir });

    const openssl = () => execFileSync('openssl', ['dgst', '-sha256', '-r', file], { encoding: 'utf8' }).split(' ')[0]!;
    const sha256 = openssl();
    const contenders: Contender[] = [
      ['openssl dgst -sha256 (baseline)', openssl],
      ...(has('sha256sum', ['--version'])
        ? [['sha256sum', () => execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]!] as Contender]
        : []),
      [
        'node crypto over the same bytes in memory (no file I/O)',
        () => {
          const hash = createHash('sha256');
          for (let done = 0; done < size; done += chunk.length)
            hash.update(chunk.subarray(0, Math.min(chunk.length, size - done)));
          return hash.digest('hex');
        },
      ],
      [
        'a read stream, 4 MiB chunks (sha256File before issue 16)',
        async () => {
          const hash = createHash('sha256');
          for await (const c of fs.createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) hash.update(c as Buffer);
          return hash.digest('hex');
        },
      ],
      ['host-ops sha256File', async () => (await ops.sha256File({ path: file })).sha256],
      [
        'host-ops inspectArrival (stat + hash + verdict)',
        async () => {
          const report = await ops.inspectArrival({ fileName, size, sha256 });
          if (report.status !== 'ok') throw new Error(`inspectArrival: ${report.status}: ${report.message}`);
          return sha256;
        },
      ],
    ];
    const samples = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
    for (const [name, run] of contenders) {
      if ((await run()) !== sha256) throw new Error(`${name} disagrees about the digest`);
    }
    for (let i = 0; i < REPEATS; i++) {
      for (const [name, run] of contenders) {
        const t = performance.now();
        await run();
        samples.get(name)!.push(performance.now() - t);
      }
    }

    const base = median(samples.get(contenders[0]![0])!);
    console.log('\n| hashing 1 file | median | throughput | time / openssl |\n|---|---|---|---|');
    for (const [name] of contenders) {
      const t = median(samples.get(name)!);
      const mbps = size / 1024 / 1024 / (t / 1000);
      console.log(`| ${name} | ${ms(t)} | ${mbps.toFixed(0)} MiB/s | ${ratio(t, base)} |`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

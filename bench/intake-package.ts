/**
 * Intake benchmark (bench/README.md, "Isolated intake"): the air-gapped side's verification of a
 * transfer package — manifest signature (Ed25519), zip size and streamed SHA-256, i.e.
 * `readPackage` from src/adapters/transfer-medium.ts — against `openssl dgst -sha256` over the same
 * zip in the same run. Issue 13 asks for at least 0.9x openssl's speed (openssl time / ours ≥ 0.9).
 *
 * The package (1 GiB zip by default) is written by `writePackage` into a temporary medium folder
 * and deleted at the end; both contenders read the zip once before timing, so both hash from the
 * page cache. Medians of 3, interleaved.
 *
 *   node /tmp/bench-build/bench/intake-package.js [MiB]     (build: see bench/README.md)
 */
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateSigningKeyPair, loadOwnKey, loadTrustedKeys } from '../src/adapters/signing';
import { readPackage, writePackage } from '../src/adapters/transfer-medium';
import { describeMachine, median, ms, runBench } from './cycle-kit';

const MIB = Number(process.argv[2] ?? 1024);
const REPEATS = 3;

runBench(async () => {
  console.log(`isolated intake bench: ${MIB} MiB zip, median of ${REPEATS}, ${describeMachine()}`);
  console.log(`${os.cpus()[0]?.model ?? 'unknown cpu'}; node's OpenSSL ${process.versions.openssl}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-intake-bench-'));
  try {
    const zip = path.join(dir, 'ds_update_bundle_20261201T060000Z.zip');
    const chunk = randomFillSync(Buffer.alloc(16 * 1024 * 1024));
    const fd = fs.openSync(zip, 'w');
    for (let written = 0; written < MIB * 1024 * 1024; written += chunk.length) {
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, MIB * 1024 * 1024 - written));
    }
    fs.closeSync(fd);

    const pair = generateSigningKeyPair();
    fs.writeFileSync(path.join(dir, 'dmz.key.pem'), pair.privateKeyPem, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'dmz.pub.pem'), pair.publicKeyPem);
    const medium = path.join(dir, 'medium');
    fs.mkdirSync(medium);
    const t0 = performance.now();
    const written = await writePackage({
      medium,
      zipPath: zip,
      site: 'bench',
      cycleId: 'cycle-bench-1',
      previousCycleId: null,
      versions: [{ name: 'pattern', version: '20.0.877' }],
      installationId: 'dmz-bench',
      privateKey: loadOwnKey({ at: 'bench', keyFile: path.join(dir, 'dmz.key.pem') }),
      now: new Date(),
    });
    console.log(`writePackage (copy + fsync + hash + sign): ${ms(performance.now() - t0)}`);
    fs.rmSync(zip);
    const trusted = loadTrustedKeys('bench', [{ publicKeyFile: path.join(dir, 'dmz.pub.pem') }]);
    const packaged = path.join(written.folder, written.manifest.zip.name);

    const contenders: Array<[string, () => Promise<string> | string]> = [
      [
        'openssl dgst -sha256 (baseline)',
        () => execFileSync('openssl', ['dgst', '-sha256', '-r', packaged], { encoding: 'utf8' }).split(' ')[0]!,
      ],
      [
        'readPackage: signature + size + SHA-256',
        async () => {
          const read = await readPackage({ folder: written.folder, trusted, now: new Date() });
          if (!read.ok) throw new Error(`refused: ${read.refusal.message}`);
          return read.value.manifest.zip.sha256;
        },
      ],
    ];
    for (const [name, run] of contenders) {
      if ((await run()) !== written.manifest.zip.sha256) throw new Error(`${name} disagrees about the digest`);
    }
    const samples = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
    for (let i = 0; i < REPEATS; i++) {
      for (const [name, run] of contenders) {
        const t = performance.now();
        await run();
        samples.get(name)!.push(performance.now() - t);
      }
    }
    const base = median(samples.get(contenders[0]![0])!);
    const size = written.manifest.zip.size;
    console.log('\n| intake of 1 package | median | throughput | speed vs openssl (goal ≥ 0.90x) |\n|---|---|---|---|');
    for (const [name] of contenders) {
      const t = median(samples.get(name)!);
      const mbps = size / 1024 / 1024 / (t / 1000);
      console.log(`| ${name} | ${ms(t)} | ${mbps.toFixed(0)} MiB/s | ${(base / t).toFixed(2)}x |`);
    }
    console.log(
      `\nsamples (ms): ${JSON.stringify(Object.fromEntries([...samples].map(([k, v]) => [k, v.map((x) => Math.round(x))])))}`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * `airgap keys init` and `airgap keys rotate` as an operator runs them (bin/airgap.js over dist/):
 * a private key readable by its owner only and never printed, the public key printed once, and a
 * rotation that says how long the previous key stays trusted.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { keyIdOf, loadOwnKey, loadTrustedKeys } from '../../src/adapters/signing';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'airgap.js');

function airgap(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('airgap keys', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-keys-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('init makes a 0600 private key it never prints and prints the public key to carry over', () => {
    const r = airgap('keys', 'init', '--side', 'dmz', '--dir', dir);
    expect(r.code).toBe(0);
    const privateKeyFile = path.join(dir, 'dmz.key.pem');
    const publicKeyFile = path.join(dir, 'dmz.pub.pem');
    expect(fs.statSync(privateKeyFile).mode & 0o777).toBe(0o600);
    expect(r.stdout).toBe(fs.readFileSync(publicKeyFile, 'utf8'));
    expect(r.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
    expect(`${r.stdout}${r.stderr}`).not.toContain('PRIVATE KEY');
    expect(`${r.stdout}${r.stderr}`).not.toContain(fs.readFileSync(privateKeyFile, 'utf8').split('\n')[1]);
    const keyId = keyIdOf(loadOwnKey({ at: 'x', keyFile: privateKeyFile }));
    expect(r.stderr).toContain(keyId);
    expect(r.stderr).toContain('carry the public key below to the airgapped installation once');
  });

  it('init refuses to overwrite an existing pair', () => {
    const r = airgap('keys', 'init', '--side', 'dmz', '--dir', dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path.join(dir, 'dmz.key.pem')} exists already`);
  });

  it('init refuses a side it does not know', () => {
    const r = airgap('keys', 'init', '--side', 'middle', '--dir', dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--side: expected dmz or airgapped, got "middle"');
  });

  it('rotate makes a new pair and keeps the previous public key with the end of its overlap', () => {
    const before = keyIdOf(loadOwnKey({ at: 'x', keyFile: path.join(dir, 'dmz.key.pem') }));
    const r = airgap('--json', 'keys', 'rotate', '--side', 'dmz', '--dir', dir, '--overlap', '7d');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      keyId: string;
      previous: { keyId: string; publicKeyFile: string; validUntil: string };
    };
    expect(out.keyId).not.toBe(before);
    expect(out.previous.keyId).toBe(before);
    const sevenDays = Date.parse(out.previous.validUntil) - Date.now();
    expect(sevenDays).toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(sevenDays).toBeLessThanOrEqual(7 * 86_400_000);
    expect(fs.statSync(path.join(dir, 'dmz.key.pem')).mode & 0o777).toBe(0o600);
    expect(keyIdOf(loadOwnKey({ at: 'x', keyFile: path.join(dir, 'dmz.key.pem') }))).toBe(out.keyId);
    const [current, previous] = loadTrustedKeys('t', [
      { publicKeyFile: path.join(dir, 'dmz.pub.pem') },
      { publicKeyFile: out.previous.publicKeyFile },
    ]);
    expect([current!.keyId, previous!.keyId]).toEqual([out.keyId, before]);
    expect(r.stderr).toContain(`validUntil: ${out.previous.validUntil}`);
  });

  it('rotate without a pair says to make one first', () => {
    const r = airgap('keys', 'rotate', '--side', 'airgapped', '--dir', dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('make the first pair with "airgap keys init --side airgapped"');
  });
});

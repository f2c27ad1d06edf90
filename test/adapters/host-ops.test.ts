/** The host adapter against the simulator's real executables and real folders. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createHostOps,
  DsaControlOutputError,
  FolderMissingError,
  HostCommandError,
  InvalidCommandArgumentError,
  PathOutsideAllowedError,
  type BuiltBundle,
  type HostOps,
} from '../../src/adapters/host-ops';
import { carryBundle, type CourierMistake } from '../../src/sim';
import { startFixture, type SimFixture } from '../sim/fixture';

let f: SimFixture;
let dmz: HostOps;
let airgapDir: string;
let airgap: HostOps;
let built: BuiltBundle;

beforeAll(async () => {
  f = await startFixture({ relays: 1 });
  dmz = createHostOps({ name: 'plant-dmz-relay', os: 'linux', installDir: f.site.dmz.relay.installDir! });
  airgapDir = f.site.airgapped.relays[0]!.installDir!;
  airgap = createHostOps({ name: 'plant-airgap-relay-1', os: 'linux', installDir: airgapDir });
  built = await dmz.buildBundle();
});
afterAll(() => f.cleanup());

function emptyAirgapDir() {
  for (const dir of [airgapDir, path.dirname(airgapDir)]) {
    for (const e of fs.readdirSync(dir)) if (e.endsWith('.zip')) fs.rmSync(path.join(dir, e));
  }
}

describe('building the bundle (C1)', () => {
  test('runs dsa_control -b and returns the zip it made with its digest and the verbatim output', () => {
    const record = f.sim.control.bundles().at(-1)!;
    expect(built).toEqual({
      path: record.path,
      fileName: record.fileName,
      size: record.size,
      sha256: record.sha256,
      rawOutput: expect.stringContaining(`Name: ${record.fileName}`),
    });
  });

  function fakeDsaControl(script: string): HostOps {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-fake-agent-'));
    fs.writeFileSync(path.join(dir, 'dsa_control'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    return createHostOps({ name: 'fake', os: 'linux', installDir: dir });
  }

  test('output it cannot read fails with the raw output attached', async () => {
    const ops = fakeDsaControl('echo "HTTP Status: 200 - OK"; echo "Response:"; echo "Bundle scheduled."');
    const err = await ops.buildBundle().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DsaControlOutputError);
    expect((err as DsaControlOutputError).rawOutput).toContain('Bundle scheduled.');
  });

  test('output naming a zip that is not there fails with the raw output attached', async () => {
    const ops = fakeDsaControl('echo "Created /nonexistent/ghost.zip"');
    await expect(ops.buildBundle()).rejects.toThrow(
      /ghost\.zip, which is not a file[\s\S]*Created \/nonexistent\/ghost\.zip/,
    );
  });

  test('a non-zero exit fails with the exit code and what the tool printed', async () => {
    const ops = fakeDsaControl('echo "agent not running" >&2; exit 3');
    const err = (await ops.buildBundle().catch((e: unknown) => e)) as HostCommandError;
    expect(err).toBeInstanceOf(HostCommandError);
    expect(err.output).toMatchObject({ exitCode: 3, timedOut: false, stderr: 'agent not running\n' });
    expect(err.message).toContain('agent not running');
  });

  test('a missing dsa_control is named in the error', async () => {
    const ops = createHostOps({
      name: 'empty',
      os: 'linux',
      installDir: fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-empty-')),
    });
    await expect(ops.buildBundle()).rejects.toThrow(/dsa_control not found/);
  });
});

describe('checking what arrived on the air-gapped relay (C2)', () => {
  beforeEach(emptyAirgapDir);

  test('the exact copy is ok', async () => {
    await carryBundle({ bundlePath: built.path, relays: f.site.airgapped.relays });
    await expect(airgap.inspectArrival(built)).resolves.toMatchObject({ status: 'ok' });
  });

  test('nothing copied is missing', async () => {
    const report = await airgap.inspectArrival(built);
    expect(report.status).toBe('missing');
    expect(report.message).toContain(airgapDir);
  });

  test.each([
    ['rename', 'renamed'],
    ['wrong-folder', 'wrong-folder'],
    ['truncate', 'truncated'],
    ['corrupt', 'different-file'],
  ] as [CourierMistake, string][])('a courier mistake "%s" is reported as %s', async (mistake, status) => {
    const { copies } = await carryBundle({ bundlePath: built.path, relays: f.site.airgapped.relays, mistake });
    const report = await airgap.inspectArrival(built);
    expect(report.status).toBe(status);
    if (status !== 'different-file' && status !== 'truncated') expect(report.foundPath).toBe(copies[0]!.path);
  });

  test('a copy dropped into a subfolder of the install dir is in the wrong folder', async () => {
    fs.mkdirSync(path.join(airgapDir, 'updates'), { recursive: true });
    fs.copyFileSync(built.path, path.join(airgapDir, 'updates', built.fileName));
    try {
      await expect(airgap.inspectArrival(built)).resolves.toMatchObject({ status: 'wrong-folder' });
    } finally {
      fs.rmSync(path.join(airgapDir, 'updates'), { recursive: true });
    }
  });
});

describe('files', () => {
  test('sha256File streams large files and matches a one-shot digest', async () => {
    const file = path.join(airgapDir, 'big.bin');
    const data = crypto.randomBytes(9 * 1024 * 1024 + 123);
    fs.writeFileSync(file, data);
    try {
      await expect(airgap.sha256File({ path: file })).resolves.toEqual({
        path: file,
        size: data.length,
        sha256: crypto.createHash('sha256').update(data).digest('hex'),
      });
    } finally {
      fs.rmSync(file);
    }
  });

  test('deleteFile removes a file in the install dir and is quiet when it is already gone', async () => {
    const file = path.join(airgapDir, 'done.zip');
    fs.writeFileSync(file, 'x');
    await expect(airgap.deleteFile({ path: 'done.zip' })).resolves.toEqual({ path: file, deleted: true });
    expect(fs.existsSync(file)).toBe(false);
    await expect(airgap.deleteFile({ path: file })).resolves.toEqual({ path: file, deleted: false });
  });

  test.each([['../outside.zip'], ['/etc/hostname'], ['escape/outside.zip']])(
    'deleteFile refuses %s, which resolves outside the install dir, and touches nothing',
    async (target) => {
      const outside = path.join(path.dirname(airgapDir), 'outside.zip');
      fs.writeFileSync(outside, 'keep me');
      const link = path.join(airgapDir, 'escape');
      fs.symlinkSync(path.dirname(airgapDir), link);
      try {
        await expect(airgap.deleteFile({ path: target })).rejects.toBeInstanceOf(PathOutsideAllowedError);
        expect(fs.readFileSync(outside, 'utf8')).toBe('keep me');
      } finally {
        fs.rmSync(link);
        fs.rmSync(outside);
      }
    },
  );

  test('deleteFile refuses a directory', async () => {
    fs.mkdirSync(path.join(airgapDir, 'sub'), { recursive: true });
    await expect(airgap.deleteFile({ path: 'sub' })).rejects.toThrow('not a regular file');
    expect(fs.existsSync(path.join(airgapDir, 'sub'))).toBe(true);
  });

  test('archiveFile moves a file into the archive dir without overwriting an earlier one', async () => {
    const archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-archive-'));
    const ops = createHostOps({ name: 'plant-airgap-relay-1', os: 'linux', installDir: airgapDir }, { archiveDir });
    fs.writeFileSync(path.join(airgapDir, 'b.zip'), 'first');
    const first = await ops.archiveFile({ path: 'b.zip' });
    fs.writeFileSync(path.join(airgapDir, 'b.zip'), 'second');
    const second = await ops.archiveFile({ path: 'b.zip' });
    expect(first.to).toBe(path.join(archiveDir, 'b.zip'));
    expect(second.to).toBe(path.join(archiveDir, 'b-2.zip'));
    expect(fs.readFileSync(first.to, 'utf8')).toBe('first');
    expect(fs.existsSync(path.join(airgapDir, 'b.zip'))).toBe(false);
    // The archive dir is the other place deleteFile may act on.
    await expect(ops.deleteFile({ path: second.to })).resolves.toMatchObject({ deleted: true });
    await expect(ops.archiveFile({ path: '/etc/hostname' })).rejects.toBeInstanceOf(PathOutsideAllowedError);
  });

  test('stat tells a missing file from a present one', async () => {
    await expect(dmz.stat({ path: built.fileName })).resolves.toMatchObject({
      exists: true,
      isFile: true,
      size: built.size,
    });
    await expect(dmz.stat({ path: 'nope.zip' })).resolves.toEqual({ exists: false });
  });
});

describe('dsm_c on the manager host (H7, H8)', () => {
  const dsmC = () => f.site.airgapped.manager.dsmCPath!;

  test('changesetting turns census queries off on the simulated manager', async () => {
    const out = await airgap.runDsmC({
      dsmCPath: dsmC(),
      args: ['-action', 'changesetting', '-name', 'settings.configuration.enableCensusQuery', '-value', 'false'],
    });
    expect(out.stdout).toContain('changed from true to false');
    expect(f.sim.control.snapshot().managers['plant/airgapped']!.configuration.enableCensusQuery).toBe('false');
  });

  test('an unknown action fails with the tool output', async () => {
    const err = (await airgap
      .runDsmC({ dsmCPath: dsmC(), args: ['-action', 'explode'] })
      .catch((e: unknown) => e)) as HostCommandError;
    expect(err).toBeInstanceOf(HostCommandError);
    expect(err.output.exitCode).toBe(2);
    expect(err.message).toContain('unknown action explode');
  });

  test('non-ASCII arguments are refused before anything runs', async () => {
    await expect(
      airgap.runDsmC({ dsmCPath: dsmC(), args: ['-action', 'changesetting', '-value', 'いいえ'] }),
    ).rejects.toBeInstanceOf(InvalidCommandArgumentError);
  });
});

describe('a folder the configuration names that does not exist', () => {
  const gone = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-gone-')), 'opt', 'ds_agent');

  test('an arrival check says the install dir is missing', async () => {
    const ops = createHostOps({ name: 'relay-x', os: 'linux', installDir: gone() });
    const report = await ops.inspectArrival({ fileName: built.fileName, size: built.size, sha256: built.sha256 });
    expect(report.status).toBe('missing');
    expect(report.message).toContain(`the install dir ${ops.host.installDir} does not exist on relay-x`);
  });

  test('hashing a file in a missing folder names the folder', async () => {
    const dir = gone();
    const ops = createHostOps({ name: 'relay-x', os: 'linux', installDir: dir });
    const err = await ops.sha256File({ path: 'b.zip' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FolderMissingError);
    expect((err as Error).message).toBe(`the folder ${dir} on relay-x does not exist, so b.zip cannot be in it`);
    // A missing file in a folder that exists is still reported as the file.
    const here = createHostOps({ name: 'relay-y', os: 'linux', installDir: airgapDir });
    expect(await here.sha256File({ path: 'nope.zip' }).catch((e: unknown) => e)).not.toBeInstanceOf(FolderMissingError);
  });

  test('dsa_control in a missing install dir names the folder, not the command', async () => {
    const dir = gone();
    const err = await createHostOps({ name: 'relay-x', os: 'linux', installDir: dir })
      .buildBundle()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostCommandError);
    expect((err as Error).message).toContain(`the folder ${dir} does not exist`);
  });

  test('archiving from a missing install dir names the folder', async () => {
    const dir = gone();
    const err = await createHostOps({ name: 'relay-x', os: 'linux', installDir: dir })
      .archiveFile({ path: 'b.zip' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FolderMissingError);
  });
});

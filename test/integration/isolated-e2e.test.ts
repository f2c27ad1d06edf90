/**
 * Issue 13, end to end: one isolated cycle with the two installations as separate `airgap start`
 * processes, each with its own configuration, data folder, Temporal dev server, workers, audit and
 * web app. They share nothing but the medium folder; the person between them is `airgap sim carry`
 * and `airgap sim carry-back`.
 *
 * The simulated Deep Security world (the DMZ manager and relay, the air-gapped manager and relay)
 * runs in this test process with its own folder, like the real machines would be apart from both
 * installations. Each installation holds only its own manager's API key: the other side's variable
 * holds a key the simulator refuses, so a call across the gap would fail the cycle.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/domain/config';
import { startSimulator, type RunningSimulator } from '../../src/sim';
import {
  freePorts,
  runCli,
  startInstallation,
  until,
  type CliRun,
  type Installation,
} from '../helpers/installation-process';

jest.setTimeout(420_000);

const KEY_ENV = { dmz: 'E2E_ISO_DMZ_KEY', airgapped: 'E2E_ISO_AG_KEY' } as const;
const OPERATOR = 'operator@plant.example';

interface Ports {
  dmzManager: number;
  agManager: number;
}

/** Both sides' view of the site's machines: the same managers and relays, in the simulated world. */
function siteMachines(world: string, ports: Ports) {
  const host = (name: string) => path.join(world, 'hosts', name, 'opt', 'ds_agent');
  const manager = (port: number, apiKeyEnv: string) => ({
    url: `https://127.0.0.1:${port}/api`,
    apiKeyEnv,
    caFile: path.join(world, 'sim', 'tls', 'ca.pem'),
    requestTimeout: '10s',
  });
  return {
    dmz: {
      manager: manager(ports.dmzManager, KEY_ENV.dmz),
      relay: { name: 'iso-dmz-relay', computerId: 11, installDir: host('iso-dmz-relay') },
    },
    airgapped: {
      manager: manager(ports.agManager, KEY_ENV.airgapped),
      relays: [{ name: 'iso-ag-relay', computerId: 21, installDir: host('iso-ag-relay') }],
    },
  };
}

function siteDocument(world: string, ports: Ports, isolated: Record<string, unknown> | undefined) {
  return {
    id: 'plant',
    name: 'Plant (isolated, e2e)',
    ...(isolated ? { mode: 'isolated', isolated } : {}),
    ...siteMachines(world, ports),
    people: { operators: [OPERATOR], escalation: ['lead@plant.example'] },
    waits: { reminderEvery: '1h', escalateAfter: '2h', deadline: '1d', importTimeout: '2m', pollInterval: '300ms' },
    approval: { policy: 'none' },
    steps: { import: 'automated' },
  };
}

function installationDocument(dir: string, site: Record<string, unknown>, [temporal, ui, web]: number[]) {
  return {
    dataDir: dir,
    temporal: { namespace: 'airgap', retention: '30d', embedded: { port: temporal, uiPort: ui } },
    web: { host: '127.0.0.1', port: web },
    sites: [site],
  };
}

/** The environment of one installation: its own manager's key; the other side's variable holds a refused one. */
function envOf(own: keyof typeof KEY_ENV, keys: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['TEMPORAL_ADDRESS', 'AIRGAP_CONFIG', 'AIRGAP_LINK_KEY', ...Object.values(KEY_ENV)])
    delete env[name];
  for (const side of Object.keys(KEY_ENV) as (keyof typeof KEY_ENV)[]) {
    env[KEY_ENV[side]] = side === own ? keys[KEY_ENV[side]]! : `not-${side}-${randomBytes(8).toString('hex')}`;
  }
  return env;
}

function json<T>(run: CliRun, what: string): T {
  if (run.code !== 0) throw new Error(`${what} exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
  return JSON.parse(run.stdout) as T;
}

describe('an isolated cycle across two installations that share only the medium', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-iso-e2e-'));
  const world = path.join(root, 'world');
  const medium = path.join(root, 'medium');
  const outbound = path.join(medium, 'dmz-outbound');
  const intake = path.join(medium, 'airgapped-intake');
  const dmzDir = path.join(root, 'dmz');
  const agDir = path.join(root, 'airgapped');
  let sim: RunningSimulator | undefined;
  let dmz: Installation | undefined;
  let ag: Installation | undefined;

  afterAll(async () => {
    await Promise.all([dmz?.stop(), ag?.stop()]);
    await sim?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('carries the package, imports it on the air-gapped side, carries the receipt back and closes the DMZ cycle', async () => {
    const startedAt = Date.now();
    const [dmzManager, agManager, ...installationPorts] = await freePorts(8);
    const ports: Ports = { dmzManager: dmzManager!, agManager: agManager! };
    const keys = {
      [KEY_ENV.dmz]: `dmz-${randomBytes(12).toString('hex')}`,
      [KEY_ENV.airgapped]: `ag-${randomBytes(12).toString('hex')}`,
    };
    // The world: both managers and relays, apart from both installations.
    const worldConfig = parseConfig({ dataDir: world, sites: [siteDocument(world, ports, undefined)] }, 'world');
    sim = await startSimulator({ config: worldConfig, dataDir: world, apiKeys: keys, importDelayMs: 300 });
    sim.control.publishUpdate();

    const dmzConfig = path.join(dmzDir, 'airgap.yaml');
    const agConfig = path.join(agDir, 'airgap.yaml');
    fs.mkdirSync(dmzDir);
    fs.mkdirSync(agDir);
    fs.mkdirSync(outbound, { recursive: true });
    fs.mkdirSync(intake, { recursive: true });
    const dmzIsolated = {
      side: 'dmz',
      installationId: 'plant-dmz',
      outboundFolder: outbound,
      keyFile: 'keys/dmz.key.pem',
      trust: [{ publicKeyFile: 'keys/airgapped.pub.pem' }],
    };
    const agIsolated = {
      side: 'airgapped',
      installationId: 'plant-airgapped',
      intakeFolder: intake,
      keyFile: 'keys/airgapped.key.pem',
      trust: [{ publicKeyFile: 'keys/dmz.pub.pem' }],
    };
    const dmzPorts = installationPorts.slice(0, 3);
    const agPorts = installationPorts.slice(3, 6);
    fs.writeFileSync(
      dmzConfig,
      stringify(installationDocument(dmzDir, siteDocument(world, ports, dmzIsolated), dmzPorts)),
    );
    fs.writeFileSync(agConfig, stringify(installationDocument(agDir, siteDocument(world, ports, agIsolated), agPorts)));

    // Each side makes its key pair; each public key is carried to the other side once.
    const dmzEnv = envOf('dmz', keys);
    const agEnv = envOf('airgapped', keys);
    for (const [config, env, side, dir] of [
      [dmzConfig, dmzEnv, 'dmz', dmzDir],
      [agConfig, agEnv, 'airgapped', agDir],
    ] as const) {
      const made = runCli(config, env, 'keys', 'init', '--side', side);
      expect([made.code, made.stderr]).toEqual([0, expect.stringContaining(`${side}.key.pem (mode 0600`)]);
      expect(fs.statSync(path.join(dir, 'keys', `${side}.key.pem`)).mode & 0o777).toBe(0o600);
      expect(made.stdout).toContain('-----BEGIN PUBLIC KEY-----');
    }
    fs.copyFileSync(path.join(dmzDir, 'keys', 'dmz.pub.pem'), path.join(agDir, 'keys', 'dmz.pub.pem'));
    fs.copyFileSync(path.join(agDir, 'keys', 'airgapped.pub.pem'), path.join(dmzDir, 'keys', 'airgapped.pub.pem'));

    // One after the other: two Temporal dev servers starting at the same moment can race for the
    // free ports of their internal services.
    dmz = startInstallation(dmzConfig, dmzEnv);
    await dmz.ready;
    ag = startInstallation(agConfig, agEnv);
    await ag.ready;
    const upAt = Date.now();

    // 1. The DMZ installation bundles and writes the signed package onto the medium.
    const { id } = json<{ id: string }>(dmz.cli('--json', 'cycle', 'start', 'plant', '--by', OPERATOR), 'cycle start');
    const sent = await until(
      'the DMZ cycle to wait for the receipt',
      () => {
        const v = json<{ state: string }>(dmz!.cli('--json', 'cycle', 'status', id), 'cycle status');
        if (['failed', 'nothing-new', 'expired', 'cancelled'].includes(v.state)) {
          throw new Error(`the DMZ cycle ended ${v.state}: ${JSON.stringify(v)}\n${dmz!.output()}`);
        }
        return v.state === 'awaiting-receipt' ? v : undefined;
      },
      120_000,
    );
    expect(sent.state).toBe('awaiting-receipt');
    const packageName = fs.readdirSync(outbound).find((n) => n.startsWith('airgap-package-'));
    expect(packageName).toBeDefined();
    const packageFiles = fs.readdirSync(path.join(outbound, packageName!)).sort();
    expect(packageFiles).toEqual([expect.stringMatching(/\.zip$/), 'manifest.json', 'manifest.json.sig']);
    // The signature verifies with standard tools, offline, against the public key the other side holds.
    expect(
      execFileSync(
        'openssl',
        ['pkeyutl', '-verify', '-pubin', '-inkey', path.join(agDir, 'keys', 'dmz.pub.pem'), '-rawin'].concat([
          '-in',
          path.join(outbound, packageName!, 'manifest.json'),
          '-sigfile',
          path.join(outbound, packageName!, 'manifest.json.sig'),
        ]),
        { encoding: 'utf8' },
      ),
    ).toContain('Signature Verified Successfully');

    // 2. The person carries the medium across.
    const carried = dmz.cli('sim', 'carry', id, '--to', intake);
    expect([carried.code, carried.stderr]).toEqual([0, '']);
    expect(carried.stdout).toContain(path.join(intake, packageName!));
    expect(fs.existsSync(path.join(outbound, packageName!))).toBe(false);
    // Carried once is carried: a second carry says there is nothing (left) to carry.
    const again = dmz.cli('sim', 'carry', id, '--to', intake);
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining('was carried already')]);

    // 3. The air-gapped installation's intake finds it, verifies, places, imports, and writes the receipt.
    const receiptName = packageName!.replace('airgap-package-', 'airgap-receipt-');
    await until(
      'the air-gapped side to write the receipt',
      () => (fs.existsSync(path.join(intake, receiptName, 'receipt.json.sig')) ? true : undefined),
      180_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- air-gapped installation ---\n${ag!.output()}`);
    });
    const receipt = JSON.parse(fs.readFileSync(path.join(intake, receiptName, 'receipt.json'), 'utf8')) as {
      cycleId: string;
      installationId: string;
      relays: { relay: string; outcome: string; versions: { name: string; version: string }[] }[];
    };
    expect(receipt.cycleId).toBe(id);
    expect(receipt.installationId).toBe('plant-airgapped');
    expect(receipt.relays.map((r) => [r.relay, r.outcome])).toEqual([['iso-ag-relay', 'imported']]);
    // What the receipt says is what the air-gapped relay now runs, in the world.
    const relayNow = Object.values(sim.control.snapshot().managers)
      .flatMap((m) => Object.values(m.computers))
      .find((c) => c.hostName === 'iso-ag-relay');
    expect(receipt.relays[0]!.versions.map((v) => v.version).sort()).toEqual(
      Object.values(relayNow!.components).sort(),
    );
    expect(
      execFileSync(
        'openssl',
        ['pkeyutl', '-verify', '-pubin', '-inkey', path.join(dmzDir, 'keys', 'airgapped.pub.pem'), '-rawin'].concat([
          '-in',
          path.join(intake, receiptName, 'receipt.json'),
          '-sigfile',
          path.join(intake, receiptName, 'receipt.json.sig'),
        ]),
        { encoding: 'utf8' },
      ),
    ).toContain('Signature Verified Successfully');

    // 4. The person carries the receipt back; the DMZ installation closes the cycle.
    const back = dmz.cli('sim', 'carry-back', id, '--from', intake);
    expect([back.code, back.stderr]).toEqual([0, '']);
    const done = await until(
      'the DMZ cycle to complete',
      () => {
        const v = json<{ state: string }>(dmz!.cli('--json', 'cycle', 'status', id), 'cycle status');
        if (['failed', 'expired', 'cancelled'].includes(v.state)) {
          throw new Error(`the DMZ cycle ended ${v.state}: ${JSON.stringify(v)}\n${dmz!.output()}`);
        }
        return v.state === 'completed' ? v : undefined;
      },
      120_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- DMZ installation ---\n${dmz!.output()}`);
    });
    expect(JSON.stringify(done)).toContain('iso-ag-relay');

    // 5. The DMZ audit shows what the air-gapped side reported; both chains verify on their own.
    const shown = dmz.cli('audit', 'show', id);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('iso-ag-relay');
    expect(shown.stdout).toContain('plant-airgapped');
    for (const r of receipt.relays[0]!.versions) expect(shown.stdout).toContain(r.version);
    for (const side of [dmz, ag]) {
      const verified = side.cli('audit', 'verify');
      expect([side.configFile, verified.code, verified.stdout]).toEqual([
        side.configFile,
        0,
        expect.stringMatching(/^audit chain ok: \d+ records/),
      ]);
    }
    // The air-gapped audit holds the intake of the same cycle: the two join by cycle id.
    expect(ag.cli('audit', 'list', '--format', 'json').stdout).toContain(id);

    expect(await dmz.stop()).toBe(0);
    expect(await ag.stop()).toBe(0);
    process.stderr.write(
      `isolated e2e: both installations up in ${((upAt - startedAt) / 1000).toFixed(1)} s, ` +
        `cycle to completed in ${((Date.now() - upAt) / 1000).toFixed(1)} s\n`,
    );
  });
});

/**
 * The embedded default as an operator runs it: `airgap start` (what `npm start` runs) in its own
 * process, on a copy of the demo configuration with free ports and a temporary data folder.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { stringify } from 'yaml';
import { freePort } from '../../src/runtime/dev-server';
import { runCli, startInstallation } from '../helpers/installation-process';

jest.setTimeout(180_000);

interface Ports {
  temporal: number;
  ui: number;
  web: number;
  dmz: number;
  airgap: number;
}

function demoConfig(dir: string, ports: Ports) {
  const host = (name: string) => path.join(dir, 'sim', 'hosts', name, 'opt', 'ds_agent');
  return {
    dataDir: dir,
    temporal: { namespace: 'airgap', retention: '30d', embedded: { port: ports.temporal, uiPort: ports.ui } },
    web: { host: '127.0.0.1', port: ports.web },
    simulator: { enabled: true },
    sites: [
      {
        id: 'demo',
        dmz: {
          manager: {
            url: `https://127.0.0.1:${ports.dmz}/api`,
            apiKeyEnv: 'E2E_DMZ_KEY',
            caFile: path.join(dir, 'sim/tls/ca.pem'),
          },
          relay: { name: 'e2e-dmz-relay', computerId: 11, installDir: host('e2e-dmz-relay') },
        },
        airgapped: {
          manager: {
            url: `https://127.0.0.1:${ports.airgap}/api`,
            apiKeyEnv: 'E2E_AG_KEY',
            caFile: path.join(dir, 'sim/tls/ca.pem'),
            host: 'e2e-ag-manager',
          },
          relays: [{ name: 'e2e-ag-relay', computerId: 21, installDir: host('e2e-ag-relay') }],
        },
        people: { operators: ['operator@demo.example'], approvers: ['approver@demo.example'] },
        waits: { pollInterval: '300ms', importTimeout: '1m' },
        // A plain --by still approves on this test site (issue 14: unproven accepted here).
        approval: { policy: 'any', proofs: ['mail-link', 'web-session', 'cli-code', 'unproven'] },
        steps: { import: 'automated' },
        rules: { importFolder: path.join(dir, 'sim', 'hosts', 'e2e-ag-manager', 'var', 'dsru-import') },
      },
    ],
  };
}

const cleanEnv = () => {
  const env = { ...process.env };
  delete env.TEMPORAL_ADDRESS;
  delete env.AIRGAP_CONFIG;
  delete env.E2E_DMZ_KEY;
  delete env.E2E_AG_KEY;
  return env;
};

const airgap = (configFile: string, ...args: string[]) => runCli(configFile, cleanEnv(), ...args);
const start = (configFile: string) => startInstallation(configFile, cleanEnv());

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the embedded default (npm start)', () => {
  let dir: string;
  let configFile: string;
  let ports: Ports;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-e2e-'));
    ports = {
      temporal: await freePort(),
      ui: await freePort(),
      web: await freePort(),
      dmz: await freePort(),
      airgap: await freePort(),
    };
    configFile = path.join(dir, 'airgap.yaml');
    fs.writeFileSync(configFile, stringify(demoConfig(dir, ports)));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('brings the stack up, keeps a waiting cycle waiting across Ctrl-C and a restart, then completes it', async () => {
    let stack = start(configFile);
    await stack.ready;
    const banner = stack.output();
    for (const part of ['Temporal UI', 'web app', 'data folder', 'config', configFile, dir])
      expect(banner).toContain(part);
    expect(await fetch(`http://127.0.0.1:${ports.ui}/`).then((r) => r.status)).toBe(200);
    expect(await fetch(`http://127.0.0.1:${ports.web}/`).then((r) => r.status)).toBe(200);
    // The embedded default made its own folders: the simulated relays' install dirs and the rule import folder.
    for (const folder of [
      path.join(dir, 'sim', 'hosts', 'e2e-dmz-relay', 'opt', 'ds_agent'),
      path.join(dir, 'sim', 'hosts', 'e2e-ag-relay', 'opt', 'ds_agent'),
      path.join(dir, 'sim', 'hosts', 'e2e-ag-manager', 'var', 'dsru-import'),
    ]) {
      expect([folder, fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()]).toEqual([folder, true]);
    }

    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    const ns = await connection.workflowService.describeNamespace({ namespace: 'airgap' });
    expect(Number(ns.config!.workflowExecutionRetentionTtl!.seconds)).toBeGreaterThanOrEqual(30 * 86_400);
    const attrs = await connection.operatorService.listSearchAttributes({ namespace: 'airgap' });
    expect(Object.keys(attrs.customAttributes)).toEqual(
      expect.arrayContaining(['AirgapSite', 'AirgapKind', 'AirgapState', 'AirgapBundleSha256']),
    );
    await connection.close();
    expect(airgap(configFile, 'schedule', 'list').stdout).toMatch(/demo: every Tuesday at 06:00 UTC\n {2}next: Tue /);

    expect(airgap(configFile, 'sim', 'publish').code).toBe(0);
    const started = airgap(configFile, '--json', 'cycle', 'start', 'demo', '--by', 'e2e@demo.example');
    expect(started.stderr).toBe('');
    const id = (JSON.parse(started.stdout) as { id: string }).id;
    const waiting = await until('awaiting-transfer', () => {
      const s = airgap(configFile, '--json', 'cycle', 'status', id);
      const v = s.code === 0 ? (JSON.parse(s.stdout) as { state: string; bundle?: { sha256: string } }) : undefined;
      return v?.state === 'awaiting-transfer' ? v : undefined;
    });
    expect(airgap(configFile, 'cycle', 'start', 'demo').stderr).toMatch(/already has an open cycle/);

    // The workflow bundle was built into the data folder (issue 16) ...
    const bundleDir = path.join(dir, 'workflow-bundle');
    const bundles = fs.readdirSync(bundleDir);
    expect(bundles).toEqual([expect.stringMatching(/^workflows-[0-9a-f]+\.js$/)]);
    const bundleBuiltAt = fs.statSync(path.join(bundleDir, bundles[0]!)).mtimeMs;

    stack.child.kill('SIGINT');
    expect(await stack.exited).toBe(0);
    expect(stack.output()).toContain('stopped.');
    expect(await listening(ports.temporal)).toBe(false);

    stack = start(configFile);
    await stack.ready;
    // ... and the restart ran the same file instead of bundling again.
    expect(fs.readdirSync(bundleDir)).toEqual(bundles);
    expect(fs.statSync(path.join(bundleDir, bundles[0]!)).mtimeMs).toBe(bundleBuiltAt);
    const after = JSON.parse(airgap(configFile, '--json', 'cycle', 'status', id).stdout) as {
      state: string;
      bundle: { sha256: string };
    };
    expect(after.state).toBe('awaiting-transfer');
    expect(after.bundle.sha256).toBe(waiting.bundle!.sha256);

    expect(airgap(configFile, 'sim', 'carry', id).code).toBe(0);
    expect(
      airgap(
        configFile,
        'cycle',
        'copied',
        id,
        '--by',
        'operator@demo.example',
        '--sha256',
        after.bundle.sha256.slice(0, 12),
      ).stdout,
    ).toMatch(/^accepted/);
    await until('awaiting-approval', () =>
      JSON.parse(airgap(configFile, '--json', 'cycle', 'status', id).stdout).state === 'awaiting-approval'
        ? true
        : undefined,
    );
    const refused = airgap(configFile, 'cycle', 'approve', id, '--by', 'operator@demo.example');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused: .*not an approver/);
    // A validator's refusal is audit evidence too: who, which channel, and the reason shown.
    const shown = JSON.parse(airgap(configFile, '--json', 'audit', 'show', id).stdout) as {
      records: { type: string; actor?: { who: string; channel: string }; data?: { reason?: string } }[];
    };
    const refusal = shown.records.find((r) => r.type === 'action.refused');
    expect(refusal?.actor).toEqual({ who: 'operator@demo.example', channel: 'cli' });
    expect(refusal?.data?.reason).toMatch(/not an approver/);
    expect(airgap(configFile, 'cycle', 'approve', id, '--by', 'approver@demo.example').code).toBe(0);
    await until('completed', () =>
      JSON.parse(airgap(configFile, '--json', 'cycle', 'status', id).stdout).state === 'completed' ? true : undefined,
    );
    expect(airgap(configFile, 'audit', 'list', '--format', 'json').stdout).toContain(id);

    // A check's result is in its exit code: the simulated site starts un-hardened, so it has drifted.
    const check = airgap(configFile, 'harden', 'demo', '--check');
    expect(check.stderr).not.toMatch(/^\s+at /m);
    expect(check.code).toBe(2);

    stack.child.kill('SIGTERM');
    expect(await stack.exited).toBe(0);
  });

  it('refuses to start when a port is taken, naming the port and the setting, and starts nothing', async () => {
    const blocker = net.createServer().listen(ports.web, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const r = airgap(configFile, 'start');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${ports.web} is already in use; free it or change web.port`);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(await listening(ports.temporal)).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('refuses a corrupt Temporal database with a clear message and deletes nothing', () => {
    const db = path.join(dir, 'temporal', 'temporal.db');
    const copy = fs.readFileSync(db);
    fs.writeFileSync(db, Buffer.from('this is not a database at all, just some bytes'));
    try {
      const r = airgap(configFile, 'start');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/temporal\.db is not a readable SQLite database.*Nothing was deleted/);
      expect(fs.readFileSync(db, 'utf8')).toBe('this is not a database at all, just some bytes');
    } finally {
      fs.writeFileSync(db, copy);
    }
  });

  it('refuses an invalid configuration, naming the file and the field, and starts nothing', () => {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, stringify({ ...demoConfig(dir, ports), web: { port: 'eighty' } }));
    const r = airgap(bad, 'start');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(bad);
    expect(r.stderr).toMatch(/web\.port: expected number/);
  });

  it.each([
    ['a day of week out of range', { schedule: { cron: '0 6 * * 9' } }, /sites\.0\.schedule\.cron: .*day of week "9"/],
    [
      'a cron with four fields',
      { schedule: { cron: '0 6 * *' } },
      /sites\.0\.schedule\.cron: .*4 field\(s\); expected 5/,
    ],
    [
      'an unknown time zone',
      { schedule: { timezone: 'Mars/Olympus_Mons' } },
      /sites\.0\.schedule\.timezone: expected an IANA time zone/,
    ],
    ['a zero deadline', { waits: { deadline: '0s' } }, /sites\.0\.waits\.deadline: expected a duration longer than 0/],
  ])('refuses %s at load, naming the file and the path, and starts nothing', async (_what, siteChange, message) => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-bad-'));
    try {
      const base = demoConfig(data, ports);
      const bad = path.join(data, 'bad.yaml');
      fs.writeFileSync(bad, stringify({ ...base, sites: [{ ...base.sites[0]!, ...siteChange }] }));
      const r = airgap(bad, 'start');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Invalid configuration in ${bad}`);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(fs.readdirSync(data)).toEqual(['bad.yaml']);
      expect(await listening(ports.temporal)).toBe(false);
    } finally {
      fs.rmSync(data, { recursive: true, force: true });
    }
  });

  it('refuses a CA file that is missing or not a certificate, and an exposed web app without login, before anything starts', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-bad-'));
    try {
      const base = demoConfig(data, ports);
      const site = base.sites[0]!;
      const notPem = path.join(data, 'not-a-cert.pem');
      fs.writeFileSync(notPem, 'hello\n');
      const bad = path.join(data, 'bad.yaml');
      fs.writeFileSync(
        bad,
        stringify({
          ...base,
          sites: [
            {
              ...site,
              dmz: { ...site.dmz, manager: { ...site.dmz.manager, caFile: '/nonexistent/ca.pem' } },
              airgapped: { ...site.airgapped, manager: { ...site.airgapped.manager, caFile: notPem } },
            },
          ],
        }),
      );
      let r = airgap(bad, 'start');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(bad);
      expect(r.stderr).toContain('sites.0.dmz.manager.caFile: /nonexistent/ca.pem does not exist (expected a file)');
      expect(r.stderr).toContain(`sites.0.airgapped.manager.caFile: ${notPem} holds no PEM certificate`);
      expect(fs.readdirSync(data).sort()).toEqual(['bad.yaml', 'not-a-cert.pem']);
      expect(await listening(ports.temporal)).toBe(false);

      fs.writeFileSync(bad, stringify({ ...base, web: { host: '0.0.0.0', port: ports.web } }));
      r = airgap(bad, 'start');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/web\.auth\.mode: web\.host 0\.0\.0\.0 is reachable from other machines/);
      expect(await listening(ports.web)).toBe(false);
    } finally {
      fs.rmSync(data, { recursive: true, force: true });
    }
  });
});

/**
 * The embedded default with its isolated site, as `npm start` runs it: the shipped
 * config/demo.yaml and config/demo-airgapped.yaml (copied, with free ports, their ../data in a
 * temporary folder), one `airgap start` that runs the DMZ installation and starts the air-gapped
 * one as a child installation, and stops both on Ctrl-C.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { parse, stringify } from 'yaml';
import { freePort } from '../../src/adapters/ports';
import { runCli, startInstallation } from '../helpers/installation-process';

jest.setTimeout(300_000);

const SHIPPED = path.resolve(__dirname, '..', '..', 'config');

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** The schedules on an installation's own dev server (namespace airgap), once `count` are listed. */
async function scheduleIdsAt(port: number, count: number): Promise<string[]> {
  const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
  try {
    const client = new Client({ connection, namespace: 'airgap' });
    const end = Date.now() + 30_000;
    for (;;) {
      const ids: string[] = [];
      for await (const s of client.schedule.list()) ids.push(s.scheduleId);
      // The list is eventually consistent: a few more moments, then what is there (and one too many shows).
      if (ids.length >= count || Date.now() > end) {
        await new Promise((r) => setTimeout(r, 1000));
        const again: string[] = [];
        for await (const s of client.schedule.list()) again.push(s.scheduleId);
        return again.sort();
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await connection.close();
  }
}

type Doc = {
  temporal: { embedded: { port: number; uiPort: number } };
  web: { port: number };
  sites: { dmz: { manager: { url: string } }; airgapped: { manager: { url: string } } }[];
};

describe('npm start with the isolated demo site', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-embedded-iso-'));
  const configDir = path.join(root, 'config');
  const dmzFile = path.join(configDir, 'demo.yaml');
  const agFile = path.join(configDir, 'demo-airgapped.yaml');
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (/^(AIRGAP_|TEMPORAL_ADDRESS$)/.test(name)) delete env[name];
  if (process.env.AIRGAP_TEMPORAL_CLI) env.AIRGAP_TEMPORAL_CLI = process.env.AIRGAP_TEMPORAL_CLI;
  let agWebPort: number;
  let agTemporalPort: number;
  let dmzTemporalPort: number;

  beforeAll(async () => {
    fs.mkdirSync(configDir);
    const dmz = parse(fs.readFileSync(path.join(SHIPPED, 'demo.yaml'), 'utf8')) as Doc;
    const ag = parse(fs.readFileSync(path.join(SHIPPED, 'demo-airgapped.yaml'), 'utf8')) as Doc;
    // Every port moved to a free one; the two files keep naming the same simulated managers.
    const managers = new Map<string, number>();
    const move = async (url: string) => {
      const port = new URL(url).port;
      if (!managers.has(port)) managers.set(port, await freePort());
      return url.replace(`:${port}/`, `:${managers.get(port)}/`);
    };
    for (const doc of [dmz, ag]) {
      doc.temporal.embedded = { port: await freePort(), uiPort: await freePort() };
      doc.web.port = await freePort();
      for (const site of doc.sites) {
        site.dmz.manager.url = await move(site.dmz.manager.url);
        site.airgapped.manager.url = await move(site.airgapped.manager.url);
      }
    }
    agWebPort = ag.web.port;
    agTemporalPort = ag.temporal.embedded.port;
    dmzTemporalPort = dmz.temporal.embedded.port;
    fs.writeFileSync(dmzFile, stringify(dmz));
    fs.writeFileSync(agFile, stringify(ag));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('starts both installations with their keys and medium, and Ctrl-C stops both', async () => {
    const stack = startInstallation(dmzFile, env);
    await stack.ready;
    const banner = stack.output();
    expect(banner).toContain("made the isolated demo site's signing keys");
    expect(banner).toContain(`[air-gapped]   config           ${agFile}`);
    expect(banner).toContain(`air-gapped side  ${agFile}`);
    expect(banner).toContain(
      `medium         demo-iso: ${path.join(root, 'data', 'medium', 'outbound')} → ${path.join(root, 'data', 'medium', 'intake')}`,
    );
    // "Press Ctrl-C" is said once, by the parent, when both are up.
    expect(banner.match(/Press Ctrl-C to stop\./g)).toHaveLength(1);
    expect(await fetch(`http://127.0.0.1:${agWebPort}/`).then((r) => r.status)).toBe(200);
    for (const key of [
      path.join(root, 'data', 'keys', 'dmz.key.pem'),
      path.join(root, 'data', 'airgapped', 'keys', 'airgapped.key.pem'),
    ]) {
      expect([key, fs.statSync(key).mode & 0o777]).toEqual([key, 0o600]);
    }
    // Its own audit and Temporal: the air-gapped installation answers its own commands.
    expect(runCli(agFile, env, 'audit', 'verify').code).toBe(0);
    expect(fs.existsSync(path.join(root, 'data', 'airgapped', 'audit.sqlite'))).toBe(true);
    // The connected demo site is as it was: its cycle schedule is there, on the DMZ installation.
    expect(runCli(dmzFile, env, 'schedule', 'list').stdout).toMatch(/^demo: every Tuesday at 06:00 UTC/m);
    // Each installation's Temporal holds its own schedules: the DMZ one the cycles (and the
    // connected site's drift check), the air-gapped one the isolated site's drift check, which
    // reads the air-gapped manager.
    expect(await scheduleIdsAt(dmzTemporalPort, 4)).toEqual([
      'airgap-audit-maintenance',
      'airgap-cycle-demo',
      'airgap-cycle-demo-iso',
      'airgap-harden-check-demo',
    ]);
    expect(await scheduleIdsAt(agTemporalPort, 2)).toEqual([
      'airgap-audit-maintenance',
      'airgap-harden-check-demo-iso',
    ]);

    stack.child.kill('SIGINT');
    expect(await stack.exited).toBe(0);
    expect(stack.output()).toContain('[air-gapped] stopped.');
    expect(await listening(agTemporalPort)).toBe(false);
    expect(await listening(agWebPort)).toBe(false);
  });

  it("refuses to start when the air-gapped installation's port is taken, naming its file and setting", async () => {
    const blocker = net.createServer().listen(agWebPort, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const r = runCli(dmzFile, env, 'start');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${agWebPort} is already in use; free it or change web.port in ${agFile}`);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    } finally {
      blocker.close();
    }
  });
});

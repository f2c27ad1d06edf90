/** The app over a real socket, as browsers and mail scanners reach it. */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import nodePath from 'node:path';
import { OutboxMailer } from '../../src/adapters/outbox';
import { actionLinkUrl } from '../../src/domain/link-token';
import { transferInstructionsMail } from '../../src/domain/mail/templates';
import { PortInUseError } from '../../src/runtime/dev-server';
import { createApp } from '../../src/web/app';
import { noAuth, sharedSecretAuth } from '../../src/web/auth';
import { serveApp, type RunningServer } from '../../src/web/serve';
import { allowedHostsOf } from '../../src/runtime/web-server';
import { parseConfig } from '../../src/domain/config';
import { CookieJar, csrfFieldOf, form, KEYS, NOW, RecordingGateway, SHA, tokenFor } from './support';

describe('serveApp', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves link pages on a free loopback port; HEAD and GET act on nothing, the form POST acts once with the client address', async () => {
    const gateway = new RecordingGateway();
    server = await serveApp(createApp({ actions: gateway, keys: KEYS, auth: noAuth(), now: () => NOW }), {
      host: '127.0.0.1',
      port: 0,
    });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const url = `${server.url}/a/${tokenFor('approve')}`;

    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('referrer-policy')).toBe('no-referrer');
    const jar = new CookieJar();
    const page = await fetch(url);
    jar.store(page);
    const html = await page.text();
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(gateway.performs).toHaveLength(0);

    const f = form({ csrf: csrfFieldOf(html) });
    const path = new URL(url).pathname;
    const done = await fetch(url, {
      method: 'POST',
      body: f.body,
      headers: { ...f.headers, cookie: jar.header(path), origin: 'null' },
      redirect: 'manual',
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('<h1>Done</h1>');
    expect(gateway.performs).toHaveLength(1);
    expect(gateway.performs[0]!.request.address).toMatch(/127\.0\.0\.1$/);
  });

  it('redirects to the login form and lets the operator in with the shared secret', async () => {
    const secret = 'a shared secret for the socket test';
    server = await serveApp(
      createApp({ actions: new RecordingGateway(), keys: KEYS, auth: sharedSecretAuth({ secret }), now: () => NOW }),
      { host: '127.0.0.1', port: 0 },
    );
    const home = await fetch(`${server.url}/`, { redirect: 'manual' });
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/login?next=%2F');
    const f = form({ secret, next: '/' });
    const login = await fetch(`${server.url}/login`, { method: 'POST', ...f, redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    const again = await fetch(`${server.url}/`, { headers: { cookie }, redirect: 'manual' });
    expect(again.status).toBe(200);
  });

  it('reports a taken port as PortInUseError naming the setting', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    const app = createApp({ actions: new RecordingGateway(), keys: KEYS, auth: noAuth() });
    const error = await serveApp(app, { host: '127.0.0.1', port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortInUseError);
    expect((error as Error).message).toContain('web.port');
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  });

  /** A raw request with the Host header a DNS-rebinding page would make the browser send. */
  function raw(
    url: string,
    options: { method?: string; host: string; headers?: Record<string, string>; body?: string },
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        { method: options.method ?? 'GET', headers: { ...options.headers, host: options.host } },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });
  }

  it('serves only the configured names: another Host header reads no outbox and acts on nothing (DNS rebinding)', async () => {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'airgap-host-'));
    const outbox = OutboxMailer.inDataDir(dir, 'airgap <airgap@demo.example>', () => NOW);
    const liveToken = tokenFor('file-copied');
    await outbox.send(
      transferInstructionsMail({
        run: { siteId: 'demo', workflowId: 'cycle-demo-2026-11-25T06:00', kind: 'cycle' },
        recipient: 'operator@demo.example',
        fileCopiedUrl: actionLinkUrl('https://airgap.plant1.example', liveToken),
        bundle: { fileName: 'ds-updates-20261125.zip', sha256: SHA, sizeBytes: 1234 },
        relays: [{ name: 'demo-airgap-relay', os: 'linux', targetFolder: '/opt/ds_agent/relay' }],
      }),
    );
    const gateway = new RecordingGateway();
    try {
      server = await serveApp(
        createApp({
          actions: gateway,
          keys: KEYS,
          auth: noAuth(),
          now: () => NOW,
          outbox,
          publicUrl: 'https://airgap.plant1.example',
          allowedHosts: ['airgap-dmz:8080'],
        }),
        { host: '127.0.0.1', port: 0 },
      );
      const port = server.port;
      const link = `${server.url}/a/${tokenFor('approve')}`;
      // Served: the loopback names at this port, publicUrl's host (no port: the scheme's default), an allowed name:port.
      for (const host of [
        `127.0.0.1:${port}`,
        `localhost:${port}`,
        'airgap.plant1.example',
        'airgap.plant1.example:443',
        'airgap-dmz:8080',
      ]) {
        const read = await raw(`${server.url}/outbox/1`, { host });
        expect([host, read.status]).toEqual([host, 200]);
        expect(read.body).toContain('ds-updates-20261125.zip');
      }
      for (const host of [
        'attacker.example:8080',
        `attacker.example:${port}`,
        'airgap.plant1.example:8443',
        'airgap-dmz:9090',
        'airgap.plant1.example.attacker.example',
      ]) {
        for (const page of ['/outbox', '/outbox/1', '/']) {
          const read = await raw(`${server.url}${page}`, { host });
          expect([host, page, read.status]).toEqual([host, page, 421]);
          expect(read.body).toContain('does not answer to the name');
          expect(read.body).not.toContain(liveToken);
          expect(read.body).not.toContain('ds-updates-20261125.zip');
        }
      }
      // A POST through a foreign name acts on nothing, even with a matching Origin and a valid form.
      const jar = new CookieJar();
      const page = await fetch(link);
      jar.store(page);
      const f = form({ csrf: csrfFieldOf(await page.text()) });
      const linkPath = new URL(link).pathname;
      const posted = await raw(link, {
        method: 'POST',
        host: 'attacker.example:8080',
        headers: { ...f.headers, cookie: jar.header(linkPath), origin: 'http://attacker.example:8080' },
        body: f.body.toString(),
      });
      expect(posted.status).toBe(421);
      expect(gateway.performs).toHaveLength(0);
      // The Origin is compared with the configured names, not with the Host the request claims.
      const spoofed = await raw(link, {
        method: 'POST',
        host: `127.0.0.1:${port}`,
        headers: { ...f.headers, cookie: jar.header(linkPath), origin: 'http://attacker.example:8080' },
        body: f.body.toString(),
      });
      expect(spoofed.status).toBe(403);
      expect(gateway.performs).toHaveLength(0);
      const own = await raw(link, {
        method: 'POST',
        host: 'airgap.plant1.example',
        headers: { ...f.headers, cookie: jar.header(linkPath), origin: 'https://airgap.plant1.example' },
        body: f.body.toString(),
      });
      expect(own.status).toBe(200);
      expect(gateway.performs).toHaveLength(1);
    } finally {
      await outbox.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('derives the served names from the configuration: the listen name and web.allowedHosts, never 0.0.0.0', () => {
    const site = {
      id: 'p',
      dmz: { manager: { url: 'https://d:4119/api', apiKeyEnv: 'D' }, relay: { name: 'd-relay', computerId: 1 } },
      airgapped: {
        manager: { url: 'https://a:4119/api', apiKeyEnv: 'A' },
        relays: [{ name: 'a-relay', computerId: 2 }],
      },
      people: { operators: ['op@p.example'] },
    };
    const auth = { mode: 'shared-secret', secretEnv: 'WEB_SECRET' };
    expect(
      allowedHostsOf(
        parseConfig({ web: { host: '0.0.0.0', auth, allowedHosts: ['airgap:8080'] }, sites: [site] }, 'x.yaml'),
      ),
    ).toEqual(['airgap:8080']);
    expect(allowedHostsOf(parseConfig({ web: { host: '10.0.0.5', auth }, sites: [site] }, 'x.yaml'))).toEqual([
      '10.0.0.5',
    ]);
    expect(allowedHostsOf(parseConfig({ sites: [site] }, 'x.yaml'))).toEqual(['127.0.0.1']);
  });
});

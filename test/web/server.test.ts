/** The app over a real socket, as browsers and mail scanners reach it. */
import net from 'node:net';
import { PortInUseError } from '../../src/runtime/dev-server';
import { createApp } from '../../src/web/app';
import { noAuth, sharedSecretAuth } from '../../src/web/auth';
import { serveApp, type RunningServer } from '../../src/web/serve';
import { CookieJar, csrfFieldOf, form, KEYS, NOW, RecordingGateway, tokenFor } from './support';

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
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutboxMailer } from '../../src/adapters/outbox';
import { approvalRequestMail } from '../../src/domain/mail/templates';
import { createApp } from '../../src/web/app';
import { authenticatorFromConfig, noAuth, safeNext, sharedSecretAuth, WebAuthConfigError } from '../../src/web/auth';
import { webSecretFromEnv } from '../../src/runtime/secrets';
import type { HistoryFilter, HistoryPage, Overview, RunDetail, WebDeps } from '../../src/web/deps';
import { CookieJar, form, KEYS, NOW, RecordingGateway, SHA, squash, tokenFor } from './support';

const SECRET = 'correct horse battery staple';

const overview: Overview = {
  runs: [
    {
      workflowId: 'cycle-demo-2026-11-25T06:00',
      site: 'demo',
      kind: 'cycle',
      title: 'cycle demo-2026-11-25T06:00',
      state: 'waiting for the transfer',
      startedAt: NOW - 4 * 3_600_000,
      waiting: {
        what: 'file copied',
        from: ['operator@demo.example'],
        since: NOW - 3 * 3_600_000,
        until: NOW + 86_400_000,
      },
    },
  ],
  notices: [{ level: 'warning', site: 'demo', text: 'last successful import 9d ago' }],
};

const run: RunDetail = {
  workflowId: 'cycle-demo-2026-11-25T06:00',
  site: 'demo',
  kind: 'cycle',
  title: 'cycle demo-2026-11-25T06:00',
  state: 'waiting for the transfer',
  startedAt: NOW - 4 * 3_600_000,
  facts: [{ label: 'SHA-256', value: SHA }],
  events: [
    { at: NOW - 3 * 3_600_000, kind: 'mail sent', text: 'transfer instructions to operator@demo.example' },
    { at: NOW - 4 * 3_600_000, kind: 'started', text: 'by the schedule <weekly>' },
  ],
};

function setup(overrides: Partial<WebDeps> = {}) {
  const searches: HistoryFilter[] = [];
  const app = createApp({
    actions: new RecordingGateway(),
    keys: KEYS,
    auth: sharedSecretAuth({ secret: SECRET, maxFailuresPerMinute: 3 }),
    now: () => NOW,
    overview: { overview: async () => overview },
    runs: { run: async (id) => (id === run.workflowId ? run : undefined) },
    history: {
      search: async (filter): Promise<HistoryPage> => {
        searches.push(filter);
        return {
          entries: [
            {
              workflowId: 'cycle-demo-2026-11-18T06:00',
              site: 'demo',
              kind: 'cycle',
              title: 'cycle demo-2026-11-18T06:00',
              outcome: 'completed',
              startedAt: NOW - 7 * 86_400_000,
              endedAt: NOW - 7 * 86_400_000 + 3_600_000,
            },
          ],
          nextCursor: 'page-2',
        };
      },
    },
    sites: [{ id: 'demo', name: 'Demo plant' }],
    ...overrides,
  });
  const jar = new CookieJar();
  const request = async (p: string, init: RequestInit = {}) => {
    const res = await app.request(p, { ...init, headers: { cookie: jar.header(p), ...(init.headers ?? {}) } });
    jar.store(res);
    return res;
  };
  const login = async (secret = SECRET, next = '/') => request('/login', { method: 'POST', ...form({ secret, next }) });
  return { app, jar, request, login, searches };
}

describe('login with a shared secret', () => {
  it('is required for every dashboard page, which redirect to the login form with where to return', async () => {
    const { request } = setup();
    for (const p of ['/', '/runs/x', '/history?site=demo', '/outbox', '/outbox/1']) {
      const res = await request(p);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent(p)}`);
    }
    const login = await request('/login?next=%2Fhistory');
    const page = squash(await login.text());
    expect(page).toContain('<label for="secret">Shared secret</label>');
    expect(page).toContain('name="next" value="/history"');
  });

  it('is not needed for mail links, the stylesheet or the health check', async () => {
    const { request } = setup();
    expect((await request(`/a/${tokenFor('approve')}`)).status).toBe(200);
    expect((await request('/static/app.css')).status).toBe(200);
    expect((await request('/healthz')).status).toBe(200);
  });

  it('refuses a wrong secret and lets the right one in with an HttpOnly SameSite=Strict session cookie', async () => {
    const { request, login } = setup();
    const wrong = await login('wrong secret, long enough');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('That secret is not right.');
    expect((await request('/')).status).toBe(303);

    const right = await login(SECRET, '/history?site=demo');
    expect(right.status).toBe(303);
    expect(right.headers.get('location')).toBe('/history?site=demo');
    const cookie = right.headers.getSetCookie().find((c) => c.startsWith('airgap_session='))!;
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const home = await request('/');
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('<h1>Open runs</h1>');
  });

  it('ignores a session cookie that was altered or signed for another secret', async () => {
    const { app, login } = setup();
    const res = await login();
    const session = res.headers.getSetCookie()[0]!.split(';')[0]!;
    const [name, value] = session.split('=') as [string, string];
    const [body, sig] = value.split('.') as [string, string];
    const longer = Buffer.from(
      Buffer.from(body, 'base64url')
        .toString()
        .replace(/"exp":\d+/, '"exp":99999999999999'),
    ).toString('base64url');
    expect((await app.request('/', { headers: { cookie: session } })).status).toBe(200);
    expect((await app.request('/', { headers: { cookie: `${name}=${longer}.${sig}` } })).status).toBe(303);
    const other = setup({ auth: sharedSecretAuth({ secret: 'another shared secret of enough length' }) });
    expect((await other.app.request('/', { headers: { cookie: session } })).status).toBe(303);
  });

  it('never redirects outside the site after login', async () => {
    const { login } = setup();
    for (const next of ['https://evil.example/', '//evil.example', '/\\evil.example', 'javascript:alert(1)', ' /x']) {
      const res = await login(SECRET, next);
      expect(res.headers.get('location')).toBe('/');
    }
    expect(safeNext('/runs/a?b=c')).toBe('/runs/a?b=c');
  });

  it('makes a client wait after repeated wrong secrets', async () => {
    const { login } = setup();
    for (let i = 0; i < 3; i++) expect((await login('wrong secret number ' + i)).status).toBe(401);
    const throttled = await login(SECRET);
    expect(throttled.status).toBe(429);
  });

  it('ends with logout', async () => {
    const { request, login } = setup();
    await login();
    expect((await request('/')).status).toBe(200);
    const out = await request('/logout', { method: 'POST' });
    expect(out.status).toBe(303);
    expect((await request('/')).status).toBe(303);
  });

  it('is built from the config, refusing a missing or short secret', () => {
    const auth = { mode: 'shared-secret' as const, secretEnv: 'AIRGAP_WEB_SECRET' };
    // The secret is resolved at start (runtime/secrets.ts), then handed to the authenticator.
    const fromEnv = (a: typeof auth | { mode: 'none' }, env: Record<string, string>) =>
      authenticatorFromConfig(a, webSecretFromEnv(a, env));
    expect(fromEnv(auth, { AIRGAP_WEB_SECRET: SECRET }).required).toBe(true);
    expect(() => fromEnv(auth, {})).toThrow(/AIRGAP_WEB_SECRET.*unset/);
    expect(() => fromEnv(auth, { AIRGAP_WEB_SECRET: 'short' })).toThrow(WebAuthConfigError);
    expect(fromEnv({ mode: 'none' }, {}).required).toBe(false);
  });
});

describe('the dashboard', () => {
  it('lists open runs with what each waits for, from whom, since and until, and the notices', async () => {
    const { request } = setup({ auth: noAuth() });
    const page = squash(await (await request('/')).text());
    expect(page).toContain('<a href="/runs/cycle-demo-2026-11-25T06%3A00">cycle demo-2026-11-25T06:00</a>');
    expect(page).toContain('<td>file copied</td><td>operator@demo.example</td>');
    expect(page).toContain('(3h ago)');
    expect(page).toContain('(in 1d)');
    expect(page).toContain('last successful import 9d ago');
    expect(page).toContain('aria-current="page"');
  });

  it('shows a run timeline in time order, escaped', async () => {
    const { request } = setup({ auth: noAuth() });
    const res = await request('/runs/cycle-demo-2026-11-25T06%3A00');
    const page = squash(await res.text());
    expect(res.status).toBe(200);
    expect(page.indexOf('by the schedule &lt;weekly&gt;')).toBeGreaterThan(0);
    expect(page.indexOf('by the schedule')).toBeLessThan(page.indexOf('transfer instructions to'));
    expect((await request('/runs/unknown')).status).toBe(404);
  });

  it('passes history filters to the provider and links to the next page with the same filters', async () => {
    const { request, searches } = setup({ auth: noAuth() });
    const res = await request('/history?site=demo&outcome=completed&from=2026-11-01&to=2026-11-30&text=ds-updates');
    const page = squash(await res.text());
    expect(res.status).toBe(200);
    expect(searches[0]).toEqual({
      limit: 50,
      site: 'demo',
      outcome: 'completed',
      from: Date.UTC(2026, 10, 1),
      to: Date.UTC(2026, 11, 1),
      text: 'ds-updates',
    });
    expect(page).toContain('<option value="demo" selected>Demo plant (demo)</option>');
    expect(page).toContain(
      'href="/history?site=demo&amp;outcome=completed&amp;from=2026-11-01&amp;to=2026-11-30&amp;text=ds-updates&amp;cursor=page-2"',
    );
    expect(page).toMatch(/<label for="f-from">Started from<\/label><input type="date" id="f-from"/);
  });

  it('answers a bad history filter with a 400 page naming the filter', async () => {
    const { request } = setup({ auth: noAuth() });
    const res = await request('/history?from=2026-02-30');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('The filter &quot;from&quot; must be a date like 2026-11-25');
  });

  it('says when a provider is not connected instead of failing', async () => {
    const { app } = setup({ auth: noAuth(), overview: undefined, history: undefined });
    expect(await (await app.request('/')).text()).toContain('not connected');
    expect(await (await app.request('/history')).text()).toContain('not connected');
  });
});

describe('the outbox pages', () => {
  let dir: string;
  let outbox: OutboxMailer;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-web-outbox-'));
    outbox = OutboxMailer.inDataDir(dir, 'airgap <airgap@demo.example>', () => NOW);
  });
  afterEach(async () => {
    await outbox.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('list the mails and show one with its text links clickable and its HTML in a sandboxed frame', async () => {
    const approveUrl = `http://127.0.0.1:8080/a/${tokenFor('approve')}`;
    await outbox.send(
      approvalRequestMail({
        run: { siteId: 'demo', workflowId: 'cycle-demo-2026-11-25T06:00', kind: 'cycle' },
        recipient: 'approver@demo.example',
        approveUrl,
        rejectUrl: `http://127.0.0.1:8080/a/${tokenFor('reject')}`,
        bundle: { fileName: 'ds-updates-20261125.zip', sha256: SHA, sizeBytes: 1000 },
        versions: [],
        carriedBy: 'operator@demo.example',
      }),
    );
    const { request } = setup({ auth: noAuth(), outbox });
    const list = squash(await (await request('/outbox')).text());
    expect(list).toContain('<a href="/outbox/1">[airgap demo] cycle cycle-demo-2026-11-25T06:00 — approve or reject');

    const entry = squash(await (await request('/outbox/1')).text());
    expect(entry).toContain(`<a href="${approveUrl}">${approveUrl}</a>`);
    expect(entry).toMatch(
      /<iframe class="mail" title="HTML version of the mail" src="\/outbox\/1\/html" sandbox="[^"]*"/,
    );
    expect(entry).not.toContain('allow-scripts');

    const frame = await request('/outbox/1/html');
    expect(frame.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'unsafe-inline'/);
    expect(frame.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
    expect(frame.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(await frame.text()).toContain('<base target="_top">');
  });

  it('answer 404 for an unknown mail or when mail goes to SMTP', async () => {
    const withOutbox = setup({ auth: noAuth(), outbox });
    expect((await withOutbox.request('/outbox/99')).status).toBe(404);
    expect((await withOutbox.request('/outbox/abc')).status).toBe(404);
    const withoutOutbox = setup({ auth: noAuth() });
    const res = await withoutOutbox.request('/outbox');
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('No outbox');
  });
});

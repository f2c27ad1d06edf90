import { createApp, CONTENT_SECURITY_POLICY, WebConfigError } from '../../src/web/app';
import { noAuth } from '../../src/web/auth';
import type { WebDeps } from '../../src/web/deps';
import { WebError } from '../../src/web/errors';
import {
  ALL_ACTIONS,
  CookieJar,
  csrfFieldOf,
  form,
  KEYS,
  NOW,
  RecordingGateway,
  SHA,
  tokenFor,
  squash,
  WORKFLOW_ID,
} from './support';

function setup(overrides: Partial<WebDeps> = {}) {
  const gateway = new RecordingGateway();
  const logs: string[] = [];
  const app = createApp({
    actions: gateway,
    keys: KEYS,
    auth: noAuth(),
    now: () => NOW,
    log: (m) => logs.push(m),
    ...overrides,
  });
  const jar = new CookieJar();
  const get = async (path: string, method: 'GET' | 'HEAD' = 'GET') => {
    const res = await app.request(path, { method, headers: { cookie: jar.header(path) } });
    jar.store(res);
    return res;
  };
  const post = async (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) => {
    const f = form(fields);
    const res = await app.request(path, {
      method: 'POST',
      body: f.body,
      headers: { ...f.headers, cookie: jar.header(path), ...headers },
    });
    jar.store(res);
    return res;
  };
  /** Opens the link's page, then submits its form with the given fields. */
  const confirm = async (path: string, fields: Record<string, string> = {}) => {
    const page = await (await get(path)).text();
    return post(path, { csrf: csrfFieldOf(page), ...fields });
  };
  return { app, gateway, jar, get, post, confirm, logs };
}

describe('the confirmation page of a link', () => {
  it('shows the site, run, file, digest, versions, who asked and the deadline, with a form posting to the same URL', async () => {
    const { get, gateway } = setup();
    const path = `/a/${tokenFor('approve')}`;
    const res = await get(path);
    const page = squash(await res.text());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page).toContain('<h1>Approve the import</h1>');
    for (const fact of [
      'Demo plant',
      'cycle demo-2026-11-25T06:00',
      'ds-updates-20261125.zip',
      SHA,
      '19.451.00 → <strong>19.455.00</strong>',
      'the weekly schedule',
      'operator@demo.example',
      '2026-11-27 10:00 UTC',
      'approver@demo.example',
    ]) {
      expect(page).toContain(fact);
    }
    expect(page).toContain(`<form method="post" action="${path}"`);
    expect(page).toMatch(/<input type="hidden" name="csrf" value="[A-Za-z0-9_-]{43}">/);
    expect(page).toMatch(/<label for="comment">Comment \(optional\)<\/label>/);
    expect(page).not.toMatch(/<script|onload=|http-equiv="refresh"/i);
    expect(gateway.describes).toHaveLength(1);
    expect(gateway.performs).toHaveLength(0);
  });

  it('escapes what the gateway says', async () => {
    const { get } = setup();
    const page = squash(await (await get(`/a/${tokenFor('approve')}`)).text());
    expect(page).toContain('Anti-Malware pattern &lt;&amp;&gt;');
    expect(page).not.toContain('pattern <&>');
  });

  it('asks for the SHA-256 on a file-copied link, with a label and help text', async () => {
    const { get } = setup();
    const page = squash(await (await get(`/a/${tokenFor('file-copied')}`)).text());
    expect(page).toContain('<label for="sha256">SHA-256 of the copied file</label>');
    expect(page).toMatch(/<input type="text" id="sha256" name="sha256" required minlength="12"/);
    expect(page).toContain('/opt/ds_agent/relay');
  });

  it('does not show the expected digest on the page that asks for it; it shows the file, its size and the command per relay OS', async () => {
    const gateway = new RecordingGateway();
    const describe = gateway.describe.bind(gateway);
    gateway.describe = async (payload, tokenId) => {
      const view = await describe(payload, tokenId);
      return view.state === 'waiting'
        ? {
            ...view,
            relays: [
              { name: 'demo-airgap-relay', os: 'linux', targetFolder: '/opt/ds_agent/relay' },
              {
                name: 'win-relay',
                os: 'windows',
                targetFolder: 'C:\\Program Files\\Trend Micro\\Deep Security Agent\\',
              },
            ],
          }
        : view;
    };
    const app = createApp({ actions: gateway, keys: KEYS, auth: noAuth(), now: () => NOW });
    const page = squash(await (await app.request(`/a/${tokenFor('file-copied')}`)).text());
    for (let i = 0; i + 12 <= 64; i++) expect(page).not.toContain(SHA.slice(i, i + 12));
    expect(page).not.toContain('<dt>SHA-256</dt>');
    expect(page).toContain('<code>ds-updates-20261125.zip</code>');
    expect(page).toContain('150.0 MB (157,286,400 bytes)');
    expect(page).toContain('<code>sha256sum &#39;/opt/ds_agent/relay/ds-updates-20261125.zip&#39;</code>');
    expect(page).toContain(
      '<code>Get-FileHash -Algorithm SHA256 -LiteralPath &#39;C:\\Program Files\\Trend Micro\\Deep Security Agent\\ds-updates-20261125.zip&#39;</code>',
    );
    // The approver, who compares rather than computes, still sees the digest.
    const approve = squash(await (await app.request(`/a/${tokenFor('approve')}`)).text());
    expect(approve).toContain(SHA);
  });

  it('shows the steps on a manual-step link', async () => {
    const { get } = setup();
    const page = squash(await (await get(`/a/${tokenFor('manual-done')}`)).text());
    expect(page).toContain('<li>Download Security Updates</li>');
    expect(page).toContain('Confirm: step done');
  });

  it('sets a CSRF cookie scoped to the link path, HttpOnly and SameSite=Strict', async () => {
    const { app } = setup();
    const token = tokenFor('reject');
    const res = await app.request(`/a/${token}`);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('airgap_csrf='));
    expect(cookie).toBeDefined();
    expect(cookie).toContain(`Path=/a/${token}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
  });
});

describe('GET and HEAD on links', () => {
  it('act on nothing, even in bursts on every kind of link', async () => {
    const { app, gateway } = setup();
    const requests: Array<Response | Promise<Response>> = [];
    for (const action of ALL_ACTIONS) {
      const path = `/a/${tokenFor(action)}`;
      for (let i = 0; i < 20; i++) {
        requests.push(app.request(path));
        requests.push(app.request(path, { method: 'HEAD' }));
      }
    }
    const responses = await Promise.all(requests);
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    const heads = responses.filter((_, i) => i % 2 === 1);
    for (const head of heads) expect(await head.text()).toBe('');
    expect(gateway.describes).toHaveLength(ALL_ACTIONS.length * 40);
    expect(gateway.performs).toHaveLength(0);
  });
});

describe('POST on links', () => {
  it('performs once with the typed SHA-256, normalised, and shows the done page', async () => {
    const { confirm, gateway } = setup();
    const path = `/a/${tokenFor('file-copied')}`;
    const typed = `${SHA.slice(0, 8).toUpperCase()} ${SHA.slice(8, 20)}`;
    const res = await confirm(path, { sha256: typed });
    const page = squash(await res.text());
    expect(res.status).toBe(200);
    expect(page).toContain('<h1>Done</h1>');
    expect(page).toContain('Recorded: file copied.');
    expect(gateway.performs).toHaveLength(1);
    expect(gateway.performs[0]!.payload).toMatchObject({ workflowId: WORKFLOW_ID, action: 'file-copied' });
    expect(gateway.performs[0]!.request).toEqual({
      tokenId: gateway.describes[0]!.tokenId,
      confirmedSha256: SHA.slice(0, 20),
    });
    // The link's own token goes along as the `mail-link` proof (domain/proof.ts).
    expect(gateway.performs[0]!.proof).toEqual({ kind: 'mail-link', credential: path.slice('/a/'.length) });
  });

  it('passes an approver comment along', async () => {
    const { confirm, gateway } = setup();
    await confirm(`/a/${tokenFor('approve')}`, { comment: '  checked the versions \u0007 ' });
    expect(gateway.performs[0]!.request.comment).toBe('checked the versions');
  });

  it('re-asks for the SHA-256 without acting when fewer than 12 hex digits are typed', async () => {
    const { confirm, gateway } = setup();
    for (const typed of ['', '9f86d08188', 'zzzzzzzzzzzzzz', `${SHA}00`]) {
      const res = await confirm(`/a/${tokenFor('file-copied')}`, { sha256: typed });
      const page = squash(await res.text());
      expect(res.status).toBe(422);
      expect(page).toContain('role="alert"');
      expect(page).toContain('aria-invalid="true"');
    }
    expect(gateway.performs).toHaveLength(0);
  });

  it('shows the gateway refusal and a way back to the form', async () => {
    const { confirm, gateway } = setup();
    const path = `/a/${tokenFor('file-copied')}`;
    const res = await confirm(path, { sha256: '000000000000' });
    const page = squash(await res.text());
    expect(res.status).toBe(409);
    expect(page).toContain('That SHA-256 does not match the bundle.');
    expect(page).toContain(`<a href="${path}">Back to the form</a>`);
    expect(gateway.performs).toHaveLength(1);
  });

  it('is refused without the CSRF field, with a wrong one, with another link’s, or without the cookie', async () => {
    const { app, get, post, gateway } = setup();
    const path = `/a/${tokenFor('approve')}`;
    const otherPath = `/a/${tokenFor('approve')}`;
    const ownField = csrfFieldOf(await (await get(path)).text());
    const otherField = csrfFieldOf(await (await get(otherPath)).text());
    const attempts = [
      await post(path, {}),
      await post(path, { csrf: 'A'.repeat(43) }),
      await post(path, { csrf: otherField }),
      await app.request(path, { method: 'POST', ...form({ csrf: ownField }) }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('Please confirm on the page');
    }
    expect(gateway.performs).toHaveLength(0);
    expect((await post(path, { csrf: ownField })).status).toBe(200);
    expect(gateway.performs).toHaveLength(1);
  });

  it('is refused when another site sends it, even with a valid CSRF pair', async () => {
    const { get, post, gateway } = setup();
    const path = `/a/${tokenFor('approve')}`;
    const field = csrfFieldOf(await (await get(path)).text());
    const crossSite = await post(path, { csrf: field }, { 'sec-fetch-site': 'cross-site' });
    const foreignOrigin = await post(path, { csrf: field }, { origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(foreignOrigin.status).toBe(403);
    expect(gateway.performs).toHaveLength(0);
    // Our own forms send "Origin: null" under Referrer-Policy: no-referrer.
    const own = await post(path, { csrf: field }, { origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect(own.status).toBe(200);
    expect(gateway.performs).toHaveLength(1);
  });

  it('twice calls the gateway twice and shows the already-decided page the second time', async () => {
    const { get, post, gateway } = setup();
    const path = `/a/${tokenFor('approve')}`;
    const field = csrfFieldOf(await (await get(path)).text());
    const first = await (await post(path, { csrf: field })).text();
    const second = await post(path, { csrf: field });
    const page = squash(await second.text());
    expect(first).toContain('<h1>Done</h1>');
    expect(second.status).toBe(200);
    expect(page).toContain('<h1>Already decided</h1>');
    expect(page).toContain('<strong>approved</strong> by approver@demo.example');
    expect(page).toContain('2026-11-25 10:00 UTC');
    expect(gateway.performs).toHaveLength(2);
    expect(gateway.performs[0]!.request.tokenId).toBe(gateway.performs[1]!.request.tokenId);
  });

  it('on a reject link after an approval shows who approved, and GET shows it too', async () => {
    const { confirm, get, gateway } = setup();
    await confirm(`/a/${tokenFor('approve')}`);
    const rejectPath = `/a/${tokenFor('reject')}`;
    const page = squash(await (await get(rejectPath)).text());
    expect(page).toContain('<h1>Already decided</h1>');
    expect(page).not.toContain('<form method="post" action="/a/');
    expect(gateway.performs).toHaveLength(1);
  });
});

describe('links that cannot be used', () => {
  it('show the invalid-link page when altered, forged, cut off or signed with another key, without asking the gateway', async () => {
    const { app, gateway } = setup();
    const token = tokenFor('approve');
    const [body, sig] = token.split('.') as [string, string];
    const altered = `${Buffer.from(
      Buffer.from(body, 'base64url').toString('utf8').replace('approver@', 'mallory@'),
    ).toString('base64url')}.${sig}`;
    const foreign = tokenFor('approve', {}, { current: Buffer.from('another-key-of-32-bytes-or-more-0123456789') });
    for (const bad of [altered, foreign, token.slice(0, -5), 'not-a-token', `${token}.x`]) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await app.request(`/a/${bad}`, { method, ...(method === 'POST' ? form({ csrf: 'x' }) : {}) });
        expect(res.status).toBe(400);
        expect(await res.text()).toContain('This link is not valid');
      }
    }
    expect(gateway.describes).toHaveLength(0);
    expect(gateway.performs).toHaveLength(0);
  });

  it('show the expired page after the link expiry', async () => {
    const { app, gateway } = setup();
    const token = tokenFor('file-copied', { expiresAt: NOW - 1 });
    const res = await app.request(`/a/${token}`);
    expect(res.status).toBe(410);
    expect(await res.text()).toContain('This link has expired');
    const posted = await app.request(`/a/${token}`, { method: 'POST', ...form({ csrf: 'x' }) });
    expect(posted.status).toBe(410);
    expect(gateway.describes).toHaveLength(0);
    expect(gateway.performs).toHaveLength(0);
  });

  it('signed with the previous key still work during a key rotation', async () => {
    const oldKey = Buffer.from('the-previous-link-key-0123456789abcdef');
    const { confirm, gateway } = setup({ keys: { current: KEYS.current, previous: oldKey } });
    const res = await confirm(`/a/${tokenFor('approve', {}, { current: oldKey })}`);
    expect(await res.text()).toContain('<h1>Done</h1>');
    expect(gateway.performs).toHaveLength(1);
  });

  it('show the no-longer-waiting page when the run has moved on', async () => {
    const { get, gateway } = setup();
    gateway.noLongerWaiting = 'cancelled by operator@demo.example';
    const res = await get(`/a/${tokenFor('file-copied')}`);
    const page = squash(await res.text());
    expect(res.status).toBe(200);
    expect(page).toContain('<h1>No longer waiting</h1>');
    expect(page).toContain('cancelled by operator@demo.example');
    expect(page).not.toContain('<form method="post" action="/a/');
  });

  it('show a try-again page when the gateway cannot reach the orchestrator, and a logged 500 on a bug', async () => {
    const unavailable = setup({
      actions: {
        describe: async () => {
          throw WebError.unavailable('The orchestrator is not reachable right now. Try again in a minute.');
        },
        perform: async () => {
          throw new Error('unreachable');
        },
      },
    });
    const res = await unavailable.get(`/a/${tokenFor('approve')}`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('Try again in a minute.');

    const broken = setup({
      actions: {
        describe: async () => {
          throw new Error('secret internal detail');
        },
        perform: async () => {
          throw new Error('unreachable');
        },
      },
    });
    const failed = await broken.get(`/a/${tokenFor('approve')}`);
    const page = squash(await failed.text());
    expect(failed.status).toBe(500);
    expect(page).toContain('Something went wrong');
    expect(page).not.toContain('secret internal detail');
    expect(broken.logs.join('\n')).toContain('secret internal detail');
    expect(broken.logs.join('\n')).not.toContain(tokenFor('approve').slice(0, 30));
  });
});

describe('security headers', () => {
  it('are on every response: pages, errors, HEAD, 404 and static files', async () => {
    const { app } = setup();
    const token = tokenFor('approve');
    const responses = [
      await app.request(`/a/${token}`),
      await app.request(`/a/${token}`, { method: 'HEAD' }),
      await app.request('/a/garbage'),
      await app.request(`/a/${token}`, { method: 'POST', ...form({}) }),
      await app.request('/no/such/page'),
      await app.request('/'),
      await app.request('/static/app.css'),
    ];
    for (const res of responses) {
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'/);
    for (const res of responses.slice(0, 6)) expect(res.headers.get('cache-control')).toBe('no-store');
    expect(responses[4]!.status).toBe(404);
    expect(responses[6]!.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('come with pages that load no script and no inline style', async () => {
    const { app } = setup();
    const page = squash(await (await app.request(`/a/${tokenFor('approve')}`)).text());
    expect(page).not.toMatch(/<script|style="| on[a-z]+="/i);
    expect(page).toContain('<link rel="stylesheet" href="/static/app.css">');
  });

  it('let no form post from an oversized body through', async () => {
    const { app, gateway } = setup();
    const res = await app.request(`/a/${tokenFor('approve')}`, {
      method: 'POST',
      ...form({ csrf: 'x', comment: 'x'.repeat(40_000) }),
    });
    expect(res.status).toBe(413);
    expect(gateway.performs).toHaveLength(0);
  });
});

describe('createApp', () => {
  it('refuses a link key too short to verify links, and a publicUrl that is not http(s)', () => {
    const gateway = new RecordingGateway();
    expect(() => createApp({ actions: gateway, keys: { current: Buffer.from('short') }, auth: noAuth() })).toThrow(
      WebConfigError,
    );
    expect(() => createApp({ actions: gateway, keys: KEYS, auth: noAuth(), publicUrl: 'ftp://x.example' })).toThrow(
      'publicUrl must be an http(s) URL, not "ftp://x.example"',
    );
  });
});

/**
 * The "waiting on me" page under each sign-in mode, and the web sign-in settings: a shared-secret
 * login naming a configured person acts with a `shared-secret` proof (which the default
 * approval.proofs does not accept); a login without a name, and mode none, have no such page; a
 * form whose run, action or subject was changed is refused; oidc and proxy settings are checked.
 */
import { ConfigError, parseConfig } from '../../src/domain/config';
import { verifyLinkToken } from '../../src/domain/link-token';
import { webSecretFromEnv } from '../../src/runtime/secrets';
import { createApp } from '../../src/web/app';
import { authenticatorFromConfig, noAuth, sharedSecretAuth, WebAuthConfigError } from '../../src/web/auth';
import type { AskedOfPerson, WebDeps } from '../../src/web/deps';
import { CookieJar, form, KEYS, NOW, RecordingGateway, SHA, squash, WORKFLOW_ID } from './support';

const SECRET = 'a shared secret that is long enough';
const PEOPLE = ['approver@demo.example', 'operator@demo.example'];

function setup(auth: WebDeps['auth']) {
  const gateway = new RecordingGateway();
  const asked: AskedOfPerson[] = [
    { workflowId: WORKFLOW_ID, action: 'file-copied', subject: SHA },
    { workflowId: 'rollout-demo-1', action: 'manual-done', subject: 'U3-approval' },
  ];
  const app = createApp({
    actions: gateway,
    keys: KEYS,
    auth,
    now: () => NOW,
    waiting: { askedOf: async (person) => (person === 'operator@demo.example' ? asked : []) },
  });
  const jar = new CookieJar();
  const request = async (p: string, init: RequestInit = {}) => {
    const res = await app.request(p, { ...init, headers: { cookie: jar.header(p), ...(init.headers ?? {}) } });
    jar.store(res);
    return res;
  };
  return { gateway, request };
}

/** The hidden and CSRF fields of the page's forms, in order. */
function formsOf(page: string): Array<Record<string, string>> {
  return [...page.matchAll(/<form method="post" action="\/me" class="action">(.*?)<\/form>/g)].map((m) =>
    Object.fromEntries([...m[1]!.matchAll(/type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((f) => [f[1]!, f[2]!])),
  );
}

describe('the waiting page with the shared secret', () => {
  it('lists what waits on the person named at login; their answer carries a shared-secret proof', async () => {
    const { gateway, request } = setup(sharedSecretAuth({ secret: SECRET, people: PEOPLE }));
    const login = await request('/login', {
      method: 'POST',
      ...form({ secret: SECRET, email: 'Operator@demo.example', next: '/me' }),
    });
    expect(login.status).toBe(303);
    const page = squash(await (await request('/me')).text());
    expect(page).toContain('<a href="/me" aria-current="page">Waiting on me</a>');
    expect(page).toContain('Copy ds-updates-20261125.zip to the air-gapped relay');
    expect(page).toContain('Import the bundle by hand');
    const forms = formsOf(page);
    expect(forms.map((f) => f.action)).toEqual(['file-copied', 'manual-done']);

    const res = await request('/me', { method: 'POST', ...form({ ...forms[1]!, comment: 'done at the console' }) });
    expect(res.status).toBe(200);
    expect(squash(await res.text())).toContain('<a href="/me">Back to what waits on you</a>');
    const { payload, proof: sent } = gateway.performs[0]!;
    expect(payload).toMatchObject({ workflowId: 'rollout-demo-1', action: 'manual-done', subject: 'U3-approval' });
    expect(sent?.kind).toBe('shared-secret');
    expect(verifyLinkToken(sent!.credential!, KEYS, NOW)).toMatchObject({
      ok: true,
      payload: { recipient: 'operator@demo.example', expiresAt: NOW + 10 * 60_000 },
    });
  });

  it('refuses a form whose run, action or subject was changed, and a wrong SHA-256 format', async () => {
    const { gateway, request } = setup(sharedSecretAuth({ secret: SECRET, people: PEOPLE }));
    await request('/login', { method: 'POST', ...form({ secret: SECRET, email: 'operator@demo.example' }) });
    const [copy] = formsOf(squash(await (await request('/me')).text()));
    const changes: Array<Record<string, string>> = [
      { workflowId: 'cycle-other' },
      { action: 'approve' },
      { subject: 'other' },
    ];
    for (const change of changes) {
      const res = await request('/me', { method: 'POST', ...form({ ...copy!, sha256: SHA, ...change }) });
      expect(res.status).toBe(403);
    }
    const bad = await request('/me', { method: 'POST', ...form({ ...copy!, sha256: 'not hex' }) });
    expect(bad.status).toBe(422);
    expect(squash(await bad.text())).toContain('at least 12 hex digits');
    expect(gateway.performs).toHaveLength(0);
  });

  it('refuses a login naming somebody not configured; without a name there is no waiting page', async () => {
    const { request } = setup(sharedSecretAuth({ secret: SECRET, people: PEOPLE }));
    const stranger = await request('/login', {
      method: 'POST',
      ...form({ secret: SECRET, email: 'x@elsewhere.example' }),
    });
    expect(stranger.status).toBe(403);
    expect(squash(await stranger.text())).toContain('not one of the people in the configuration');
    await request('/login', { method: 'POST', ...form({ secret: SECRET }) });
    const page = squash(await (await request('/me')).text());
    expect(page).toContain('sign in again with your email');
    expect(formsOf(page)).toEqual([]);
  });

  it('has no waiting page in mode none: the mail links are the proof there', async () => {
    const { request } = setup(noAuth());
    const page = squash(await (await request('/me')).text());
    expect(page).toContain('act from the links in the mails');
    expect(formsOf(page)).toEqual([]);
    expect(page).not.toContain('href="/me"');
  });
});

describe('the oidc and proxy settings', () => {
  const site = {
    id: 'plant1',
    dmz: { manager: { url: 'https://dsm-dmz:4119/api', apiKeyEnv: 'DMZ_KEY' }, relay: { name: 'd', computerId: 1 } },
    airgapped: {
      manager: { url: 'https://dsm-ag:4119/api', apiKeyEnv: 'AG_KEY' },
      relays: [{ name: 'a', computerId: 2 }],
    },
    people: { operators: ['op@plant1.example'] },
  };
  const withAuth = (auth: unknown) => parseConfig({ sites: [site], web: { host: '0.0.0.0', auth } }, 'plant.yaml');

  it('accepts an oidc provider with its client secret from the environment, and a proxy with its addresses', () => {
    const oidc = withAuth({
      mode: 'oidc',
      issuer: 'https://id.example',
      clientId: 'airgap',
      clientSecretEnv: 'OIDC_SECRET',
    });
    expect(oidc.web.auth).toMatchObject({ mode: 'oidc', emailClaim: 'email' });
    expect(webSecretFromEnv(oidc.web.auth, { OIDC_SECRET: 'x' })).toBe('x');
    expect(() => webSecretFromEnv(oidc.web.auth, {})).toThrow(/clientSecretEnv names OIDC_SECRET, but it is unset/);
    const auth = authenticatorFromConfig(oidc.web.auth, 'x', {
      people: ['op@plant1.example'],
      publicUrl: 'https://airgap.example/',
    });
    expect(auth).toMatchObject({ mode: 'oidc', proofKind: 'web-session', openPaths: ['/login/callback'] });

    const proxy = withAuth({ mode: 'proxy', proxies: ['10.0.0.5', '::1'] });
    expect(proxy.web.auth).toEqual({ mode: 'proxy', header: 'X-Forwarded-Email', proxies: ['10.0.0.5', '::1'] });
    expect(webSecretFromEnv(proxy.web.auth, {})).toBeUndefined();
    expect(authenticatorFromConfig(proxy.web.auth, undefined, { people: [] })).toMatchObject({
      proofKind: 'web-session',
    });
  });

  it('names what is wrong with a bad setting', () => {
    const problems = (auth: unknown): string[] => {
      try {
        withAuth(auth);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return [...(err as ConfigError).problems];
      }
      throw new Error('expected the setting to be refused');
    };
    expect(problems({ mode: 'proxy', proxies: ['proxy.example'] }).join()).toContain('expected an IP address');
    expect(problems({ mode: 'proxy', proxies: [] }).join()).toContain('expected at least one proxy address');
    expect(problems({ mode: 'proxy', proxies: ['10.0.0.5'], header: 'X Bad' }).join()).toContain('HTTP header name');
    expect(problems({ mode: 'oidc', issuer: 'id.example', clientId: 'a', clientSecretEnv: 'S' }).join()).toContain(
      'web.auth.issuer',
    );
    const oidc = withAuth({ mode: 'oidc', issuer: 'http://id.example', clientId: 'a', clientSecretEnv: 'S' });
    expect(() => authenticatorFromConfig(oidc.web.auth, 's', { publicUrl: 'https://a.example' })).toThrow(
      WebAuthConfigError,
    );
    expect(() => authenticatorFromConfig(oidc.web.auth, 's', { publicUrl: 'https://a.example' })).toThrow(
      /must be https \(http only on loopback\)/,
    );
  });
});

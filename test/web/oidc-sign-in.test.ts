/**
 * `web.auth.mode: oidc` end to end: a real OpenID Connect provider (oidc-provider, its own
 * process), the web app of startWebServer over a real cycle on Temporal, and Chromium. People sign
 * in at the provider (authorization code + PKCE), find what waits on them on /me and answer from
 * there; the run records the answers in their names. A sign-in whose email is not a configured
 * person is refused and leaves no session.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { freePort } from '../../src/adapters/ports';
import type { AppConfig } from '../../src/domain/config';
import { startWebServer, type RunningWeb } from '../../src/runtime/web-server';
import { carryBundle } from '../../src/sim';
import { CHROMIUM, CHROMIUM_ARGS, describeWithChromium } from '../helpers/chromium';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { startOidcProvider, type RunningOidcProvider } from '../helpers/oidc-provider';

const CLIENT_SECRET = 'oidc-client-secret-for-the-test-0123456789';

describeWithChromium('sign-in at an OpenID Connect provider', () => {
  let stack: CycleStack;
  let oidc: RunningOidcProvider;
  let web: RunningWeb;
  let browser: Browser;

  beforeAll(async () => {
    // The default proofs: an approval counts by mail link, web session or CLI code, never unproven.
    stack = await startCycleStack({ approval: { policy: 'any', proofs: ['mail-link', 'web-session', 'cli-code'] } });
    const port = await freePort();
    const redirectUrl = `http://127.0.0.1:${port}/login/callback`;
    oidc = await startOidcProvider({ clientId: 'airgap-web', clientSecret: CLIENT_SECRET, redirectUri: redirectUrl });
    const config: AppConfig = {
      ...stack.config,
      web: {
        ...stack.config.web,
        port,
        auth: {
          mode: 'oidc',
          issuer: oidc.issuer,
          clientId: 'airgap-web',
          clientSecretEnv: 'T_OIDC_CLIENT_SECRET',
          redirectUrl,
          emailClaim: 'email',
        },
      },
    };
    web = await startWebServer({
      config,
      client: stack.client,
      env: { ...stack.env, T_OIDC_CLIENT_SECRET: CLIENT_SECRET },
      port,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await oidc?.close();
    await stack?.close();
  });

  /** Opens /me in a fresh browser context and signs in at the provider's login form as `email`. */
  async function signIn(email: string): Promise<{ context: BrowserContext; page: Page; status: number }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${web.url}/me`);
    // The provider's own page: its development login form.
    expect(new URL(page.url()).origin).toBe(oidc.issuer);
    await page.locator('input[name="login"]').fill(email);
    await page.locator('input[name="password"]').fill('any password');
    const [callback] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/login/callback'),
      page.getByRole('button', { name: 'Sign-in' }).click(),
    ]);
    return { context, page, status: callback.status() };
  }

  it('an operator reports the copy and an approver approves, each from their waiting page', async () => {
    const handle = await stack.startCycle();
    const waiting = await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer');
    const bundle = waiting.bundle!;
    await carryBundle({ bundlePath: bundle.path, relays: stack.site.airgapped.relays });

    const operator = await signIn('Operator@Plant.example');
    expect(operator.status).toBe(200);
    await operator.page.waitForURL(`${web.url}/me`);
    expect(await operator.page.getByRole('heading', { level: 1 }).textContent()).toBe('Waiting on me');
    const copy = operator.page.locator(`section[data-run="${handle.workflowId}"][data-action="file-copied"]`);
    await copy.getByLabel('SHA-256 of the copied file').fill(bundle.sha256);
    await copy.getByRole('button', { name: 'Confirm: file copied' }).click();
    await operator.page.getByRole('heading', { level: 1, name: 'Done' }).waitFor();
    expect(await operator.page.locator('main').textContent()).toContain('Recorded for operator@plant.example');
    await operator.context.close();

    await stack.waitFor(handle, (v) => v.state === 'awaiting-approval');
    const approver = await signIn('approver@plant.example');
    await approver.page.waitForURL(`${web.url}/me`);
    const item = approver.page.locator(`section[data-run="${handle.workflowId}"][data-action="approve"]`);
    expect(await item.locator('h2').textContent()).toContain(bundle.fileName);
    // The nav names the person signed in; the forms offer approving and rejecting.
    expect(await approver.page.locator('nav').textContent()).toContain('approver@plant.example');
    await item.getByRole('button', { name: 'Reject the import' }).waitFor();
    await item.getByLabel('Comment (optional)').first().fill('checked the digest');
    await item.getByRole('button', { name: 'Approve the import' }).click();
    await approver.page.getByRole('heading', { level: 1, name: 'Done' }).waitFor();

    const approved = await stack.waitFor(handle, (v) => v.approvals.length === 1);
    expect(approved.approvals[0]).toMatchObject({ by: 'approver@plant.example', comment: 'checked the digest' });
    // The run recorded how each person was proven: by the web session the identity provider opened.
    expect(approved.answers.find((a) => a.action === 'approve')).toMatchObject({
      by: 'approver@plant.example',
      channel: 'web',
      proof: 'web-session',
    });
    expect(approved.answers.find((a) => a.action === 'file-copied')).toMatchObject({
      by: 'operator@plant.example',
      proof: 'web-session',
    });
    // The page reloads without the answered approval.
    await approver.page.goto(`${web.url}/me`);
    expect(await approver.page.locator(`section[data-run="${handle.workflowId}"]`).count()).toBe(0);
    await approver.context.close();
  });

  it('refuses a sign-in whose email is not one of the configured people, and keeps no session', async () => {
    const stranger = await signIn('stranger@elsewhere.example');
    expect(stranger.status).toBe(403);
    expect(await stranger.page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign-in refused');
    expect(await stranger.page.locator('main').textContent()).toContain(
      "signed you in as stranger@elsewhere.example, who is not one of this site's operators or approvers",
    );
    const cookies = await stranger.context.cookies(web.url);
    expect(cookies.map((c) => c.name)).not.toContain('airgap_session');
    // Still not signed in: the web app sends the browser back to the provider.
    const res = await stranger.context.request.get(`${web.url}/me`, { maxRedirects: 0 });
    expect(res.status()).toBe(303);
    expect(res.headers().location).toMatch(/^\/login\?next=/);
    await stranger.context.close();
  });

  it('does not take a pending sign-in cookie for a session', async () => {
    const context = await browser.newContext();
    const start = await context.request.get(`${web.url}/login?next=%2Fme`, { maxRedirects: 0 });
    expect(start.status()).toBe(303);
    expect(start.headers().location!.startsWith(`${oidc.issuer}/auth?`)).toBe(true);
    const pending = (await context.cookies(`${web.url}/login/callback`)).find((c) => c.name === 'airgap_oidc');
    expect(pending?.sameSite).toBe('Lax');
    await context.addCookies([{ name: 'airgap_session', value: pending!.value, url: web.url }]);
    const res = await context.request.get(`${web.url}/me`, { maxRedirects: 0 });
    expect(res.status()).toBe(303);
    await context.close();
  });
});

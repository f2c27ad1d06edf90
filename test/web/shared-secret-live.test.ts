/**
 * The shared-secret sign-in over a real cycle: a login naming a configured person gets a waiting
 * page, and answers from it carry the proof `shared-secret`. The site accepts the default proofs
 * for approvals (mail link, web session, CLI code), so the copy is recorded but the approval is
 * refused, saying which proofs count, and nothing is counted.
 */
import { startWebServer, type RunningWeb } from '../../src/runtime/web-server';
import { carryBundle } from '../../src/sim';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { CookieJar, form, squash } from './support';

const SECRET = 'the shared secret of the live test';

describe('the shared-secret sign-in over a real run', () => {
  let stack: CycleStack;
  let web: RunningWeb;

  beforeAll(async () => {
    stack = await startCycleStack({ approval: { policy: 'any', proofs: ['mail-link', 'web-session', 'cli-code'] } });
    const config = {
      ...stack.config,
      web: { ...stack.config.web, auth: { mode: 'shared-secret' as const, secretEnv: 'T_WEB_SECRET' } },
    };
    web = await startWebServer({ config, client: stack.client, env: { ...stack.env, T_WEB_SECRET: SECRET }, port: 0 });
  });
  afterAll(async () => {
    await web?.close();
    await stack?.close();
  });

  /** A browser-like session signed in with the secret, naming `email`. */
  async function session(email: string) {
    const jar = new CookieJar();
    const request = async (p: string, init: RequestInit = {}) => {
      const res = await fetch(`${web.url}${p}`, {
        ...init,
        redirect: 'manual',
        headers: { cookie: jar.header(p), ...(init.headers ?? {}) },
      });
      jar.store(res);
      return res;
    };
    expect((await request('/login', { method: 'POST', ...form({ secret: SECRET, email, next: '/me' }) })).status).toBe(
      303,
    );
    /** Answers the page's form for `action` on the run, with more fields. */
    const answer = async (workflowId: string, action: string, fields: Record<string, string>) => {
      const page = squash(await (await request('/me')).text());
      const forms = [...page.matchAll(/<form method="post" action="\/me" class="action">(.*?)<\/form>/g)].map((m) =>
        Object.fromEntries(
          [...m[1]!.matchAll(/type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((f) => [f[1]!, f[2]!]),
        ),
      );
      const wanted = forms.find((f) => f.workflowId === workflowId && f.action === action);
      if (!wanted) throw new Error(`no ${action} form for ${workflowId} on /me:\n${page.slice(0, 2000)}`);
      const res = await request('/me', { method: 'POST', ...form({ ...wanted, ...fields }) });
      return { status: res.status, body: squash(await res.text()) };
    };
    return { answer };
  }

  it('records the copy with proof shared-secret and refuses the approval, naming the proofs that count', async () => {
    const handle = await stack.startCycle();
    const bundle = (await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer')).bundle!;
    await carryBundle({ bundlePath: bundle.path, relays: stack.site.airgapped.relays });

    const operator = await session('operator@plant.example');
    const copied = await operator.answer(handle.workflowId, 'file-copied', { sha256: bundle.sha256 });
    expect(copied.status).toBe(200);
    expect(copied.body).toContain('<h1>Done</h1>');

    const waiting = await stack.waitFor(handle, (v) => v.state === 'awaiting-approval');
    expect(waiting.answers.find((a) => a.action === 'file-copied')).toMatchObject({
      by: 'operator@plant.example',
      proof: 'shared-secret',
    });

    const approver = await session('approver@plant.example');
    const refused = await approver.answer(handle.workflowId, 'approve', {});
    expect(refused.status).toBe(409);
    expect(refused.body).toContain('<h1>Not accepted</h1>');
    expect(refused.body).toMatch(/mail-link.*web-session.*cli-code/);
    const after = await stack.view(handle);
    expect(after.state).toBe('awaiting-approval');
    expect(after.approvals).toEqual([]);
  });
});

/**
 * `web.auth.mode: proxy` over real HTTP: the web app listens on 127.0.0.1 and trusts its header
 * only from the configured proxy address 127.0.0.1. The same request sent from 127.0.0.2 (another
 * loopback source address, `localAddress`) is not signed in, whatever header it carries. A signed-in
 * person's answer from /me goes to the run with a `web-session` proof: a link token for them,
 * that run, action and subject, valid ten minutes.
 */
import http from 'node:http';
import { verifyLinkToken } from '../../src/domain/link-token';
import { createApp } from '../../src/web/app';
import { proxyAuth } from '../../src/web/proxy-auth';
import { serveApp, type RunningServer } from '../../src/web/serve';
import type { AskedOfPerson } from '../../src/web/deps';
import { KEYS, RecordingGateway, SHA, squash, WORKFLOW_ID } from './support';

const HEADER = 'X-Auth-Email';
const PEOPLE = ['approver@demo.example', 'operator@demo.example'];

interface Reply {
  status: number;
  location?: string;
  cookies: string[];
  body: string;
}

/** One HTTP request from the given source address, with no redirects followed. */
function send(
  server: RunningServer,
  from: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: options.method ?? 'GET',
        localAddress: from,
        headers: {
          ...(options.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          ...options.headers,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ...(res.headers.location ? { location: res.headers.location } : {}),
            cookies: res.headers['set-cookie'] ?? [],
            body: squash(body),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('sign-in by a trusted proxy header', () => {
  let server: RunningServer;
  let gateway: RecordingGateway;
  const asked: AskedOfPerson[] = [{ workflowId: WORKFLOW_ID, action: 'approve', subject: SHA }];

  beforeAll(async () => {
    gateway = new RecordingGateway(() => Date.now());
    const app = createApp({
      actions: gateway,
      keys: KEYS,
      auth: proxyAuth({ header: HEADER, proxies: ['127.0.0.1'], people: PEOPLE }),
      waiting: { askedOf: async (person) => asked.filter(() => person === 'approver@demo.example') },
    });
    server = await serveApp(app, { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('accepts the header from the proxy address: the person sees and answers what waits on them', async () => {
    const viaProxy = { [HEADER]: 'Approver@Demo.example' };
    const page = await send(server, '127.0.0.1', '/me', { headers: viaProxy });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Waiting on me</h1>');
    expect(page.body).toContain('approver@demo.example');
    expect(page.body).toContain('Approve the import of ds-updates-20261125.zip');
    const csrfCookie = page.cookies.find((c) => c.startsWith('airgap_csrf='))!;
    expect(csrfCookie).toMatch(/Path=\/me/);
    // The approve form: its hidden fields and CSRF field.
    const form = /<form method="post" action="\/me" class="action">(.*?)<\/form>/.exec(page.body)![1]!;
    const fields = Object.fromEntries([...form.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    expect(fields).toMatchObject({ workflowId: WORKFLOW_ID, action: 'approve', subject: SHA });

    const before = Date.now();
    const answer = await send(server, '127.0.0.1', '/me', {
      method: 'POST',
      headers: { ...viaProxy, cookie: csrfCookie.split(';')[0]! },
      body: new URLSearchParams({ ...fields, comment: 'looks right' } as Record<string, string>).toString(),
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('<h1>Done</h1>');
    expect(gateway.performs).toHaveLength(1);
    const { payload, request, proof: sentProof } = gateway.performs[0]!;
    expect(payload).toMatchObject({
      workflowId: WORKFLOW_ID,
      action: 'approve',
      subject: SHA,
      recipient: 'approver@demo.example',
    });
    expect(request).toMatchObject({
      tokenId: fields.formId,
      channel: 'web',
      comment: 'looks right',
      address: '127.0.0.1',
    });
    expect(sentProof?.kind).toBe('web-session');
    const proof = verifyLinkToken(sentProof!.credential!, KEYS, Date.now());
    expect(proof).toMatchObject({
      ok: true,
      tokenId: fields.formId,
      payload: { workflowId: WORKFLOW_ID, action: 'approve', subject: SHA, recipient: 'approver@demo.example' },
    });
    const expiresAt = proof.ok ? proof.payload.expiresAt : 0;
    expect(expiresAt).toBeGreaterThanOrEqual(before + 10 * 60_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 10 * 60_000);

    // The same form without its cookie is refused and nothing more is performed.
    const forged = await send(server, '127.0.0.1', '/me', {
      method: 'POST',
      headers: viaProxy,
      body: new URLSearchParams(fields as Record<string, string>).toString(),
    });
    expect(forged.status).toBe(403);
    expect(gateway.performs).toHaveLength(1);
  });

  it('ignores the header from an address that is not the proxy: not signed in, nothing answered', async () => {
    const spoofed = { [HEADER]: 'approver@demo.example' };
    const page = await send(server, '127.0.0.2', '/me', { headers: spoofed });
    expect(page.status).toBe(303);
    expect(page.location).toBe('/login?next=%2Fme');
    const login = await send(server, '127.0.0.2', '/login', { headers: spoofed });
    expect(login.status).toBe(403);
    expect(login.body).toContain('this request came from 127.0.0.2, which is not that proxy');
    const post = await send(server, '127.0.0.2', '/me', {
      method: 'POST',
      headers: spoofed,
      body: new URLSearchParams({ workflowId: WORKFLOW_ID, action: 'approve', subject: SHA }).toString(),
    });
    expect(post.status).toBe(401);
    const home = await send(server, '127.0.0.2', '/', { headers: spoofed });
    expect(home.status).toBe(303);
  });

  it('refuses a person the proxy names who is not configured', async () => {
    const page = await send(server, '127.0.0.1', '/me', { headers: { [HEADER]: 'stranger@elsewhere.example' } });
    expect(page.status).toBe(403);
    expect(page.body).toContain('who is not one of this site&#39;s operators or approvers');
  });
});

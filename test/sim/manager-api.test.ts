/** The simulated managers at the HTTP level, as any client (not only our adapter) sees them. */
import fs from 'node:fs';
import https from 'node:https';
import { startFixture, type SimFixture } from './fixture';

let f: SimFixture;
beforeAll(async () => {
  f = await startFixture({ rateLimitPerMinute: 40 });
});
afterAll(() => f.cleanup());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

function request(
  method: string,
  route: string,
  opts: { key?: string | null; version?: string | null; body?: unknown } = {},
) {
  const manager = f.site.airgapped.manager;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const key = opts.key === undefined ? f.env.TEST_AIRGAP_API_KEY : opts.key;
  const version = opts.version === undefined ? 'v1' : opts.version;
  if (key !== null) headers['api-secret-key'] = key!;
  if (version !== null) headers['api-version'] = version;
  return new Promise<Answer>((resolve, reject) => {
    const req = https.request(
      `${manager.url}${route}`,
      { method, ca: fs.readFileSync(manager.caFile!), headers },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : {} }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body === undefined ? undefined : JSON.stringify(opts.body));
  });
}

test('without an api-secret-key the manager answers 401 with a message, and still names its version', async () => {
  const res = await request('GET', '/computers/21', { key: null });
  expect(res.status).toBe(401);
  expect(res.body.message).toEqual(expect.any(String));
  expect(res.headers['x-dsm-version']).toBe('Deep Security/20.0.877');
});

test('a wrong api-secret-key is refused the same way', async () => {
  expect((await request('GET', '/computers/21', { key: 'guess' })).status).toBe(401);
});

test('without api-version: v1 the manager answers 400', async () => {
  const res = await request('GET', '/computers/21', { version: null });
  expect(res.status).toBe(400);
  expect(res.body.message).toContain('api-version');
});

test('expand picks the parts of a computer that are returned', async () => {
  const lean = await request('GET', '/computers/21?expand=computerStatus');
  expect(lean.body).toHaveProperty('computerStatus');
  expect(lean.body).not.toHaveProperty('securityUpdates');
  const all = await request('GET', '/computers/21');
  expect(all.body).toHaveProperty('securityUpdates');
  expect(all.body).toHaveProperty('computerSettings');
});

test('a search with maxItems and an ID criterion returns the next page in id order', async () => {
  const res = await request('POST', '/computers/search?expand=none', {
    body: {
      maxItems: 2,
      searchCriteria: { fieldName: 'ID', idTest: 'greater-than', idValue: 21 },
      sortByObjectID: true,
    },
  });
  expect((res.body.computers as { ID: number }[]).map((c) => c.ID)).toEqual([22, 101]);
});

test('a task type the simulator does not run is refused with 400 and a reason', async () => {
  const res = await request('POST', '/scheduledtasks', {
    body: {
      type: 'scan-for-malware',
      scheduleDetails: { recurrenceType: 'none' },
      checkForSecurityUpdatesTaskParameters: {},
    },
  });
  expect(res.status).toBe(400);
  expect(res.body.message).toContain('check-for-security-updates');
});

test('unknown resources are 404 with a message', async () => {
  const res = await request('GET', '/nonsense/1');
  expect(res.status).toBe(404);
  expect(res.body.message).toBe('Not found');
});

test('past the per-minute request limit the manager answers 429 "Too many API requests"', async () => {
  const answers = await Promise.all(Array.from({ length: 45 }, () => request('GET', '/policies/1')));
  const limited = answers.filter((a) => a.status === 429);
  expect(limited.length).toBeGreaterThan(0);
  expect(limited[0]!.body.message).toBe('Too many API requests');
});

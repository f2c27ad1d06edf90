/** The loopback control endpoint: the same steering as SimControl, behind a bearer token. */
import fs from 'node:fs';
import path from 'node:path';
import { createDeepSecurityApi, TransientApiError } from '../../src/adapters/deep-security-api';
import { startFixture, type SimFixture } from './fixture';

let f: SimFixture;
let token: string;
beforeAll(async () => {
  f = await startFixture();
  const control = JSON.parse(fs.readFileSync(path.join(f.dir, 'sim', 'control.json'), 'utf8')) as {
    url: string;
    token: string;
  };
  expect(control.url).toBe(f.sim.controlUrl);
  token = control.token;
});
afterAll(() => f.cleanup());

const call = (method: string, route: string, body?: unknown, auth = `Bearer ${token}`) =>
  fetch(`${f.sim.controlUrl}${route}`, {
    method,
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

test('the control file that carries the token is readable by its owner only', () => {
  expect(fs.statSync(path.join(f.dir, 'sim', 'control.json')).mode & 0o777).toBe(0o600);
});

test('requests without the bearer token are refused', async () => {
  expect((await call('GET', '/state', undefined, '')).status).toBe(401);
  expect((await call('GET', '/state', undefined, 'Bearer wrong')).status).toBe(401);
});

test('POST /faults injects a fault that the manager API then produces', async () => {
  const res = await call('POST', '/faults', {
    kind: 'server-error',
    count: 1,
    manager: { siteId: 'plant', side: 'dmz' },
  });
  expect(res.status).toBe(200);
  const dmz = createDeepSecurityApi(f.site.dmz.manager, f.env.TEST_DMZ_API_KEY);
  await expect(dmz.getComputer({ computerId: 11 })).rejects.toThrow(TransientApiError);
  await expect(dmz.getComputer({ computerId: 11 })).resolves.toMatchObject({ id: 11, isRelay: true });
});

test('an invalid fault is refused with a 400 that says what is wrong', async () => {
  const res = await call('POST', '/faults', { kind: 'rate-limit', count: -1 });
  expect(res.status).toBe(400);
  expect(((await res.json()) as { message: string }).message).toContain('count');
});

test('POST /publish bumps the versions and POST /versions/manager changes X-DSM-Version', async () => {
  const before = f.sim.control.snapshot().internet.components.ruleUpdate;
  const published = (await (await call('POST', '/publish')).json()) as { components: { ruleUpdate: string } };
  expect(published.components.ruleUpdate).not.toBe(before);
  expect((await call('POST', '/versions/manager', { siteId: 'plant', side: 'dmz', version: '20.0.2000' })).status).toBe(
    204,
  );
  await expect(
    createDeepSecurityApi(f.site.dmz.manager, f.env.TEST_DMZ_API_KEY).managerVersion(),
  ).resolves.toMatchObject({
    version: '20.0.2000',
  });
});

test('POST /versions/agent changes a relay agentVersion and refuses a version it cannot order', async () => {
  expect(
    (
      await call('POST', '/versions/agent', {
        siteId: 'plant',
        side: 'airgapped',
        computerId: 21,
        version: '20.0.1.3180',
      })
    ).status,
  ).toBe(204);
  const relay = await createDeepSecurityApi(f.site.airgapped.manager, f.env.TEST_AIRGAP_API_KEY).getComputer({
    computerId: 21,
  });
  expect(relay.agentVersion).toBe('20.0.1.3180');
  expect(
    (await call('POST', '/versions/agent', { siteId: 'plant', side: 'airgapped', computerId: 21, version: 'latest' }))
      .status,
  ).toBe(400);
});

test('DELETE /faults clears them', async () => {
  await call('POST', '/faults', { kind: 'rate-limit', count: 3 });
  await call('DELETE', '/faults');
  const state = (await (await call('GET', '/state')).json()) as { faults: unknown[] };
  expect(state.faults).toEqual([]);
});

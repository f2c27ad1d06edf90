import { createHmac } from 'node:crypto';
import {
  actionLinkUrl,
  InvalidLinkPayloadError,
  LinkKeyError,
  signLinkToken,
  verifyLinkToken,
  type LinkKeys,
  type LinkPayload,
} from '../../src/domain/link-token';
import { linkKeysFromEnv } from '../../src/runtime/secrets';

const NOW = Date.UTC(2026, 10, 25, 6, 0);
const keyA = Buffer.from('a'.repeat(32) + 'key-a-for-tests');
const keyB = Buffer.from('b'.repeat(32) + 'key-b-for-tests');
const keys: LinkKeys = { current: keyA };

const payload: LinkPayload = {
  workflowId: 'cycle-demo-2026-11-25T06:00',
  action: 'file-copied',
  subject: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  recipient: 'operator@demo.example',
  expiresAt: NOW + 3 * 86_400_000,
};

function decodeBody(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function encodeBody(body: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

describe('link tokens', () => {
  it('verify to the payload they were signed with and a 128-bit random id', () => {
    const token = signLinkToken(payload, keys);
    const result = verifyLinkToken(token, keys, NOW);
    expect(result).toEqual({ ok: true, tokenId: expect.any(String), payload, signedWith: 'current' });
    if (!result.ok) throw new Error('unreachable');
    expect(Buffer.from(result.tokenId, 'base64url').length).toBeGreaterThanOrEqual(16);
  });

  it('get a new id every time, so two mails never share an Update id', () => {
    const a = verifyLinkToken(signLinkToken(payload, keys), keys, NOW);
    const b = verifyLinkToken(signLinkToken(payload, keys), keys, NOW);
    expect(a.ok && b.ok && a.tokenId !== b.tokenId).toBe(true);
  });

  it('fit in one URL path segment', () => {
    const token = signLinkToken({ ...payload, recipient: 'a.very.long.name+tag@subdomain.plant.example' }, keys);
    expect(token).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(encodeURIComponent(token)).toBe(token);
    expect(token.length).toBeLessThan(600);
    const url = new URL(actionLinkUrl('https://airgap.example/', token));
    expect(url.pathname).toBe(`/a/${token}`);
  });

  it('accept a caller-provided id and keep it', () => {
    const id = 'AAAAAAAAAAAAAAAAAAAAAA';
    const result = verifyLinkToken(signLinkToken(payload, keys, id), keys, NOW);
    expect(result.ok && result.tokenId).toBe(id);
    expect(() => signLinkToken(payload, keys, 'short')).toThrow(InvalidLinkPayloadError);
  });

  it('are refused as expired at and after their expiry, but not before', () => {
    const token = signLinkToken(payload, keys);
    expect(verifyLinkToken(token, keys, payload.expiresAt - 1).ok).toBe(true);
    expect(verifyLinkToken(token, keys, payload.expiresAt)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyLinkToken(token, keys, payload.expiresAt + 86_400_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('are refused as tampered when any bound field is changed, even to extend the expiry', () => {
    const token = signLinkToken(payload, keys);
    const sig = token.split('.')[1]!;
    const body = decodeBody(token);
    const changes: Array<Record<string, unknown>> = [
      { w: 'cycle-other-site' },
      { a: 'approve' },
      { s: '0'.repeat(64) },
      { r: 'attacker@evil.example' },
      { e: payload.expiresAt + 365 * 86_400_000 },
      { i: 'BBBBBBBBBBBBBBBBBBBBBB' },
    ];
    for (const change of changes) {
      const forged = `${encodeBody({ ...body, ...change })}.${sig}`;
      expect(verifyLinkToken(forged, keys, NOW)).toEqual({ ok: false, reason: 'tampered' });
    }
  });

  it('are refused as tampered when the signature is altered or signed with another key', () => {
    const token = signLinkToken(payload, keys);
    const [body, sig] = token.split('.') as [string, string];
    const flipped = Buffer.from(sig, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(verifyLinkToken(`${body}.${flipped.toString('base64url')}`, keys, NOW)).toEqual({
      ok: false,
      reason: 'tampered',
    });
    const foreign = signLinkToken(payload, { current: keyB });
    expect(verifyLinkToken(foreign, keys, NOW)).toEqual({ ok: false, reason: 'tampered' });
  });

  it('are refused as malformed when they are not token-shaped', () => {
    const token = signLinkToken(payload, keys);
    const [body, sig] = token.split('.') as [string, string];
    const malformed = [
      '',
      'abc',
      body,
      `${body}.${sig}.extra`,
      `${body}.${sig.slice(0, -2)}`,
      `${body}!.${sig}`,
      `${body}.${sig}=`,
      'x'.repeat(5000),
    ];
    for (const bad of malformed) expect(verifyLinkToken(bad, keys, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('are refused as malformed when a correctly signed body is not a payload', () => {
    const body = encodeBody({
      v: 1,
      i: 'AAAAAAAAAAAAAAAAAAAAAA',
      w: 'wf',
      a: 'launch-missiles',
      s: 'x',
      r: 'a@b',
      e: NOW + 1,
    });
    const sig = createHmac('sha256', keyA).update('airgap-link-v1.').update(body).digest('base64url');
    expect(verifyLinkToken(`${body}.${sig}`, keys, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('signed with the previous key still verify during a rotation, and stop when it is dropped', () => {
    const old = signLinkToken(payload, { current: keyA });
    const rotated: LinkKeys = { current: keyB, previous: keyA };
    expect(verifyLinkToken(old, rotated, NOW)).toMatchObject({ ok: true, signedWith: 'previous' });
    expect(verifyLinkToken(signLinkToken(payload, rotated), rotated, NOW)).toMatchObject({
      ok: true,
      signedWith: 'current',
    });
    expect(verifyLinkToken(old, { current: keyB }, NOW)).toEqual({ ok: false, reason: 'tampered' });
  });

  it('bind the payload so a gateway can refuse a link used for another workflow or action', () => {
    const approve = verifyLinkToken(signLinkToken({ ...payload, action: 'approve' }, keys), keys, NOW);
    const reject = verifyLinkToken(signLinkToken({ ...payload, action: 'reject' }, keys), keys, NOW);
    expect(approve.ok && approve.payload.action).toBe('approve');
    expect(reject.ok && reject.payload.action).toBe('reject');
    const other = verifyLinkToken(signLinkToken({ ...payload, workflowId: 'cycle-b' }, keys), keys, NOW);
    expect(other.ok && other.payload.workflowId).toBe('cycle-b');
  });

  it('are not signed with a short key or an invalid payload', () => {
    expect(() => signLinkToken(payload, { current: Buffer.from('short') })).toThrow(LinkKeyError);
    expect(() => signLinkToken({ ...payload, recipient: 'nobody' }, keys)).toThrow(/recipient/);
    expect(() => signLinkToken({ ...payload, action: 'delete' as never }, keys)).toThrow(/action/);
    expect(() => signLinkToken({ ...payload, expiresAt: 1.5 }, keys)).toThrow(/expiresAt/);
  });

  it('read their keys from the environment variables the config names', () => {
    const env = { AIRGAP_LINK_KEY: 'k'.repeat(40), AIRGAP_LINK_KEY_PREVIOUS: 'p'.repeat(40) };
    const names = { keyEnv: 'AIRGAP_LINK_KEY', previousKeyEnv: 'AIRGAP_LINK_KEY_PREVIOUS' };
    const fromEnv = linkKeysFromEnv(env, names);
    expect(Buffer.from(fromEnv.current).toString()).toBe('k'.repeat(40));
    expect(Buffer.from(fromEnv.previous!).toString()).toBe('p'.repeat(40));
    expect(linkKeysFromEnv({ AIRGAP_LINK_KEY: 'k'.repeat(40) }, names).previous).toBeUndefined();
    expect(() => linkKeysFromEnv({}, names)).toThrow('AIRGAP_LINK_KEY is unset');
    expect(() => linkKeysFromEnv({ AIRGAP_LINK_KEY: 'short' }, names)).toThrow(/AIRGAP_LINK_KEY is 5 bytes/);
  });
});

/**
 * What the web tests share: link keys, a link factory, a recording ActionGateway that answers the
 * way the Temporal-backed one will (the first perform per decision wins; the same token id gets
 * the same answer again), and a small cookie jar for `app.request()`.
 */
import { signLinkToken, type LinkAction, type LinkKeys, type LinkPayload } from '../../src/domain/link-token';
import type { ProofClaim } from '../../src/domain/proof';
import type { ActionGateway, ActionOutcome, ActionView, PerformRequest } from '../../src/web/deps';

export const NOW = Date.UTC(2026, 10, 25, 10, 0);
export const KEYS: LinkKeys = { current: Buffer.from('test-link-key-current-0123456789abcdef') };
export const SHA = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
export const WORKFLOW_ID = 'cycle-demo-2026-11-25T06:00';

export function payloadFor(action: LinkAction, overrides: Partial<LinkPayload> = {}): LinkPayload {
  return {
    workflowId: WORKFLOW_ID,
    action,
    subject: action === 'manual-done' ? 'import' : SHA,
    recipient: action === 'approve' || action === 'reject' ? 'approver@demo.example' : 'operator@demo.example',
    expiresAt: NOW + 3 * 86_400_000,
    ...overrides,
  };
}

export function tokenFor(action: LinkAction, overrides: Partial<LinkPayload> = {}, keys: LinkKeys = KEYS): string {
  return signLinkToken(payloadFor(action, overrides), keys);
}

export const ALL_ACTIONS: LinkAction[] = ['approve', 'reject', 'file-copied', 'manual-done'];

const DECISION: Record<LinkAction, string> = {
  approve: 'approved',
  reject: 'rejected',
  'file-copied': 'file copied',
  'manual-done': 'done',
  'stage-confirm': 'confirmed',
};

export interface PerformCall {
  payload: LinkPayload;
  request: PerformRequest;
  proof?: ProofClaim | undefined;
}

/**
 * Records every call. A wait is decided by the first perform for its (workflow, action kind);
 * approve and reject decide the same wait. Later performs get 'already-decided' with the first
 * decider and time, as a Temporal Update with the token id as update id would answer.
 */
export class RecordingGateway implements ActionGateway {
  readonly describes: Array<{ payload: LinkPayload; tokenId: string }> = [];
  readonly performs: PerformCall[] = [];
  private readonly decided = new Map<string, { by: string; at: number; decision: string }>();
  /** Set to make the run look finished. */
  noLongerWaiting: string | undefined;
  /** Set to make perform refuse with this message. */
  refuse: string | undefined;

  constructor(private readonly now: () => number = () => NOW) {}

  private waitKey(payload: LinkPayload): string {
    const wait = payload.action === 'approve' || payload.action === 'reject' ? 'approval' : payload.action;
    return `${payload.workflowId}/${wait}/${payload.subject}`;
  }

  async describe(payload: LinkPayload, tokenId: string): Promise<ActionView> {
    this.describes.push({ payload, tokenId });
    if (this.noLongerWaiting) return { state: 'no-longer-waiting', currentState: this.noLongerWaiting };
    const decided = this.decided.get(this.waitKey(payload));
    if (decided) return { state: 'already-decided', ...decided };
    return {
      state: 'waiting',
      site: 'Demo plant',
      workflowId: payload.workflowId,
      runLabel: 'cycle demo-2026-11-25T06:00',
      title:
        payload.action === 'file-copied'
          ? 'Copy ds-updates-20261125.zip to the air-gapped relay'
          : payload.action === 'manual-done'
            ? 'Import the bundle by hand'
            : 'Approve the import of ds-updates-20261125.zip',
      file: 'ds-updates-20261125.zip',
      sha256: SHA,
      sizeBytes: 157_286_400,
      versions: [{ name: 'Anti-Malware pattern <&>', version: '19.455.00', previous: '19.451.00' }],
      askedBy: 'the weekly schedule',
      ...(payload.action === 'approve' || payload.action === 'reject' ? { carriedBy: 'operator@demo.example' } : {}),
      since: NOW - 4 * 3_600_000,
      deadline: NOW + 2 * 86_400_000,
      relays: [{ name: 'demo-airgap-relay', os: 'linux', targetFolder: '/opt/ds_agent/relay' }],
      instructions: ['Open the console', 'Download Security Updates'],
    };
  }

  async perform(payload: LinkPayload, request: PerformRequest, proof?: ProofClaim): Promise<ActionOutcome> {
    this.performs.push({ payload, request, proof });
    if (this.refuse) return { outcome: 'refused', message: this.refuse };
    if (this.noLongerWaiting) return { outcome: 'refused', message: `The run is ${this.noLongerWaiting}.` };
    if (payload.action === 'file-copied' && !SHA.startsWith(request.confirmedSha256 ?? '-')) {
      return { outcome: 'refused', message: 'That SHA-256 does not match the bundle. Check the copy and try again.' };
    }
    const key = this.waitKey(payload);
    const first = this.decided.get(key);
    if (first) return { outcome: 'already-decided', message: `Already ${first.decision}.`, ...first };
    const decision = { by: payload.recipient, at: this.now(), decision: DECISION[payload.action] };
    this.decided.set(key, decision);
    return { outcome: 'done', message: `Recorded: ${decision.decision}.`, ...decision };
  }
}

/** Cookies across `app.request()` calls, by name and path prefix, as a browser would send them. */
export class CookieJar {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const path = attrs.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const maxAge = attrs.find((a) => a.toLowerCase().startsWith('max-age='));
      const key = `${name};${path}`;
      if (value === '' || maxAge === 'Max-Age=0') this.cookies.delete(key);
      else this.cookies.set(key, { value, path });
    }
  }

  header(path: string): string {
    return [...this.cookies.entries()]
      .filter(([, c]) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([key, c]) => `${key.split(';')[0]}=${c.value}`)
      .join('; ');
  }
}

/** The CSRF field of a rendered confirmation form. */
export function csrfFieldOf(page: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(squash(page));
  if (!m) throw new Error(`no csrf field in page:\n${page.slice(0, 500)}`);
  return m[1]!;
}

export function form(fields: Record<string, string>): { body: string; headers: Record<string, string> } {
  return {
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}

/**
 * A page's markup with formatting whitespace removed (runs of whitespace → one space, none between
 * tags or before `>`, `/>` → `>`), so tests assert on structure, not on how the template is indented.
 */
export function squash(markup: string): string {
  return markup
    .replace(/\s+/g, ' ')
    .replace(/\s*\/>/g, '>')
    .replace(/\s+>/g, '>')
    .replace(/>\s+</g, '><');
}

/**
 * What the web app needs from the rest of the system, as interfaces. The app renders and checks;
 * it decides nothing. The lead implements these against Temporal: `describe` with a Query,
 * `perform` with an Update whose id is the link's token id (so a second click returns the first
 * answer), the providers from workflow listings and the audit store.
 */
import type { OutboxReader } from '../adapters/outbox';
import type { RefusalCode } from '../domain/asks';
import type { CourierSheet } from '../domain/courier-sheet';
import type { ScheduleStatus } from '../domain/cron-words';
import type { LinkKeys, LinkPayload } from '../domain/link-token';
import type { VersionLine } from '../domain/mail/message';
import type { ProofClaim } from '../domain/proof';
import type { Authenticator } from './auth';

// ---------------------------------------------------------------------------------------------
// Link actions

/** The run is waiting for exactly what the link offers: the page shows this and a form. */
export interface WaitingActionView {
  state: 'waiting';
  /** The site's display name. */
  site: string;
  workflowId: string;
  /** What is asked, in the run's words: "Copy demo-bundle.zip to the air-gapped relay". */
  title: string;
  /** How people name the run ("cycle demo-2026-11-25T06:00"); the workflow id when absent. */
  runLabel?: string;
  file?: string;
  sha256?: string;
  sizeBytes?: number;
  versions?: VersionLine[];
  /** Who or what asked (the schedule, an operator). */
  askedBy?: string;
  /** Who said "file copied" (approval pages). */
  carriedBy?: string;
  since?: number;
  deadline?: number;
  /** Where the file goes (file-copied pages). */
  relays?: Array<{ name: string; os: string; targetFolder: string }>;
  /** The manual step's instructions (manual-done pages). */
  instructions?: string[];
}

/** Someone already answered what this link asks. */
export interface AlreadyDecidedView {
  state: 'already-decided';
  by: string;
  at: number;
  /** "approved", "rejected", "file copied", "done". */
  decision: string;
  site?: string;
  workflowId?: string;
  title?: string;
}

/** The run has moved on (finished, cancelled, past this step) without this answer being needed. */
export interface NoLongerWaitingView {
  state: 'no-longer-waiting';
  /** In words: "completed", "cancelled by op@example", "importing". */
  currentState: string;
  site?: string;
  workflowId?: string;
  title?: string;
}

export type ActionView = WaitingActionView | AlreadyDecidedView | NoLongerWaitingView;

export interface PerformRequest {
  /** The link's token id: the Update id, so a repeated POST returns the first answer. */
  tokenId: string;
  /** file-copied: what the person typed, lowercase hex without spaces, at least 12 digits. */
  confirmedSha256?: string;
  /** approve/reject: an optional comment or reason. */
  comment?: string;
  /** The client's network address, for the audit. */
  address?: string;
  /** 'link' (a mail link, the default) or 'web' (the "waiting on me" page of a signed-in person). */
  channel?: 'link' | 'web';
}

export interface ActionOutcome {
  /** done: this request decided; already-decided: an earlier one had; refused: the run says no (message says why). */
  outcome: 'done' | 'already-decided' | 'refused';
  /** Why a refused action was refused, as a code (the message is the sentence for people). */
  code?: RefusalCode;
  message: string;
  by?: string;
  at?: number;
  decision?: string;
}

/**
 * Reads and acts on what a link is for. `describe` must not change anything (GET and HEAD call
 * it, and mail scanners send those). `perform` must bind the payload to its run: a payload for
 * another workflow, action or subject is refused. Both may throw `WebError.unavailable`.
 */
export interface ActionGateway {
  describe(payload: LinkPayload, tokenId: string): Promise<ActionView>;
  /** `proof`: how the person is proven (issue 14), sent with the action for the run to check. */
  perform(payload: LinkPayload, request: PerformRequest, proof?: ProofClaim): Promise<ActionOutcome>;
}

// ---------------------------------------------------------------------------------------------
// Dashboard

/** What an open run waits for, from whom, since and until when. */
export interface Waiting {
  /** "file copied", "approval", "manual step: import". */
  what: string;
  from: string[];
  since: number;
  until?: number;
}

export interface OpenRun {
  workflowId: string;
  site: string;
  /** "cycle", "rollout", "manual step"… */
  kind: string;
  /** "cycle demo-2026-11-25T06:00". */
  title: string;
  /** In words: "bundling", "waiting for the transfer", "importing". */
  state: string;
  startedAt: number;
  waiting?: Waiting;
  /** What went wrong and why, when something did: "relay demo-airgap-relay: mismatch — digest differs". */
  problem?: string;
}

export interface Notice {
  level: 'info' | 'warning';
  site?: string;
  text: string;
}

export interface Overview {
  runs: OpenRun[];
  /** E.g. "site demo: last successful import 9 days ago". */
  notices: Notice[];
}

export interface OverviewProvider {
  overview(): Promise<Overview>;
}

export interface HistoryFilter {
  site?: string;
  kind?: string;
  outcome?: string;
  /** Runs started at or after (ms). */
  from?: number;
  /** Runs started before (ms). */
  to?: number;
  /** Free text: workflow id, file name, person. */
  text?: string;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
  limit: number;
}

export interface HistoryEntry {
  workflowId: string;
  site: string;
  kind: string;
  title: string;
  /** "completed", "nothing-new", "expired", "cancelled", "rejected", "failed", "running". */
  outcome: string;
  startedAt: number;
  endedAt?: number;
  summary?: string;
}

export interface HistoryPage {
  entries: HistoryEntry[];
  nextCursor?: string;
}

export interface HistoryProvider {
  search(filter: HistoryFilter): Promise<HistoryPage>;
}

export interface TimelineEvent {
  at: number;
  /** "started", "mail sent", "file copied", "approved", "import started"… */
  kind: string;
  text: string;
  actor?: string;
}

export interface RunDetail {
  workflowId: string;
  site: string;
  kind: string;
  title: string;
  state: string;
  startedAt: number;
  endedAt?: number;
  waiting?: Waiting;
  /** Facts worth a glance: file, SHA-256, versions, approvers. */
  facts?: Array<{ label: string; value: string }>;
  events: TimelineEvent[];
  /** What went wrong and why (a failed end, a relay's mismatch). */
  problem?: string;
  /** A cycle's relays and where each stands. */
  relays?: Array<{ name: string; os: string; status: string; problem?: string }>;
  /** A rollout's stages in order, for its picture. */
  rollout?: RolloutPicture;
  /** A courier sheet exists for this run (a cycle with a bundle). */
  hasSheet?: boolean;
}

export interface RolloutPicture {
  stages: Array<{
    id: string;
    title: string;
    status: string;
    target: string;
    before?: string;
    after?: string;
    failure?: string;
  }>;
  agents: { total?: number; verified: number; failed: number; inFlight: number; wavesDone: number };
}

/** Protection age over time: the successful imports of a site the chart is drawn from. */
export interface ProtectionHistory {
  site: string;
  name?: string;
  thresholdMs: number;
  /** Times (ms) of successful imports: the last one before the window and every one inside, ascending. */
  imports: number[];
}

export interface ProtectionProvider {
  /** Every site, or the one given; over `days` days ending now. */
  histories(days: number, site?: string): Promise<ProtectionHistory[]>;
}

export interface ScheduleProvider {
  list(): Promise<ScheduleStatus[]>;
}

export interface CourierSheetProvider {
  /** undefined when the run is unknown or has no bundle yet. */
  sheet(workflowId: string): Promise<CourierSheet | undefined>;
}

export interface RunProvider {
  /** undefined when no run has this id. */
  run(workflowId: string): Promise<RunDetail | undefined>;
}

/** One thing an open run waits for that a person may do (the "waiting on me" page). */
export interface AskedOfPerson {
  workflowId: string;
  /** A rejection answers the same ask as `approve`: the page offers both. */
  action: 'approve' | 'file-copied' | 'manual-done';
  /** The ask's subject: bundle digest, run id or step id. */
  subject: string;
}

export interface WaitingProvider {
  /** From the open runs' published asks; `person` is a lowercase email. */
  askedOf(person: string): Promise<AskedOfPerson[]>;
}

// ---------------------------------------------------------------------------------------------

export interface WebDeps {
  actions: ActionGateway;
  /** Link keys: verify tokens and sign the action forms' CSRF fields. */
  keys: LinkKeys;
  /** Who may see the dashboard; `noAuth()` or `sharedSecretAuth(…)` from src/web/auth.ts. */
  auth: Authenticator;
  now?: () => number;
  /** Present when mail goes to the outbox. */
  outbox?: OutboxReader;
  overview?: OverviewProvider;
  /** What open runs ask of the signed-in person (the "waiting on me" page). */
  waiting?: WaitingProvider;
  history?: HistoryProvider;
  runs?: RunProvider;
  /** The sites, for the history filter. */
  sites?: Array<{ id: string; name?: string }>;
  protection?: ProtectionProvider;
  schedules?: ScheduleProvider;
  sheets?: CourierSheetProvider;
  /**
   * Temporal's web UI, for a link from each run to its page there (the embedded UI is
   * http://127.0.0.1:8233; config temporal.uiUrl).
   */
  temporalUi?: { url: string; namespace: string };
  /** The URL mails link to (config web.publicUrl); its host is served and accepted as the origin of form posts. */
  publicUrl?: string;
  /**
   * Other names the app answers to, "name" (any port) or "name:port" (config web.host and
   * web.allowedHosts). localhost, 127.0.0.1 and [::1] are always served. Any other Host header is
   * answered 421 and nothing else: a page reached through a name someone else controls (DNS
   * rebinding) must neither read nor act.
   */
  allowedHosts?: readonly string[];
  /** Mark cookies Secure; defaults to publicUrl being https. */
  secureCookies?: boolean;
  /** Where unexpected errors are reported; stderr by default. */
  log?: (message: string) => void;
}

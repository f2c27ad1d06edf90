/**
 * Every mail the orchestrator sends, as a model for the renderer (render.ts): which facts, steps
 * and links each one carries, in which words. Pure: links arrive already signed (one set per
 * recipient, because a link acts in its recipient's name), times arrive as epoch milliseconds.
 */
import { formatDuration } from '../duration';
import { checkCommandFor, joinPath } from '../courier-sheet';
import type { VersionLine, MailMessage, MailPurpose } from './message';
import { build, formatMailTime, formatSize, MailTemplateError, type Block, type MailRun } from './render';

export { formatMailTime, formatSize, MailTemplateError, type MailRun } from './render';

const hostOs = (os: string) => (os === 'windows' ? 'windows' : 'linux');

export interface BundleFacts {
  /** The zip's name, which the air-gapped relay expects unchanged. */
  fileName: string;
  sha256: string;
  sizeBytes: number;
}

export interface RelayTarget {
  name: string;
  os: string;
  /** The folder on that relay the zip must be copied into. */
  targetFolder: string;
}

export interface TransferInstructionsInput {
  run: MailRun;
  recipient: string;
  /** This recipient's signed "file copied" link. */
  fileCopiedUrl: string;
  bundle: BundleFacts;
  /** Where the zip waits on the DMZ side. */
  pickup?: { relay: string; path: string } | undefined;
  relays: readonly RelayTarget[];
  deadline?: number | undefined;
  /** Tells a re-sent set of instructions (a new bundle in the same run) from the first; part of the idempotency key. */
  round?: number | undefined;
}

export interface ReminderInput {
  run: MailRun;
  to: readonly string[];
  /** What is asked, as in the subject: "copy the bundle to the air-gapped relay". */
  request: string;
  since: number;
  now: number;
  deadline?: number | undefined;
  /** 1 for the first reminder; part of the idempotency key. */
  reminderNumber: number;
  /** The recipient's own action link; only allowed with exactly one recipient. */
  link?: { url: string; label: string } | undefined;
  details?: ReadonlyArray<{ label: string; value: string }> | undefined;
}

export interface EscalationInput {
  run: MailRun;
  to: readonly string[];
  request: string;
  /** Who was asked and has not answered. */
  askedOf: readonly string[];
  since: number;
  now: number;
  deadline?: number | undefined;
  escalationNumber: number;
  details?: ReadonlyArray<{ label: string; value: string }> | undefined;
}

export interface ApprovalRequestInput {
  run: MailRun;
  recipient: string;
  approveUrl: string;
  rejectUrl: string;
  bundle: BundleFacts;
  versions: readonly VersionLine[];
  /** Who said "file copied". */
  carriedBy: string;
  copiedAt?: number | undefined;
  deadline?: number | undefined;
  /** For n-of-m policies: "2 of 3 approvers". */
  policy?: string | undefined;
  /** Tells a second approval round in the same run from the first; part of the idempotency key. */
  round?: number | undefined;
  /** The recipient's one-time CLI codes (domain/cli-code.ts), shown beside the links (issue 14). */
  codes?: { approve: string; reject: string } | undefined;
}

/** How a run ends, as every run kind names it: the state `status` shows is the outcome its mail states. */
export const RUN_OUTCOMES = [
  'completed',
  'nothing-new',
  'expired',
  'cancelled',
  'rejected',
  'aborted',
  'failed',
] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

export function isRunOutcome(value: unknown): value is RunOutcome {
  return typeof value === 'string' && (RUN_OUTCOMES as readonly string[]).includes(value);
}

export interface ResultInput {
  run: MailRun;
  to: readonly string[];
  outcome: RunOutcome;
  at: number;
  /** Who rejected or cancelled, when a person did. */
  by?: string | undefined;
  reason?: string | undefined;
  bundle?: BundleFacts | undefined;
  versions?: readonly VersionLine[] | undefined;
  summary?: string | undefined;
}

export interface FailureInput {
  run: MailRun;
  to: readonly string[];
  /** The stage or step that failed. */
  stage?: string | undefined;
  reason: string;
  /** What an operator can do now, one sentence each. */
  operatorCanDo: readonly string[];
  at: number;
  /** Tells repeated failure notices of one run apart (e.g. the attempt); defaults to the stage. */
  failureKey?: string | undefined;
}

export interface ManualStepInput {
  run: MailRun;
  recipient: string;
  doneUrl: string;
  step: { id: string; title: string; instructions: readonly string[] };
  deadline?: number | undefined;
  /** The CLI lines that answer it with the recipient's one-time code (a stage's approval, issue 14). */
  cliLines?: string | undefined;
}

export const STAGE_STATUSES = ['starting', 'waiting', 'completed', 'paused', 'failed'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

export interface UpgradeStageInput {
  run: MailRun;
  to: readonly string[];
  stage: { id: string; name: string };
  status: StageStatus;
  at: number;
  hosts?: readonly string[] | undefined;
  detail?: string | undefined;
  nextStage?: string | undefined;
}

function bundleRows(bundle: BundleFacts): Array<{ label: string; value: string; mono?: boolean }> {
  return [
    { label: 'File', value: bundle.fileName, mono: true },
    { label: 'SHA-256', value: bundle.sha256, mono: true },
    { label: 'Size', value: formatSize(bundle.sizeBytes) },
  ];
}

function deadlineRow(deadline: number | undefined): Array<{ label: string; value: string }> {
  return deadline === undefined ? [] : [{ label: 'Deadline', value: formatMailTime(deadline) }];
}

function versionLines(versions: readonly VersionLine[]): string[] {
  return versions.map((v) => (v.previous ? `${v.name}: ${v.previous} → ${v.version}` : `${v.name}: ${v.version}`));
}

// ---------------------------------------------------------------------------------------------
// The templates.

/** To one carrier: which file to take, where to put it on each air-gapped relay, and the "file copied" link. */
export function transferInstructionsMail(input: TransferInstructionsInput): MailMessage {
  const { bundle, relays } = input;
  if (relays.length === 0) throw new MailTemplateError('transfer-instructions mail: no air-gapped relay');
  const plural = relays.length > 1;
  const steps = [
    input.pickup
      ? `Take the file ${bundle.fileName} from the DMZ relay ${input.pickup.relay} (${input.pickup.path}).`
      : `Take the file ${bundle.fileName} from the DMZ relay.`,
    `Do not rename the file: the air-gapped relay imports it under exactly this name.`,
    `Copy it into the target folder of ${plural ? 'each air-gapped relay' : 'the air-gapped relay'} listed below.`,
    `On ${plural ? 'each relay' : 'the relay'}, compute the SHA-256 of the copied file and compare it with the one above.`,
    `Open the "file copied" link below and type or paste the SHA-256 you computed.`,
  ];
  return build({
    run: input.run,
    purpose: 'transfer-instructions',
    to: [input.recipient],
    discriminator: input.round,
    ask: `copy the bundle to the air-gapped ${plural ? 'relays' : 'relay'}`,
    personal: true,
    blocks: [
      {
        kind: 'p',
        text: `A new Deep Security update bundle is ready on the DMZ side. Please carry it to the air-gapped ${plural ? 'relays' : 'relay'}.`,
      },
      { kind: 'facts', rows: [...bundleRows(bundle), ...deadlineRow(input.deadline)] },
      { kind: 'heading', text: 'Steps' },
      { kind: 'steps', items: steps },
      { kind: 'heading', text: plural ? 'Air-gapped relays' : 'Air-gapped relay' },
      ...relays.flatMap((r): Block[] => [
        {
          kind: 'facts',
          rows: [
            { label: 'Relay', value: r.name },
            { label: 'OS', value: r.os },
            { label: 'Target folder', value: r.targetFolder, mono: true },
          ],
        },
        {
          kind: 'code',
          // One command per OS for the mail, the pages and the courier sheet, quoted for its shell.
          text: checkCommandFor(joinPath(r.targetFolder, bundle.fileName, hostOs(r.os)), hostOs(r.os)),
        },
      ]),
      {
        kind: 'action',
        label: 'File copied',
        url: input.fileCopiedUrl,
        note: 'Opens a page where you confirm; nothing happens until you press the button there.',
      },
    ],
  });
}

/** A reminder that something is still awaited; carries the recipient's link when it has one. */
export function reminderMail(input: ReminderInput): MailMessage {
  const waited = formatDuration(Math.max(0, input.now - input.since));
  const rows = [...(input.details ?? []), ...deadlineRow(input.deadline)];
  const blocks: Block[] = [
    {
      kind: 'p',
      text: `Still waiting for you to ${input.request}. Asked ${formatMailTime(input.since)}, ${waited} ago.`,
    },
  ];
  if (rows.length > 0) blocks.push({ kind: 'facts', rows });
  if (input.link) blocks.push({ kind: 'action', label: input.link.label, url: input.link.url });
  return build({
    run: input.run,
    purpose: 'reminder',
    to: input.to,
    discriminator: input.reminderNumber,
    ask: `reminder ${input.reminderNumber}: ${input.request}`,
    personal: input.link !== undefined,
    blocks,
  });
}

/** To the escalation list: who was asked what, since when, and until when. */
export function escalationMail(input: EscalationInput): MailMessage {
  const waited = formatDuration(Math.max(0, input.now - input.since));
  return build({
    run: input.run,
    purpose: 'escalation',
    to: input.to,
    discriminator: input.escalationNumber,
    ask: `escalation: no answer for ${waited} to "${input.request}"`,
    personal: false,
    blocks: [
      {
        kind: 'p',
        text: `Nobody has answered for ${waited}. The run is waiting for someone to ${input.request}.`,
      },
      {
        kind: 'facts',
        rows: [
          { label: 'Asked of', value: input.askedOf.join(', ') },
          { label: 'Asked at', value: formatMailTime(input.since) },
          ...deadlineRow(input.deadline),
          ...(input.details ?? []),
        ],
      },
      {
        kind: 'p',
        text:
          input.deadline === undefined
            ? 'Please make sure someone takes care of it.'
            : 'Please make sure someone takes care of it before the deadline; after it the run ends without importing.',
      },
    ],
  });
}

/** To one approver: the bundle that was carried, its versions, who carried it, approve and reject links. */
export function approvalRequestMail(input: ApprovalRequestInput): MailMessage {
  return build({
    run: input.run,
    purpose: 'approval-request',
    to: [input.recipient],
    discriminator: input.round,
    ask: `approve or reject the import of ${input.bundle.fileName}`,
    personal: true,
    blocks: [
      {
        kind: 'p',
        text: `The bundle below is on the air-gapped relays and its SHA-256 has been verified. It is imported only after approval${input.policy ? ` (${input.policy})` : ''}.`,
      },
      {
        kind: 'facts',
        rows: [
          ...bundleRows(input.bundle),
          {
            label: 'Carried by',
            value: input.copiedAt ? `${input.carriedBy}, ${formatMailTime(input.copiedAt)}` : input.carriedBy,
          },
          ...deadlineRow(input.deadline),
        ],
      },
      ...(input.versions.length > 0
        ? [
            { kind: 'heading' as const, text: 'Versions in the bundle' },
            { kind: 'list' as const, items: versionLines(input.versions) },
          ]
        : []),
      {
        kind: 'action',
        label: 'Approve the import',
        url: input.approveUrl,
        note: 'Opens a page where you confirm.',
      },
      { kind: 'action', label: 'Reject the import', url: input.rejectUrl, note: 'Opens a page where you confirm.' },
      ...(input.codes ? [{ kind: 'code' as const, text: cliCodeLines(input.run, input.recipient, input.codes) }] : []),
    ],
  });
}

/** The CLI lines of an approval mail, with the recipient's one-time codes (each works once). */
function cliCodeLines(run: MailRun, recipient: string, codes: { approve: string; reject: string }): string {
  return [
    `Or from a terminal (each code works once, for you only):`,
    `airgap cycle approve ${run.workflowId} --by ${recipient} --code ${codes.approve}`,
    `airgap cycle reject ${run.workflowId} --by ${recipient} --code ${codes.reject} --comment "<why>"`,
  ].join('\n');
}

/** What the end of each kind of run leaves behind: "the updates are imported", "nothing was applied"… */
const KIND_EFFECT: Record<MailRun['kind'], { done: string; none: string }> = {
  cycle: { done: 'the updates are imported on the air-gapped side', none: 'Nothing was imported.' },
  'rule transfer': {
    done: 'the rule updates are imported on the air-gapped manager',
    none: 'No rule update was imported.',
  },
  hardening: {
    done: 'every item was applied and verified or confirmed',
    none: 'Nothing more is applied; items applied before stay applied.',
  },
  rollout: {
    done: 'every stage was verified at its target version',
    none: 'Nothing new is started; stages already upgraded stay upgraded.',
  },
};

/** The words of an outcome in a subject: "rollout aborted", "cycle: nothing new to import". */
const OUTCOME_WORDS: Record<RunOutcome, string> = {
  completed: 'completed',
  'nothing-new': 'ended: nothing new to import',
  expired: 'expired without an answer',
  cancelled: 'cancelled',
  rejected: 'rejected',
  aborted: 'aborted',
  failed: 'failed',
};

/**
 * The subject's "what" of a run's final notice: the run kind and its own outcome, and who when a
 * person decided it ("rollout aborted by lead@plant.example"). One function for every kind, so a
 * notice cannot name another outcome than the run's.
 */
export function outcomeHeadline(kind: MailRun['kind'], outcome: RunOutcome, by?: string): string {
  const who = by && (outcome === 'rejected' || outcome === 'cancelled' || outcome === 'aborted') ? ` by ${by}` : '';
  return `${kind} ${OUTCOME_WORDS[outcome]}${who}`;
}

/** The first line of a final notice's body: the outcome in a sentence, with what it leaves behind. */
export function outcomeLead(kind: MailRun['kind'], outcome: RunOutcome): string {
  const effect = KIND_EFFECT[kind];
  const The = `The ${kind}`;
  switch (outcome) {
    case 'completed':
      return `${The} completed: ${effect.done}.`;
    case 'nothing-new':
      return `${The} ended without a transfer (nothing new): the air-gapped side already has the latest updates.`;
    case 'expired':
      return `${The} expired: it ended at its deadline without the awaited answer. ${effect.none}`;
    case 'cancelled':
      return `${The} was cancelled. ${effect.none}`;
    case 'rejected':
      return `${The} was rejected. ${effect.none}`;
    case 'aborted':
      return `${The} was aborted. ${effect.none}`;
    case 'failed':
      return `${The} failed. ${effect.none}`;
  }
}

/** How a run ended: subject and body state the run's own outcome, in the words of its kind. */
export function resultMail(input: ResultInput): MailMessage {
  if (!isRunOutcome(input.outcome)) {
    throw new MailTemplateError(
      `result mail: "${String(input.outcome)}" is not an outcome (${RUN_OUTCOMES.join(', ')})`,
    );
  }
  return build({
    run: input.run,
    purpose: 'result',
    to: input.to,
    discriminator: input.outcome,
    ask: outcomeHeadline(input.run.kind, input.outcome, input.by),
    personal: false,
    blocks: [
      { kind: 'p', text: outcomeLead(input.run.kind, input.outcome) },
      ...(input.summary ? [{ kind: 'p' as const, text: input.summary }] : []),
      {
        kind: 'facts',
        rows: [
          { label: 'Outcome', value: input.outcome },
          { label: 'At', value: formatMailTime(input.at) },
          ...(input.by ? [{ label: 'By', value: input.by }] : []),
          ...(input.reason ? [{ label: 'Reason', value: input.reason }] : []),
          ...(input.bundle ? bundleRows(input.bundle) : []),
        ],
      },
      ...(input.versions && input.versions.length > 0
        ? [
            { kind: 'heading' as const, text: 'Versions' },
            { kind: 'list' as const, items: versionLines(input.versions) },
          ]
        : []),
    ],
  });
}

/** A failure an operator must know about, with what they can do. */
export function failureMail(input: FailureInput): MailMessage {
  if (input.operatorCanDo.length === 0) {
    throw new MailTemplateError('failure mail: say at least one thing an operator can do (operatorCanDo)');
  }
  return build({
    run: input.run,
    purpose: 'failure',
    to: input.to,
    discriminator: input.failureKey ?? input.stage ?? 'run',
    ask: `${input.run.kind} failed${input.stage ? ` at ${input.stage}` : ''}: action needed`,
    personal: false,
    blocks: [
      {
        kind: 'strong',
        text: input.stage ? `The ${input.run.kind} failed at ${input.stage}.` : `The ${input.run.kind} failed.`,
      },
      {
        kind: 'facts',
        rows: [
          { label: 'Outcome', value: 'failed' },
          { label: 'Reason', value: input.reason },
          { label: 'At', value: formatMailTime(input.at) },
        ],
      },
      { kind: 'heading', text: 'What you can do' },
      { kind: 'list', items: input.operatorCanDo },
    ],
  });
}

/** To one operator: the steps of a manual step and the "done" link. */
export function manualStepMail(input: ManualStepInput): MailMessage {
  if (input.step.instructions.length === 0)
    throw new MailTemplateError('manual-step mail: the step has no instructions');
  return build({
    run: input.run,
    purpose: 'manual-step',
    to: [input.recipient],
    discriminator: input.step.id,
    ask: `manual step: ${input.step.title}`,
    personal: true,
    blocks: [
      {
        kind: 'p',
        text: `This step is done by hand. The run waits until you confirm that it is done.`,
      },
      { kind: 'facts', rows: [{ label: 'Step', value: input.step.title }, ...deadlineRow(input.deadline)] },
      { kind: 'heading', text: 'Steps' },
      { kind: 'steps', items: input.step.instructions },
      {
        kind: 'action',
        label: 'Done',
        url: input.doneUrl,
        note: 'Opens a page where you confirm; nothing happens until you press the button there.',
      },
      ...(input.cliLines ? [{ kind: 'code' as const, text: input.cliLines }] : []),
    ],
  });
}

const STAGE_TEXT: Record<StageStatus, string> = {
  starting: 'starts',
  waiting: 'is waiting',
  completed: 'completed',
  paused: 'is paused',
  failed: 'failed',
};

/** A notice about one stage of an agent/relay upgrade rollout. */
export function upgradeStageMail(input: UpgradeStageInput): MailMessage {
  const verb = STAGE_TEXT[input.status];
  return build({
    run: input.run,
    purpose: 'upgrade-stage',
    to: input.to,
    discriminator: `${input.stage.id}/${input.status}`,
    ask: `stage ${input.stage.name} ${verb}`,
    personal: false,
    blocks: [
      { kind: 'p', text: `Upgrade stage ${input.stage.name} ${verb} (${formatMailTime(input.at)}).` },
      ...(input.detail ? [{ kind: 'p' as const, text: input.detail }] : []),
      ...(input.hosts && input.hosts.length > 0
        ? [
            { kind: 'heading' as const, text: 'Hosts in this stage' },
            { kind: 'list' as const, items: input.hosts },
          ]
        : []),
      ...(input.nextStage ? [{ kind: 'p' as const, text: `Next stage: ${input.nextStage}.` }] : []),
    ],
  });
}

export interface PlainNoticeInput {
  run: MailRun;
  to: readonly string[];
  purpose: MailPurpose;
  /** Tells notices of one purpose in a run apart; part of the idempotency key. */
  discriminator?: string | number | undefined;
  ask: string;
  lead: string;
  facts?: ReadonlyArray<{ label: string; value: string }> | undefined;
  steps?: readonly string[] | undefined;
  heading?: string | undefined;
  lines?: readonly string[] | undefined;
  commands?: readonly string[] | undefined;
  /**
   * Signed links that act in the recipient's name (approve, reject, done). With actions the mail
   * is personal: exactly one recipient.
   */
  actions?: ReadonlyArray<{ label: string; url: string }> | undefined;
  /**
   * Set for a run's final notice: the subject becomes the outcome's headline, and the body begins
   * with the outcome in a sentence and an "Outcome" fact, whatever the lead says.
   */
  outcome?: RunOutcome | undefined;
}

/**
 * A notice of a run kind that has no template of its own (rule transfer, hardening): a lead, facts,
 * steps, a list, the commands that answer it, and optionally the recipient's own action links.
 */
export function plainNoticeMail(input: PlainNoticeInput): MailMessage {
  const outcome = input.outcome;
  if (outcome !== undefined && !isRunOutcome(outcome)) {
    throw new MailTemplateError(
      `${input.purpose} mail: "${String(outcome)}" is not an outcome (${RUN_OUTCOMES.join(', ')})`,
    );
  }
  const blocks: Block[] = outcome ? [{ kind: 'strong', text: outcomeLead(input.run.kind, outcome) }] : [];
  blocks.push({ kind: 'p', text: input.lead });
  const facts = [...(outcome ? [{ label: 'Outcome', value: outcome }] : []), ...(input.facts ?? [])];
  if (facts.length > 0) blocks.push({ kind: 'facts', rows: facts });
  if (input.steps && input.steps.length > 0) {
    blocks.push({ kind: 'heading', text: 'Steps' }, { kind: 'steps', items: input.steps });
  }
  if (input.lines && input.lines.length > 0) {
    if (input.heading) blocks.push({ kind: 'heading', text: input.heading });
    blocks.push({ kind: 'list', items: input.lines });
  }
  for (const action of input.actions ?? []) {
    blocks.push({
      kind: 'action',
      label: action.label,
      url: action.url,
      note: 'Opens a confirmation page; nothing happens until you confirm there.',
    });
  }
  if (input.commands && input.commands.length > 0) {
    blocks.push({ kind: 'heading', text: 'To answer' }, { kind: 'code', text: input.commands.join('\n') });
  }
  return build({
    run: input.run,
    purpose: input.purpose,
    to: input.to,
    discriminator: input.discriminator,
    ask: outcome ? outcomeHeadline(input.run.kind, outcome) : input.ask,
    personal: (input.actions?.length ?? 0) > 0,
    blocks,
  });
}

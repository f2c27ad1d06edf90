/**
 * The air-gapped set-up and hardening the vendor page prescribes (S1, S2 → H1–H8): each item, the
 * state it must reach, how it is applied (manager API, dsm_c on the manager host, or a guided
 * manual step), and what the site loses. Pure: the activities read the manager and hand over an
 * observation; `planHardening` says item by item where the site stands and what would change.
 *
 * Automated only where the interface is known (deep-security-interfaces.md): Web Reputation's
 * module state, Smart Feedback, the real-time scan configuration's fields, dsm_c changesetting.
 * The values for "Other update source" (S1) and Smart Scan "Off" (H1) are unverified: those items
 * are manual steps unless the operator configures the value their manager uses.
 */
import type { StepMode } from './config';
import type { ApprovalRules } from './cycle';
import type { WaitPolicy } from './human-wait';

export const HARDENING_ITEM_IDS = ['S1', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'H7', 'H8'] as const;
export type HardeningItemId = (typeof HARDENING_ITEM_IDS)[number];

export type ApplyHow = 'api' | 'dsm_c' | 'manual';

/** What the vendor page warns about, said plainly in the approval mail and the plan. */
export const VENDOR_WARNING: readonly string[] = [
  "Without the vendor's cloud services (Smart Protection Network) malware detection drops sharply.",
  'Ransomware is not detected at all.',
  'Process memory scan is affected.',
  'The vendor advises another solution (a proxy, or a local Smart Protection Server) wherever one is possible; these changes are for sites where none is.',
];

/** The default of platformSettingUpdateSecurityPrimarySourceMode (known). */
export const ACTIVE_UPDATE_SOURCE = 'Trend Micro ActiveUpdate Server';
/** Smart Scan values that mean it may run: the known "Automatic", and an unset (inherited) value. */
const SMART_SCAN_ON = new Set(['', 'automatic', 'on']);

export const DSM_C_SETTINGS = {
  H7: 'settings.configuration.enableCensusQuery',
  H8: 'settings.configuration.enableGridQuery',
} as const;
export type DsmCSettingName = (typeof DSM_C_SETTINGS)[keyof typeof DSM_C_SETTINGS];

/** The site's hardening configuration, resolved once when a run starts. */
export interface HardeningSettings {
  updateSourcePort: number;
  /** The manager's value for "Other update source", when the operator knows it (S1 can then be automated). */
  otherUpdateSourceMode?: string;
  /** The manager's value for Smart Scan "Off", when the operator knows it (H1 can then be automated). */
  smartScanOffValue?: string;
  /** The policy of the air-gapped computers; absent: the policy of the first air-gapped relay. */
  policyId?: number;
  modes: Record<HardeningItemId, StepMode>;
  /** dsm_c on the manager host, when the configuration names the host and dsmCPath. */
  dsmC?: { host: string; taskQueue: string };
}

/** What the air-gapped manager reports, read through its API. */
export interface HardeningObservation {
  updateSourceMode: string;
  updateSourceUrl: string;
  smartFeedbackEnabled: string;
  policy: {
    id: number;
    name: string;
    webReputationState?: string;
    smartScanState: string;
    realTimeScanConfigurationId?: number;
  };
  realTimeScan?: {
    id: number;
    name: string;
    memoryScanEnabled?: boolean;
    machineLearningEnabled?: boolean;
    behaviorMonitoringEnabled?: boolean;
  };
}

export type HardeningChange =
  | { kind: 'system-settings'; settings: Record<string, string> }
  | { kind: 'policy-setting'; policyId: number; name: string; value: string }
  | { kind: 'policy-module'; policyId: number; module: 'webReputation'; state: 'off' }
  | {
      kind: 'am-config';
      configurationId: number;
      changes: { memoryScanEnabled?: false; machineLearningEnabled?: false; behaviorMonitoringEnabled?: false };
    }
  | { kind: 'dsm_c'; name: DsmCSettingName; value: 'false' };

/**
 * ok: in the prescribed state. change: not (or known to be back on). unknown: cannot be read
 * (dsm_c has no known read action; a missing configuration).
 */
export type ItemStatus = 'ok' | 'change' | 'unknown';

export interface PlannedItem {
  id: HardeningItemId;
  title: string;
  current: string;
  desired: string;
  status: ItemStatus;
  how: ApplyHow;
  /** Why this way: known interface, unverified value, configured manual, no manager host… */
  why: string;
  /** What the site loses with this item in place. */
  loses: string;
  /** Exact steps for a person; the manual step's instructions. */
  instructions: string[];
  /** The API call or dsm_c command, for automated items that need a change. */
  change?: HardeningChange;
  note?: string;
}

const TITLES: Record<HardeningItemId, string> = {
  S1: 'Security update source: "Other update source" on localhost',
  H1: 'Smart Scan off',
  H2: 'Web Reputation off',
  H3: 'Smart Feedback off',
  H4: 'Process memory scan off (real-time scan)',
  H5: 'Predictive machine learning off (real-time scan)',
  H6: 'Behavior monitoring off (real-time scan)',
  H7: 'Census queries off',
  H8: 'Grid (Good File Reputation) queries off',
};

const LOSES: Record<HardeningItemId, string> = {
  S1: 'Nothing: the relay stops trying to reach the internet update server and stops raising connection-error alerts.',
  H1: 'Files are scanned against the local classic pattern only; no Smart Scan cloud lookups.',
  H2: 'No blocking of malicious or risky web addresses.',
  H3: 'No threat information is shared with the vendor (Smart Feedback).',
  H4: 'Malware running in process memory is no longer looked for by the real-time scan.',
  H5: 'Unknown (new) file threats are no longer caught by predictive machine learning.',
  H6: 'Suspicious behaviour, such as ransomware encrypting files, is no longer detected or stopped.',
  H7: 'No file prevalence (Census) checks; ends the useless background queries they cause offline.',
  H8: 'No Good File Reputation checks; ends the useless background queries they cause offline.',
};

export function itemTitle(id: HardeningItemId): string {
  return TITLES[id];
}

const onOff = (v: boolean | undefined) => (v === undefined ? 'unknown' : v ? 'enabled' : 'disabled');

export function desiredUpdateSourceUrl(port: number): string {
  return `https://localhost:${port}`;
}

/**
 * Item by item: where the site stands, what it must reach, how it would be applied. Changes
 * nothing; `change` is filled only for automated items not already in the prescribed state.
 */
export function planHardening(
  settings: HardeningSettings,
  obs: HardeningObservation,
  ctx: { console: string; dsmCPath?: string },
): PlannedItem[] {
  const policy = obs.policy;
  const rt = obs.realTimeScan;
  const policyLabel = `policy "${policy.name}" (id ${policy.id})`;
  const rtLabel = rt ? `"${rt.name}" (id ${rt.id})` : 'the real-time scan configuration';
  const signIn = `Sign in to the air-gapped Deep Security Manager console (${ctx.console}).`;
  const items: PlannedItem[] = [];

  // S1 — the URL setting is known, the mode value is not.
  {
    const url = desiredUpdateSourceUrl(settings.updateSourcePort);
    const modeKnown = settings.otherUpdateSourceMode;
    const auto = settings.modes.S1 === 'automated' && modeKnown !== undefined;
    const modeOk =
      modeKnown !== undefined ? obs.updateSourceMode === modeKnown : obs.updateSourceMode !== ACTIVE_UPDATE_SOURCE;
    const ok = modeOk && obs.updateSourceUrl === url;
    items.push({
      id: 'S1',
      title: TITLES.S1,
      current: `${obs.updateSourceMode || '(unset)'} ${obs.updateSourceUrl || '(no URL)'}`,
      desired: `Other update source${modeKnown ? ` ("${modeKnown}")` : ''} ${url}`,
      status: ok ? 'ok' : 'change',
      how: auto ? 'api' : 'manual',
      why: auto
        ? 'known setting names; the mode value comes from hardening.otherUpdateSourceMode'
        : modeKnown === undefined
          ? 'the API value meaning "Other update source" is unverified (set hardening.otherUpdateSourceMode and items.S1: automated to automate)'
          : 'configured as manual (hardening.items.S1)',
      loses: LOSES.S1,
      instructions: [
        signIn,
        'Go to Administration → System Settings → Updates.',
        `Under Security Update Source choose "Other update source" and enter ${url}. Save.`,
        `Check that the page now shows Other update source ${url}, then confirm here.`,
      ],
      ...(auto && !ok
        ? {
            change: {
              kind: 'system-settings' as const,
              settings: {
                platformSettingUpdateSecurityPrimarySourceMode: modeKnown,
                platformSettingUpdateSecurityPrimarySourceUrl: url,
              },
            },
          }
        : {}),
      ...(!modeKnown && ok
        ? { note: `mode "${obs.updateSourceMode}" is not the ActiveUpdate default; its meaning is unverified` }
        : {}),
    });
  }

  // H1 — the setting name is known, the "Off" value is not.
  {
    const off = settings.smartScanOffValue;
    const auto = settings.modes.H1 === 'automated' && off !== undefined;
    const value = obs.policy.smartScanState;
    const ok = off !== undefined ? value === off : !SMART_SCAN_ON.has(value.trim().toLowerCase());
    items.push({
      id: 'H1',
      title: TITLES.H1,
      current: `antiMalwareSettingSmartScanState = ${value || '(unset: inherited)'} (${policyLabel})`,
      desired: off ? `"${off}"` : 'Off',
      status: ok ? 'ok' : 'change',
      how: auto ? 'api' : 'manual',
      why: auto
        ? 'known setting name; the value comes from hardening.smartScanOffValue'
        : off === undefined
          ? 'the API value for Smart Scan "Off" is unverified (set hardening.smartScanOffValue and items.H1: automated to automate)'
          : 'configured as manual (hardening.items.H1)',
      loses: LOSES.H1,
      instructions: [
        signIn,
        `Go to Policies, open ${policyLabel}, then Anti-Malware → Smart Protection → Smart Scan.`,
        'Untick Inherited and choose Off. Save.',
        'Check that Smart Scan now shows Off, then confirm here.',
      ],
      ...(auto && !ok
        ? {
            change: {
              kind: 'policy-setting' as const,
              policyId: policy.id,
              name: 'antiMalwareSettingSmartScanState',
              value: off,
            },
          }
        : {}),
      ...(!off && ok ? { note: `value "${value}" is not "Automatic"; its meaning is unverified` } : {}),
    });
  }

  // H2, H3 — known.
  {
    const state = obs.policy.webReputationState;
    const auto = settings.modes.H2 === 'automated';
    const ok = state === 'off';
    items.push({
      id: 'H2',
      title: TITLES.H2,
      current: `Web Reputation ${state ?? 'unknown'} (${policyLabel})`,
      desired: 'off',
      status: ok ? 'ok' : 'change',
      how: auto ? 'api' : 'manual',
      why: auto ? 'known: policy module state webReputation.state' : 'configured as manual (hardening.items.H2)',
      loses: LOSES.H2,
      instructions: [
        signIn,
        `Go to Policies, open ${policyLabel}, then Web Reputation → General → Configuration: Off. Save.`,
        'Check that Web Reputation shows Off, then confirm here.',
      ],
      ...(auto && !ok
        ? {
            change: {
              kind: 'policy-module' as const,
              policyId: policy.id,
              module: 'webReputation' as const,
              state: 'off' as const,
            },
          }
        : {}),
    });
  }
  {
    const value = obs.smartFeedbackEnabled;
    const auto = settings.modes.H3 === 'automated';
    const ok = value === 'false';
    items.push({
      id: 'H3',
      title: TITLES.H3,
      current: `platformSettingSmartProtectionFeedbackEnabled = ${value || '(unset)'}`,
      desired: 'false',
      status: ok ? 'ok' : 'change',
      how: auto ? 'api' : 'manual',
      why: auto
        ? 'known: system setting platformSettingSmartProtectionFeedbackEnabled'
        : 'configured as manual (hardening.items.H3)',
      loses: LOSES.H3,
      instructions: [
        signIn,
        'Go to Administration → System Settings → Smart Feedback.',
        'Untick "Enable Trend Micro Smart Feedback". Save, then confirm here.',
      ],
      ...(auto && !ok
        ? {
            change: {
              kind: 'system-settings' as const,
              settings: { platformSettingSmartProtectionFeedbackEnabled: 'false' },
            },
          }
        : {}),
    });
  }

  // H4–H6 — known fields of the policy's real-time scan configuration.
  const amItems: [
    HardeningItemId,
    'memoryScanEnabled' | 'machineLearningEnabled' | 'behaviorMonitoringEnabled',
    string,
  ][] = [
    ['H4', 'memoryScanEnabled', 'Scan process memory for malware'],
    ['H5', 'machineLearningEnabled', 'Enable predictive machine learning'],
    ['H6', 'behaviorMonitoringEnabled', 'Enable behavior monitoring'],
  ];
  for (const [id, field, label] of amItems) {
    const value = rt?.[field];
    const auto = settings.modes[id] === 'automated' && rt !== undefined;
    const status: ItemStatus = value === undefined ? 'unknown' : value ? 'change' : 'ok';
    items.push({
      id,
      title: TITLES[id],
      current: rt ? `${field} ${onOff(value)} (${rtLabel})` : `${policyLabel} names no real-time scan configuration`,
      desired: 'disabled',
      status,
      how: auto ? 'api' : 'manual',
      why: auto
        ? `known: anti-malware configuration field ${field}`
        : rt === undefined
          ? 'the real-time scan configuration could not be found through the API'
          : `configured as manual (hardening.items.${id})`,
      loses: LOSES[id],
      instructions: [
        signIn,
        `Go to Policies → Common Objects → Other → Malware Scan Configurations and open ${rtLabel}.`,
        `On General, untick "${label}". Save, then confirm here.`,
      ],
      ...(auto && status !== 'ok'
        ? { change: { kind: 'am-config' as const, configurationId: rt!.id, changes: { [field]: false } } }
        : {}),
    });
  }

  // H7, H8 — dsm_c on the manager host (known form); no known way to read them back.
  for (const id of ['H7', 'H8'] as const) {
    const name = DSM_C_SETTINGS[id];
    const auto = settings.modes[id] === 'automated' && settings.dsmC !== undefined;
    const command = `${ctx.dsmCPath ?? 'dsm_c'} -action changesetting -name ${name} -value false`;
    const ui = id === 'H7' ? 'Enable Census queries' : 'Enable Good File Reputation queries';
    items.push({
      id,
      title: TITLES[id],
      current: 'unknown (dsm_c has no known action to read it)',
      desired: `${name} = false`,
      status: 'unknown',
      how: auto ? 'dsm_c' : 'manual',
      why: auto
        ? `known: dsm_c changesetting, run by the worker on the manager host ${settings.dsmC!.host}`
        : settings.modes[id] === 'manual'
          ? `configured as manual (hardening.items.${id})`
          : 'the configuration names no air-gapped manager host and dsmCPath (airgapped.manager.host, dsmCPath)',
      loses: LOSES[id],
      instructions: [
        'On the air-gapped manager host, as an administrator, run:',
        command,
        `(Or in the console: Computers → Settings → General, the network settings for Census, Good File Reputation and Predictive Machine Learning services: "${ui}" = No.)`,
        'Check that the command reported success, then confirm here.',
      ],
      ...(auto ? { change: { kind: 'dsm_c' as const, name, value: 'false' as const } } : {}),
    });
  }
  return items;
}

/** Items that need work in an apply: not in the prescribed state, or not readable. */
export function itemsToApply(items: readonly PlannedItem[]): PlannedItem[] {
  return items.filter((i) => i.status !== 'ok');
}

/** Items that have drifted away from the prescribed state (readable ones only). */
export function driftedItems(items: readonly PlannedItem[]): PlannedItem[] {
  return items.filter((i) => i.status === 'change');
}

/** One line per item: "H2  Web Reputation off: on → off (api)". */
export function planLines(items: readonly PlannedItem[]): string[] {
  return items.map(
    (i) =>
      `${i.id}  ${i.title}: ${i.current} → ${i.desired} [${i.status === 'ok' ? 'already in place' : i.status === 'unknown' ? 'cannot be read' : 'to change'}; ${i.how}: ${i.why}]${i.note ? ` (${i.note})` : ''}`,
  );
}

/** For the approval mail, one line per item: what changes, how, and what the site loses. */
export function lossLines(items: readonly PlannedItem[]): string[] {
  return items.map((i) => `${i.id} ${i.title}: ${i.current} → ${i.desired} (${i.how}). The site loses: ${i.loses}`);
}

/** What a hardening run needs to know about its site, frozen into its history when it starts. */
export interface HardeningPlan {
  site: string;
  name: string;
  people: { operators: string[]; escalation: string[]; approvers: string[] };
  waits: WaitPolicy;
  approval: ApprovalRules;
  /** Where the air-gapped manager's API is called from. */
  managerQueue: string;
  /** The relay whose policy is hardened when no policy id is configured. */
  relayComputerId: number;
  console: string;
  dsmCPath?: string;
  settings: HardeningSettings;
}

/**
 * Hardening takes protection away, so it always needs at least one approval, whatever the site's
 * policy for imports; with no approvers listed, the operators decide.
 */
export function hardeningApproval(
  plan: Pick<HardeningPlan, 'approval' | 'people'>,
): ApprovalRules & { required: number } {
  const approvers = plan.approval.approvers.length > 0 ? plan.approval.approvers : plan.people.operators;
  const policy = plan.approval.policy === 'none' ? 'any' : plan.approval.policy;
  return { ...plan.approval, policy, approvers, required: policy === 'n-of-m' ? plan.approval.required : 1 };
}

export const HARDEN_STATES = [
  'reading',
  'planned',
  'in-desired-state',
  'drifted',
  'nothing-to-do',
  'awaiting-approval',
  'applying',
  'verifying',
  'completed',
  'failed',
  'rejected',
  'cancelled',
  'expired',
] as const;
export type HardenState = (typeof HARDEN_STATES)[number];

const HARDEN_TERMINAL: ReadonlySet<HardenState> = new Set([
  'planned',
  'in-desired-state',
  'drifted',
  'nothing-to-do',
  'completed',
  'failed',
  'rejected',
  'cancelled',
  'expired',
]);

export function isTerminalHardenState(state: HardenState): boolean {
  return HARDEN_TERMINAL.has(state);
}

/**
 * How an item ended in an apply. already: in place before the run. verified: the API reads the
 * prescribed state back. confirmed: not readable through any known interface; a person confirmed
 * it, or dsm_c reported success. not-verified: applied or confirmed, yet the API still reads the
 * old state. failed: the change was refused. not-done: the run ended before reaching it.
 */
export type ItemOutcome = 'already' | 'verified' | 'confirmed' | 'not-verified' | 'failed' | 'not-done';

/** The outcome of an applied item from what the manager reports after the apply. */
export function verifyItem(after: PlannedItem): { outcome: ItemOutcome; detail: string } {
  if (after.status === 'ok') return { outcome: 'verified', detail: `the manager reports ${after.current}` };
  if (after.status === 'unknown') {
    return {
      outcome: 'confirmed',
      detail:
        after.how === 'dsm_c'
          ? 'dsm_c reported success; no known interface reads the setting back'
          : 'confirmed by a person; no known interface reads the setting back',
    };
  }
  return { outcome: 'not-verified', detail: `the manager still reports ${after.current}` };
}

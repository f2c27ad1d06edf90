/**
 * Ordering the versions Deep Security reports. Rule updates are numbered `YY-NNN` (known: weekly,
 * increasing within a year); manager, agent, pattern and engine versions are dotted or dashed
 * numbers whose exact formats are unverified, so they are only ever compared part by part.
 * Pure: the year of a new rule update comes from the `now` the caller passes.
 */

/** Thrown when a text is not a version this module can order; the message quotes the text. */
export class InvalidVersionError extends Error {
  constructor(
    readonly text: string,
    readonly expected: string,
  ) {
    super(`"${text}" is not ${expected}`);
    this.name = 'InvalidVersionError';
  }
}

export interface RuleUpdateId {
  /** Two-digit year, 25 for 2025. */
  year: number;
  /** Position within the year, 1-based. */
  sequence: number;
}

const RULE_UPDATE = /^(\d{2})-(\d{3})$/;

export function isRuleUpdate(text: string): boolean {
  return RULE_UPDATE.test(text);
}

export function parseRuleUpdate(text: string): RuleUpdateId {
  const m = RULE_UPDATE.exec(text.trim());
  if (!m) throw new InvalidVersionError(text, 'a rule update id such as 25-052 (YY-NNN)');
  return { year: Number(m[1]), sequence: Number(m[2]) };
}

export function formatRuleUpdate(id: RuleUpdateId): string {
  return `${String(id.year).padStart(2, '0')}-${String(id.sequence).padStart(3, '0')}`;
}

/** Negative when `a` is older than `b`, 0 when equal, positive when newer. */
export function compareRuleUpdates(a: string, b: string): number {
  const x = parseRuleUpdate(a);
  const y = parseRuleUpdate(b);
  return x.year - y.year || x.sequence - y.sequence;
}

/** The rule update that follows `current`: numbering restarts at 001 when the year turns. */
export function nextRuleUpdate(current: string, now: Date | number): string {
  const id = parseRuleUpdate(current);
  const year = new Date(now).getUTCFullYear() % 100;
  if (year > id.year) return formatRuleUpdate({ year, sequence: 1 });
  if (id.sequence >= 999) throw new InvalidVersionError(current, 'followed by another rule update this year');
  return formatRuleUpdate({ year: id.year, sequence: id.sequence + 1 });
}

/**
 * Orders two numeric versions ("20.0.877", "20.0.1-3180", "18.611.00", "25-052") part by part;
 * missing trailing parts count as 0. Throws InvalidVersionError for anything else, because
 * guessing an order for an unknown format could approve a rollback.
 */
export function compareVersions(a: string, b: string): number {
  const pa = numericParts(a);
  const pb = numericParts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** True when `candidate` is strictly newer than `current`. */
export function isNewerVersion(candidate: string, current: string): boolean {
  return compareVersions(candidate, current) > 0;
}

function numericParts(text: string): number[] {
  const trimmed = text.trim();
  if (!/^\d+(?:[.-]\d+)*$/.test(trimmed)) {
    throw new InvalidVersionError(text, 'a numeric version such as 20.0.877, 18.611.00 or 25-052');
  }
  return trimmed.split(/[.-]/).map(Number);
}

// ---- component versions (airgap-procedure.md "U"; deep-security-interfaces.md) -------------------

/** The components an upgrade rollout moves; relays are agents with the relay role. */
export type UpgradeComponent = 'manager' | 'relay' | 'agent';

/**
 * How each component reports its version: a manager in `X-DSM-Version` with three numbers
 * ("20.0.877"), an agent or relay in `agentVersion` with four ("20.0.0.8438"; a Linux build may be
 * written "20.0.1-3180"). The two are numbered differently, so one version can never be the
 * target of both, and comparing one with the other orders nothing.
 */
export const COMPONENT_VERSION_FORMATS: Readonly<
  Record<UpgradeComponent, { pattern: RegExp; reports: string; example: string }>
> = {
  manager: { pattern: /^\d+\.\d+\.\d+$/, reports: 'X-DSM-Version, three numbers', example: '20.0.877' },
  relay: { pattern: /^\d+\.\d+\.\d+[.-]\d+$/, reports: 'agentVersion, four numbers', example: '20.0.0.8438' },
  agent: { pattern: /^\d+\.\d+\.\d+[.-]\d+$/, reports: 'agentVersion, four numbers', example: '20.0.0.8438' },
};

const COMPONENT_PLURAL: Record<UpgradeComponent, string> = { manager: 'managers', relay: 'relays', agent: 'agents' };

/** Why `text` is not a version `component` reports, or undefined when it is one. */
export function componentVersionProblem(component: UpgradeComponent, text: string): string | undefined {
  const format = COMPONENT_VERSION_FORMATS[component];
  if (format.pattern.test(text.trim())) return undefined;
  return `"${text}" is not a version the ${COMPONENT_PLURAL[component]} report (${format.reports}, such as ${format.example})`;
}

/**
 * The vendor's order (airgap-procedure.md, "U"): relays are upgraded before the agents that update
 * from them, because security-component and software upgrades can fail when they are not; so no
 * agent may end newer than its relays. Why `relay`/`agent` targets break it, or undefined.
 */
export function relayAgentOrderProblem(relay: string, agent: string): string | undefined {
  if (compareVersions(relay, agent) >= 0) return undefined;
  return (
    `agents at ${agent} would be newer than their relays at ${relay}: the vendor's rule is that relays ` +
    `are upgraded first and agents are never newer than their relays (security-component and software ` +
    `upgrades can fail otherwise); give a relay version of at least ${agent}`
  );
}

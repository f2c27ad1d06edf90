/**
 * The security components the simulated relays carry. Names and version formats are the
 * simulator's choice (the real pattern/engine formats are unverified); rule updates follow the
 * known YY-NNN numbering. Pattern numbers step by 2, as the classic virus pattern did.
 */
import { compareVersions, formatRuleUpdate, isNewerVersion, nextRuleUpdate, parseRuleUpdate } from '../domain/versions';

export interface ComponentSet {
  virusPattern: string;
  spywarePattern: string;
  scanEngine: string;
  ruleUpdate: string;
}

export type ComponentKey = keyof ComponentSet;

export interface ComponentInfo {
  key: ComponentKey;
  /** As the manager lists it under securityUpdates. */
  name: string;
  group: 'antiMalware' | 'rules';
  /** The payload's path inside the bundle zip. */
  file: (version: string) => string;
}

export const COMPONENTS: readonly ComponentInfo[] = [
  { key: 'virusPattern', name: 'Virus Pattern', group: 'antiMalware', file: (v) => `patterns/lpt$vpn.${patternNo(v)}` },
  {
    key: 'spywarePattern',
    name: 'Spyware/Grayware Pattern',
    group: 'antiMalware',
    file: (v) => `patterns/ssaptn.${patternNo(v)}`,
  },
  { key: 'scanEngine', name: 'Virus Scan Engine', group: 'antiMalware', file: (v) => `engine/vsapi-${v}.bin` },
  { key: 'ruleUpdate', name: 'Deep Security Rule Update', group: 'rules', file: (v) => `rules/DSRU-${v}.dsru` },
];

function patternNo(version: string): string {
  return version.split('.')[1] ?? version;
}

/** "18.611.00" + 2 → "18.613.00"; past 999 the major number turns over. */
export function bumpPattern(version: string, step: number): string {
  const [major = '0', minor = '0', build = '00'] = version.split('.');
  let m = Number(major);
  let n = Number(minor) + step;
  while (n > 999) {
    m += 1;
    n -= 999;
  }
  while (n < 1) {
    m -= 1;
    n += 999;
  }
  return `${m}.${String(n).padStart(3, '0')}.${build}`;
}

/** What the vendor's update server offers on a fresh simulator: this week's rule update. */
export function initialInternetComponents(now: number): ComponentSet {
  const d = new Date(now);
  const dayOfYear = Math.floor((now - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000);
  const week = Math.min(52, Math.max(3, Math.ceil((dayOfYear + 1) / 7)));
  return {
    virusPattern: '18.611.00',
    spywarePattern: '2.731.00',
    scanEngine: '23.570.1002',
    ruleUpdate: formatRuleUpdate({ year: d.getUTCFullYear() % 100, sequence: week }),
  };
}

/** The same components `updates` publications earlier: where the air-gapped side starts. */
export function olderComponents(set: ComponentSet, updates: number): ComponentSet {
  const rule = parseRuleUpdate(set.ruleUpdate);
  return {
    ...set,
    virusPattern: bumpPattern(set.virusPattern, -2 * updates),
    spywarePattern: bumpPattern(set.spywarePattern, -updates),
    ruleUpdate: formatRuleUpdate({ year: rule.year, sequence: Math.max(1, rule.sequence - updates) }),
  };
}

/** One publication on the update server: new patterns and the next rule update. */
export function nextComponents(set: ComponentSet, now: number): ComponentSet {
  return {
    ...set,
    virusPattern: bumpPattern(set.virusPattern, 2),
    spywarePattern: bumpPattern(set.spywarePattern, 1),
    ruleUpdate: nextRuleUpdate(set.ruleUpdate, now),
  };
}

/** The components of `candidate` that are newer than `current`. */
export function newerKeys(candidate: ComponentSet, current: ComponentSet): ComponentKey[] {
  return COMPONENTS.filter((c) => isNewerVersion(candidate[c.key], current[c.key])).map((c) => c.key);
}

/** Per component, the newer of the two: imports never roll a component back. */
export function mergeNewer(current: ComponentSet, candidate: ComponentSet): ComponentSet {
  const out = { ...current };
  for (const key of newerKeys(candidate, current)) out[key] = candidate[key];
  return out;
}

/** Per component, the highest version among `sets` (what a manager regards as latest). */
export function highest(sets: ComponentSet[], fallback: ComponentSet): ComponentSet {
  const out = { ...fallback };
  for (const set of sets) {
    for (const c of COMPONENTS) if (compareVersions(set[c.key], out[c.key]) > 0) out[c.key] = set[c.key];
  }
  return out;
}

/**
 * Is a bundle worth importing? Compares the component versions a bundle carries with what the
 * air-gapped relay reports. Pattern and engine version formats are unverified (interfaces doc), so
 * versions are compared segment by segment when both are dotted/dashed numbers (13.245.00,
 * 25-052) and otherwise only for equality.
 */
import type { ComponentVersion } from './cycle';

/** -1, 0, 1, or undefined when the two cannot be ordered. */
export function compareVersions(a: string, b: string): -1 | 0 | 1 | undefined {
  if (a === b) return 0;
  const sa = a.split(/[.\-_]/);
  const sb = b.split(/[.\-_]/);
  if (![...sa, ...sb].every((s) => /^\d+$/.test(s))) return undefined;
  for (let i = 0; i < Math.max(sa.length, sb.length); i++) {
    const x = Number(sa[i] ?? 0);
    const y = Number(sb[i] ?? 0);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export type Freshness =
  | { verdict: 'newer'; newer: string[] }
  | { verdict: 'same' }
  | { verdict: 'older'; older: { name: string; bundle: string; installed: string }[] };

/**
 * 'older' as soon as one component would go back (rollback protection), 'newer' when at least one
 * goes forward or is new to the relay, 'same' otherwise. Versions that cannot be ordered but
 * differ count as newer: the manager will have the last word on the import.
 */
export function bundleFreshness(bundle: ComponentVersion[], installed: ComponentVersion[]): Freshness {
  const current = new Map(installed.map((c) => [c.name, c.version]));
  const newer: string[] = [];
  const older: { name: string; bundle: string; installed: string }[] = [];
  for (const component of bundle) {
    const have = current.get(component.name);
    if (have === undefined) {
      newer.push(component.name);
      continue;
    }
    const cmp = compareVersions(component.version, have);
    if (cmp === -1) older.push({ name: component.name, bundle: component.version, installed: have });
    else if (cmp === 1 || cmp === undefined) newer.push(component.name);
  }
  if (older.length > 0) return { verdict: 'older', older };
  if (newer.length > 0) return { verdict: 'newer', newer };
  return { verdict: 'same' };
}

/** True when every component of `expected` is reported at that version or later. */
export function reportsAtLeast(reported: ComponentVersion[], expected: ComponentVersion[]): boolean {
  const have = new Map(reported.map((c) => [c.name, c.version]));
  return expected.every((c) => {
    const v = have.get(c.name);
    if (v === undefined) return false;
    const cmp = compareVersions(v, c.version);
    return cmp === 0 || cmp === 1;
  });
}

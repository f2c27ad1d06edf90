/**
 * Is a bundle worth importing? Compares the component versions a bundle carries with what the
 * air-gapped relay reports. Pattern and engine version formats are unverified (interfaces doc), so
 * versions are ordered (domain/versions.ts) when both are dotted/dashed numbers (13.245.00,
 * 25-052) and otherwise compared only for equality.
 */
import type { ComponentVersion } from './cycle';
import { compareVersions, InvalidVersionError } from './versions';

/** Sign of the order of two versions, or undefined when their format cannot be ordered. */
function order(a: string, b: string): -1 | 0 | 1 | undefined {
  if (a === b) return 0;
  try {
    return Math.sign(compareVersions(a, b)) as -1 | 0 | 1;
  } catch (err) {
    if (err instanceof InvalidVersionError) return undefined;
    throw err;
  }
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
    const cmp = order(component.version, have);
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
    const cmp = order(v, c.version);
    return cmp === 0 || cmp === 1;
  });
}

/** A new run's workflow id: kind, site, start time and a random suffix (see domain/run-ids.ts). */
import { randomBytes } from 'node:crypto';
import { rolloutRunIdOf, runIdOf, type RunIdKind } from '../domain/run-ids';
import type { UpgradeTargets } from '../domain/upgrade-stages';

const suffix = () => randomBytes(2).toString('hex');

export function newRunId(kind: RunIdKind, site: string): string {
  return runIdOf(kind, site, Date.now(), suffix());
}

export function newRolloutId(site: string, targets: UpgradeTargets): string {
  return rolloutRunIdOf(site, targets, Date.now(), suffix());
}

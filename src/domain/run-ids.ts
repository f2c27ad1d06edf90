/**
 * Workflow ids of the runs people start: one per run, never reused, and readable. The id names
 * the kind, the site, what the run is about when that matters (an upgrade's targets), when it
 * started (UTC, to the second) and a short random suffix, so two runs started in the same second
 * still differ: "upgrade-demo-20.0.900-20.0.0.9000-2026-11-25T06-00-00Z-3f9a".
 *
 * What must be unique per site (one open cycle, one open rollout) is held by locks
 * (workflows/site-lock.ts), not by ids. Scheduled runs get their ids from Temporal Schedules,
 * which append the scheduled time to the action's id.
 */
import type { UpgradeTargets } from './upgrade-stages';

export type RunIdKind = 'cycle' | 'rules' | 'harden-plan' | 'harden-check' | 'harden-apply' | 'upgrade';

/** "2026-11-25T06-00-00Z": sortable, and safe in a file name and a URL. */
export function runStamp(at: Date | number): string {
  return new Date(at)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
}

/**
 * The id of one run. `unique` is a few random hex digits from the caller (`randomRunSuffix`);
 * `about` names what the run is about, when the kind alone does not.
 */
export function runIdOf(kind: RunIdKind, site: string, at: Date | number, unique: string, about?: string): string {
  if (!/^[0-9a-f]{4,}$/.test(unique)) throw new Error(`run id suffix "${unique}" must be at least 4 hex digits`);
  return `${kind}-${site}${about ? `-${about}` : ''}-${runStamp(at)}-${unique}`;
}

/** An upgrade rollout's id names its targets: manager, then relays and agents (one value when equal). */
export function rolloutRunIdOf(site: string, targets: UpgradeTargets, at: Date | number, unique: string): string {
  const agents = targets.relay === targets.agent ? targets.agent : `r${targets.relay}-a${targets.agent}`;
  return runIdOf('upgrade', site, at, unique, `${targets.manager}-${agents}`);
}

/** The id of a site's cycle schedule (the runs it starts are named after it). */
export const scheduleIdFor = (site: string): string => `airgap-cycle-${site}`;

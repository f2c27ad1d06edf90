/**
 * Copies a person left on a relay under another name or in another folder of its install folder
 * (the arrival check names them): removed once the run no longer needs a person to fix the copy,
 * so no stale zip stays where a later import could find it. Shared by the connected cycle and the
 * isolated intake's guided placement.
 */
import type { Actor } from '../domain/cycle';
import { describeFailure } from './activity-options';
import type { RunKit } from './run-kit';

export interface StrayCopy {
  relay: string;
  path: string;
}

/** Notes a mismatch's copy found at another place than the expected one (once per path). */
export function noteStray(
  strays: StrayCopy[],
  relay: string,
  report: { foundPath?: string; expectedPath?: string },
): void {
  const found = report.foundPath;
  if (found && found !== report.expectedPath && !strays.some((s) => s.path === found)) {
    strays.push({ relay, path: found });
  }
}

export interface StrayRemoval {
  /** The relay's host worker deletes one stray inside the install folders it may touch. */
  remove: (stray: StrayCopy) => Promise<{ removed: boolean }>;
  /** Whether a removal is audited (cycles started before the relay-file audit only note it). */
  auditRemoved: boolean;
  /** Who the audit names; undefined in cycles started before the relay-file audit. */
  actor: Actor | undefined;
}

/** Deletes each stray; one that cannot be deleted is named for a person to remove by hand. */
export async function removeStrayCopies(kit: RunKit, strays: readonly StrayCopy[], how: StrayRemoval): Promise<void> {
  for (const stray of strays) {
    try {
      const result = await how.remove(stray);
      kit.note('relay.stray-removed', `${stray.relay}: ${result.removed ? 'removed' : 'already gone'}: ${stray.path}`);
      if (how.auditRemoved) {
        await kit.audit(
          'relay.stray-removed',
          { relay: stray.relay, path: stray.path, removed: result.removed },
          how.actor,
        );
      }
    } catch (err) {
      kit.note(
        'relay.stray-left',
        `${stray.relay}: left in place, remove it by hand: ${stray.path} (${describeFailure(err)})`,
      );
      await kit.audit('relay.stray-left', { relay: stray.relay, path: stray.path }, how.actor);
    }
  }
}

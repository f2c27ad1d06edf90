/**
 * The synthetic audit history both audit benches write (SQLite alone, and PostgreSQL against
 * SQLite): runs of 8 events over four sites, so their numbers compare.
 */
import type { AuditEvent, AuditKind } from '../src/domain/audit';

const SITES = ['north', 'south', 'east', 'west'];
const KINDS: AuditKind[] = ['cycle', 'cycle', 'cycle', 'upgrade', 'rules', 'harden'];
const OUTCOMES = ['completed', 'completed', 'completed', 'nothing-new', 'failed', 'expired'];
const STEPS = ['bundle.built', 'human.file-copied', 'arrival.verified', 'import.triggered', 'import.completed'];
export const EPOCH = Date.parse('2020-01-01T00:00:00Z');

/** `total` events; `prefix` keeps workflow ids apart when several writers append at once. */
export function* events(total: number, prefix = ''): Generator<AuditEvent> {
  for (let run = 0, n = 0; n < total; run++) {
    const workflowId = `${prefix}run-${run}`;
    const site = SITES[run % SITES.length]!;
    const kind = KINDS[run % KINDS.length]!;
    const start = EPOCH + run * 6 * 3_600_000;
    const types = [`${kind}.started`, ...STEPS, 'mail.sent', `${kind}.ended`];
    for (const [i, type] of types.entries()) {
      if (n++ >= total) return;
      const ended = i === types.length - 1;
      yield {
        id: `${workflowId}/r/${i}`,
        workflowId,
        runId: 'r',
        site,
        kind,
        type,
        at: new Date(start + i * 60_000).toISOString(),
        actor: { who: 'ops@example.com', channel: 'link' },
        ...(ended ? { outcome: OUTCOMES[Math.floor(run / 12) % OUTCOMES.length]! } : {}),
        data: { sha256: 'ab'.repeat(32), attempt: i, note: 'x'.repeat(40) },
      };
    }
  }
}

export function median(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

export const ms = (v: number) => `${v.toFixed(1)} ms`;
export const ratio = (ours: number, base: number) => `${(ours / base).toFixed(2)}x`;

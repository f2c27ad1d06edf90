/**
 * Faults the simulator can be told to produce, in-process (SimControl.injectFault) or over the
 * control endpoint (POST /faults with the same JSON). Counted faults hit the next `count` matching
 * events and then disappear; `slow-import` lasts until the faults are cleared.
 */
import { z } from 'zod';

const managerRef = z.strictObject({ siteId: z.string().min(1), side: z.enum(['dmz', 'airgapped']) });
const count = z.number().int().positive();

export const simFaultSchema = z.discriminatedUnion('kind', [
  /** The manager answers 5xx to the next `count` API requests (after authentication). */
  z.strictObject({
    kind: z.literal('server-error'),
    count,
    status: z.union([z.literal(500), z.literal(502), z.literal(503)]).default(503),
    manager: managerRef.optional(),
  }),
  /** The manager answers 429 "Too many API requests" to the next `count` requests. */
  z.strictObject({ kind: z.literal('rate-limit'), count, manager: managerRef.optional() }),
  /** The manager holds the next `count` requests for `ms` before answering (client timeouts). */
  z.strictObject({
    kind: z.literal('stall'),
    count,
    ms: z.number().int().positive(),
    manager: managerRef.optional(),
  }),
  /** The relay stops (or resumes) contact: agentStatus error/Offline; scheduled tasks have no effect. */
  z.strictObject({ kind: z.literal('relay-offline'), relay: z.string().min(1), offline: z.boolean().default(true) }),
  /** Imports take `extraMs` longer (until faults are cleared). */
  z.strictObject({
    kind: z.literal('slow-import'),
    extraMs: z.number().int().positive(),
    relay: z.string().optional(),
  }),
  /** The next `count` imports fail even with a good bundle. */
  z.strictObject({ kind: z.literal('failed-import'), count: count.default(1), relay: z.string().optional() }),
  /** The next `count` `dsa_control -b` runs write a zip with damaged content (CRC errors on unpack). */
  z.strictObject({ kind: z.literal('corrupt-bundle'), count: count.default(1) }),
]);

export type SimFault = z.input<typeof simFaultSchema>;
export type NormalisedFault = z.output<typeof simFaultSchema>;
export type ManagerRef = z.output<typeof managerRef>;

/** An injected fault still in force; `remaining` counts down for counted faults. */
export interface ActiveFault {
  fault: NormalisedFault;
  remaining?: number;
}

export function activate(fault: NormalisedFault): ActiveFault {
  return 'count' in fault ? { fault, remaining: fault.count } : { fault };
}

/**
 * Takes one use of the first active fault of `kind` that `matches`, removing it when used up.
 * Returns the fault, or undefined when none applies.
 */
export function consume<K extends NormalisedFault['kind']>(
  faults: ActiveFault[],
  kind: K,
  matches: (f: Extract<NormalisedFault, { kind: K }>) => boolean,
): Extract<NormalisedFault, { kind: K }> | undefined {
  const i = faults.findIndex((a) => a.fault.kind === kind && matches(a.fault as Extract<NormalisedFault, { kind: K }>));
  if (i < 0) return undefined;
  const active = faults[i]!;
  if (active.remaining !== undefined) {
    active.remaining -= 1;
    if (active.remaining <= 0) faults.splice(i, 1);
  }
  return active.fault as Extract<NormalisedFault, { kind: K }>;
}

export function sameManager(a: ManagerRef | undefined, b: ManagerRef): boolean {
  return a === undefined || (a.siteId === b.siteId && a.side === b.side);
}

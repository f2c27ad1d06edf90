/**
 * The one byte form of a document that is signed (transfer manifest, receipt): JSON with object
 * keys sorted at every level, two-space indentation and a final newline. The signature covers
 * the file's bytes exactly, so the form must be reproducible: the same document always gives the
 * same text, whatever order its fields were built in. Readable on the medium too, which matters
 * because a person may open it.
 *
 * Pure, no Node built-ins: workflow code may import it.
 */

/** Thrown when a value has no canonical JSON form (undefined, a function, NaN, Infinity, a cycle). */
export class NotCanonicalError extends Error {
  constructor(
    readonly at: string,
    readonly problem: string,
  ) {
    super(
      `${at}: ${problem}; a signed document holds only strings, finite numbers, booleans, null, arrays and objects`,
    );
    this.name = 'NotCanonicalError';
  }
}

function sorted(value: unknown, at: string, seen: Set<object>): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new NotCanonicalError(at, `${value} is not a finite number`);
    return value;
  }
  if (typeof value !== 'object') throw new NotCanonicalError(at, `a ${typeof value} has no JSON form`);
  if (seen.has(value)) throw new NotCanonicalError(at, 'the value refers to itself');
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v, i) => sorted(v, `${at}[${i}]`, seen));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      // An absent optional field and a field set to undefined must give the same bytes.
      if (v === undefined) continue;
      out[key] = sorted(v, `${at}.${key}`, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** The canonical text of `value`: sorted keys, two-space indentation, trailing newline. */
export function canonicalJson(value: unknown): string {
  return `${JSON.stringify(sorted(value, '$', new Set()), null, 2)}\n`;
}

/**
 * Who did something, as a person types it (`--by`, a form): it ends up in the audit, in mails, in
 * status lines and in CSV exports opened by spreadsheets. So it must look like an identity and
 * nothing else: an email address or a plain name or login, printable, on one line, not starting
 * like a spreadsheet formula, and of bounded length.
 *
 * Pure, no Node built-ins: workflow validators may import it.
 */

export const MAX_IDENTITY_LENGTH = 128;

// Characters a spreadsheet reads as the start of a formula (OWASP "CSV injection").
const FORMULA_START = /^[=+\-@\t\r]/;
// Control characters (C0, DEL, C1), line and paragraph separators, and format characters such as
// the bidirectional overrides that make text read differently from what it holds.
const INVISIBLE = /[\p{Cc}\p{Cf}\u2028\u2029]/u;
// Letters and digits of any script, marks, spaces and the punctuation names and logins use:
// "Jane O'Neil", "Doe, Jane (ops)", "CORP\jdoe", "jdoe.adm", "ops+dmz@example.com".
const NAME = /^[\p{L}\p{M}\p{N} .,'’_@+\-()\\/]+$/u;
const EMAIL = /^[^\s@]+@[^\s@]+$/u;

/**
 * Why `by` is not a plausible identity, in words fit for an error message; undefined when it is.
 * The text is judged as given: callers trim first if they accept surrounding blanks.
 */
export function identityProblem(by: unknown): string | undefined {
  if (typeof by !== 'string' || by.trim() === '') return 'it is empty';
  if (by.length > MAX_IDENTITY_LENGTH) return `it is longer than ${MAX_IDENTITY_LENGTH} characters`;
  if (INVISIBLE.test(by)) return 'it holds control characters (a line break, a tab, …)';
  if (by !== by.trim()) return 'it begins or ends with blanks';
  if (FORMULA_START.test(by)) return `it begins with "${by[0]}", which a spreadsheet reads as a formula`;
  if (!NAME.test(by)) {
    return "it holds characters other than letters, digits, spaces and . , ' _ @ + - ( ) \\ /";
  }
  if (by.includes('@') && !EMAIL.test(by)) return 'it has an "@" but is not an email address';
  return undefined;
}

/** Thrown by parseIdentity; names the value (made printable) and what is wrong with it. */
export class InvalidIdentityError extends Error {
  constructor(
    readonly value: string,
    readonly problem: string,
  ) {
    super(`"${printable(value)}" is not a plausible identity: ${problem}; give an email address or a plain name`);
    this.name = 'InvalidIdentityError';
  }
}

/** The identity, trimmed; throws InvalidIdentityError when it is not plausible. */
export function parseIdentity(by: string): string {
  const trimmed = typeof by === 'string' ? by.trim() : by;
  const problem = identityProblem(trimmed);
  if (problem !== undefined) throw new InvalidIdentityError(String(by), problem);
  return trimmed;
}

/** The value as it may be shown in one line of a message: escapes instead of control characters, cut short. */
export function printable(value: string, max = 60): string {
  const shown = JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value).slice(1, -1);
  return shown.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The refusal a workflow's validator gives when `by` does not name a plausible person: the same
 * rule the CLI and the web app apply, so a client that sends the Update directly gets no further.
 * `what` completes "say who …" (e.g. "copied the file").
 */
export function byRefusal(by: unknown, what: string): string | undefined {
  if (typeof by !== 'string' || by.trim() === '') return `say who ${what} (--by)`;
  const problem = identityProblem(by.trim());
  return problem === undefined ? undefined : `--by "${printable(by)}" is not a plausible identity: ${problem}`;
}

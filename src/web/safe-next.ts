/**
 * A local path to go back to after login, or "/". Refuses absolute URLs, scheme-relative `//x`,
 * backslash tricks and control characters: no open redirect through ?next=.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > 1000) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(next)) return '/';
  if (next.startsWith('/login') || next.startsWith('/logout')) return '/';
  return next;
}

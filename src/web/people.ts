/** Who may sign in to the web app: the configured operators and approvers of every site. */
import type { AppConfig } from '../domain/config';

export function peopleOf(config: Pick<AppConfig, 'sites'>): string[] {
  const all = config.sites.flatMap((s) => [...s.people.operators, ...s.people.approvers]);
  return [...new Set(all.map((p) => p.toLowerCase()))];
}

/** A configured person's email as sessions and proofs carry it (lowercase), or undefined when it names nobody configured. */
export function configuredPerson(people: readonly string[], email: unknown): string | undefined {
  if (typeof email !== 'string') return undefined;
  const wanted = email.trim().toLowerCase();
  return people.some((p) => p.toLowerCase() === wanted) ? wanted : undefined;
}

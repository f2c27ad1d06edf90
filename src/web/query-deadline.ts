/**
 * A query to a run whose worker is down gets no answer until the RPC deadline. Pages and link
 * gateways ask within this bound, so a person sees "no answer" (or the audit's account) at once
 * instead of a page that hangs.
 */
import type { Client } from '@temporalio/client';

export const QUERY_DEADLINE_MS = 5_000;

export function withinQueryDeadline<T>(client: Client, ask: () => Promise<T>): Promise<T> {
  return client.withDeadline(Date.now() + QUERY_DEADLINE_MS, ask);
}

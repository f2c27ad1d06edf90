/**
 * Namespace and search attributes the project needs. The embedded stack and the test server
 * create them; against an external cluster they are checked and reported, since creating
 * namespaces there is the cluster operator's decision.
 */
import { type Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { ALL_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

/** gRPC status code NOT_FOUND (the client's gRPC library is not a direct dependency). */
const GRPC_NOT_FOUND = 5;

function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === GRPC_NOT_FOUND;
}

/** A namespace just registered takes a moment to be visible to every service of the server. */
async function retryWhileNotFound<T>(call: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (!isNotFound(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export async function ensureNamespace(connection: Connection, namespace: string, retentionMs: number): Promise<void> {
  const seconds = Math.ceil(retentionMs / 1000);
  const ttl = msToTs(seconds * 1000);
  try {
    const described = await connection.workflowService.describeNamespace({ namespace });
    const current = Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
    if (current !== seconds) {
      await connection.workflowService.updateNamespace({
        namespace,
        config: { workflowExecutionRetentionTtl: ttl },
      });
    }
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: ttl });
  }
  await ensureSearchAttributes(connection, namespace);
}

export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const existing = await retryWhileNotFound(() => connection.operatorService.listSearchAttributes({ namespace }));
  const missing = ALL_SEARCH_ATTRIBUTES.filter((key) => !(key.name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, KEYWORD])),
  });
}

/** For external clusters: what is missing, in words, without changing anything. */
export async function checkNamespace(connection: Connection, namespace: string): Promise<string[]> {
  const problems: string[] = [];
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return [`namespace "${namespace}" does not exist; create it (retention >= 30d) or run "airgap setup"`];
  }
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  for (const key of ALL_SEARCH_ATTRIBUTES) {
    if (!(key.name in (existing.customAttributes ?? {}))) {
      problems.push(`search attribute ${key.name} (Keyword) is not registered in namespace "${namespace}"`);
    }
  }
  return problems;
}

/**
 * The one place where a failure becomes what the operator sees: one line on stderr saying what
 * happened and what to do, a JSON error object on stdout with --json, exit 1. The stack trace only
 * with AIRGAP_LOG_LEVEL=DEBUG (or TRACE): an ordinary mistake is not a crash.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { ConfigError } from '../domain/config';
import { InvalidIdentityError } from '../domain/identity';
import { AuditStoreBusyError, AuditStoreVersionError } from '../adapters/audit-store';
import { AuditStoreSettingError } from '../adapters/audit-store-open';
import { AuditStoreConnectError, AuditStoreNotEmptyError, PostgresSchemaError } from '../adapters/audit-store-postgres';
import { PortInUseError } from '../adapters/ports';
import { CliError, type TemporalWhere } from './context';
import { ActionRefusedError } from './run-actions';

export interface DescribedError {
  /** One line (a configuration error lists its problems, one per line). */
  message: string;
  /** A stable word for machines: refused, config, not-found, unreachable, busy, error. */
  code: string;
  details?: unknown;
  /** A refused action's refusal code (`not-approver`, `already-decided`…), beside `code: refused`. */
  refusal?: string;
}

const GRPC_UNAVAILABLE = 14;

function isUnreachable(err: unknown): boolean {
  for (
    let e = err as { message?: string; code?: number; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (
      typeof e.message === 'string' &&
      /Failed to connect before the deadline|ECONNREFUSED|No connection established/i.test(e.message)
    ) {
      return true;
    }
    if (e.code === GRPC_UNAVAILABLE) return true;
    e = e.cause as typeof e;
  }
  return false;
}

export function describeError(err: unknown, where: () => TemporalWhere | undefined): DescribedError {
  if (err instanceof ActionRefusedError) {
    return { message: err.message, code: 'refused', details: err.details, refusal: err.attempt.code };
  }
  if (err instanceof CliError) return { message: err.message, code: 'refused', details: err.details };
  if (err instanceof ConfigError) return { message: err.message, code: 'config', details: { problems: err.problems } };
  if (err instanceof InvalidIdentityError) return { message: `--by ${err.message}`, code: 'refused' };
  if (err instanceof WorkflowNotFoundError) {
    return {
      message: `${err.workflowId || 'the run'} has ended or does not exist, so nothing can be changed any more: see airgap audit show ${err.workflowId || '<id>'}`,
      code: 'not-found',
      details: { workflowId: err.workflowId },
    };
  }
  // Before isUnreachable: a refused PostgreSQL connection is the audit's, not Temporal's.
  if (err instanceof AuditStoreConnectError) return { message: err.message, code: 'unreachable' };
  if (err instanceof AuditStoreSettingError) return { message: err.message, code: 'config' };
  if (err instanceof AuditStoreNotEmptyError) return { message: err.message, code: 'refused' };
  if (err instanceof PostgresSchemaError) return { message: err.message, code: 'busy' };
  if (isUnreachable(err)) {
    let target: TemporalWhere | undefined;
    try {
      target = where();
    } catch {
      target = undefined;
    }
    const at = target?.address ?? 'the configured address';
    const hint = target?.external
      ? 'is the cluster up, and are TEMPORAL_ADDRESS and its TLS settings right?'
      : 'is `npm start` (airgap start) running?';
    return { message: `Temporal is not reachable at ${at} — ${hint}`, code: 'unreachable', details: { address: at } };
  }
  if (err instanceof AuditStoreBusyError || err instanceof AuditStoreVersionError) {
    return { message: err.message, code: 'busy' };
  }
  if (err instanceof PortInUseError) return { message: err.message, code: 'port-in-use' };
  if ((err as { code?: unknown }).code === 'SQLITE_BUSY' || /database is locked/i.test((err as Error).message ?? '')) {
    return {
      message: 'the audit store is locked by another process and stayed locked; try again in a moment',
      code: 'busy',
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { message: message.split('\n')[0] || String(err), code: 'error' };
}

export function debugWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['DEBUG', 'TRACE'].includes((env.AIRGAP_LOG_LEVEL ?? '').toUpperCase());
}

/** Prints a failure the one way: stderr line(s), JSON on stdout with --json, the stack only when debugging. */
export function reportError(err: unknown, json: boolean, where: () => TemporalWhere | undefined): void {
  const d = describeError(err, where);
  if (json) {
    const body = {
      error: d.message,
      code: d.code,
      ...(d.refusal === undefined ? {} : { refusal: d.refusal }),
      ...(d.details === undefined ? {} : { details: d.details }),
    };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  }
  process.stderr.write(`airgap: ${d.message}\n`);
  if (debugWanted() && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
}

/**
 * A refused action is audit evidence too (who tried what, and why it was refused): the top-level
 * error handler records every ActionRefusedError in the audit store, through the helper the web
 * gateway uses as well. Recording never hides the refusal itself: a failure to record is one more
 * line on stderr.
 */
import { recordRefusedAction, type AuditStore } from '../adapters/audit-store';
import { auditStoreMayExist, type AuditStoreSettings } from '../adapters/audit-store-open';
import { openConfiguredAuditStore } from '../runtime/audit-open';
import type { CliContext } from './context';
import { ActionRefusedError } from './run-actions';

export async function recordRefusal(ctx: CliContext, err: unknown): Promise<void> {
  if (!(err instanceof ActionRefusedError)) return;
  let settings: AuditStoreSettings;
  try {
    settings = ctx.config().config;
  } catch {
    return;
  }
  // No store yet means no run has ever been recorded here: nothing to attach the refusal to.
  if (!auditStoreMayExist(settings)) return;
  let store: AuditStore | undefined;
  try {
    store = await openConfiguredAuditStore(settings, { onWait: (line) => ctx.info(line) });
    const { attempt } = err;
    const record = await recordRefusedAction(store, {
      workflowId: attempt.workflowId,
      action: attempt.action,
      by: attempt.by ?? 'unknown',
      channel: 'cli',
      reason: attempt.reason,
      code: attempt.code,
      at: new Date(),
    });
    if (!record) ctx.info(`the audit has no run ${attempt.workflowId}: the refusal is not recorded`);
  } catch (recordErr) {
    ctx.info(`the refusal could not be recorded in the audit: ${(recordErr as Error).message}`);
  } finally {
    await store?.close();
  }
}

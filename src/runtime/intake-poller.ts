/**
 * The intake of an isolated site: one pass over the folder where the medium is mounted, by hand
 * (`airgap intake <folder>`) or every few seconds (the poller, in the embedded stack and `airgap
 * start` when the configuration is isolated).
 *
 *  - Air-gapped side: each package folder starts an intake workflow whose id is derived from the
 *    package's cycle, so a package taken twice while its intake runs starts nothing (Temporal
 *    refuses the id); taken again after it was imported, the workflow refuses it and audits why.
 *  - DMZ side: each receipt folder is offered to the cycle it names (`receiptArrived`); the cycle
 *    verifies it through an activity and answers with the refusal's reason when it does not hold.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { listPackages, listReceipts } from '../adapters/transfer-medium';
import type { AppConfig, SiteConfig } from '../domain/config';
import { intakeWorkflowIdOf, ISOLATED_INTAKE_WORKFLOW, sideOf } from '../domain/isolated';
import { parseReceipt, RECEIPT_FILE } from '../domain/transfer-receipt';
import { receiptArrivedUpdate, type IntakeInput } from '../workflows/isolated-messages';
import { refusalOf } from '../workflows/refusal';

export interface IntakeOutcome {
  kind: 'package' | 'receipt';
  folder: string;
  /** The intake run (package) or the cycle (receipt) it went to. */
  workflowId?: string;
  /** started: a new intake; running: one is already taking it in; accepted/refused: the cycle's answer; ended: the cycle is over. */
  status: 'started' | 'running' | 'accepted' | 'refused' | 'ended';
  message: string;
}

/** The folder a site's side watches, as configured. */
export function intakeFolderOf(site: SiteConfig): string | undefined {
  const side = sideOf(site);
  if (side === 'airgapped') return site.isolated!.intakeFolder;
  if (side === 'dmz') return site.isolated!.outboundFolder;
  return undefined;
}

async function takePackage(
  client: Client,
  config: AppConfig,
  site: SiteConfig,
  folder: string,
  by: string | undefined,
): Promise<IntakeOutcome> {
  const workflowId = intakeWorkflowIdOf(path.basename(folder));
  const input: IntakeInput = { site: site.id, folder, ...(by ? { by } : {}) };
  try {
    await client.workflow.start(ISOLATED_INTAKE_WORKFLOW, {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      // A finished intake's id may be used again: the workflow then refuses what was imported.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      args: [input],
    });
    return { kind: 'package', folder, workflowId, status: 'started', message: `intake ${workflowId} started` };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return {
      kind: 'package',
      folder,
      workflowId,
      status: 'running',
      message: `intake ${workflowId} is already taking this package in; nothing new started`,
    };
  }
}

async function offerReceipt(client: Client, folder: string, by: string): Promise<IntakeOutcome> {
  const outcome = (status: IntakeOutcome['status'], message: string, workflowId?: string): IntakeOutcome => ({
    kind: 'receipt',
    folder,
    status,
    message,
    ...(workflowId ? { workflowId } : {}),
  });
  let text: string;
  try {
    text = await fs.promises.readFile(path.join(folder, RECEIPT_FILE), 'utf8');
  } catch (err) {
    return outcome('refused', `${folder}: cannot read ${RECEIPT_FILE}: ${(err as Error).message}`);
  }
  // Only to find the cycle: the cycle verifies the signature itself before it believes a word.
  const parsed = parseReceipt(text);
  if (!parsed.ok) return outcome('refused', parsed.refusal.message);
  const cycleId = parsed.value.cycleId;
  try {
    const answer = await client.workflow
      .getHandle(cycleId)
      .executeUpdate(receiptArrivedUpdate, { args: [{ by, folder, channel: 'cli' }] });
    return outcome('accepted', answer.message, cycleId);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      const over = /already completed|not running|closed/i.test(err.message);
      return outcome(
        over ? 'ended' : 'refused',
        over ? `cycle ${cycleId} has ended` : `no cycle ${cycleId} here`,
        cycleId,
      );
    }
    if (err instanceof WorkflowUpdateFailedError) {
      const refusal = refusalOf(err);
      if (refusal?.code === 'not-waiting' || refusal?.code === 'already-decided') {
        return outcome('ended', refusal.message, cycleId);
      }
      return outcome('refused', refusal?.message ?? err.message, cycleId);
    }
    throw err;
  }
}

/**
 * One pass: every package (air-gapped side) or receipt (DMZ side) in the folder, for each
 * isolated site of this installation. `folder` replaces the configured one (a medium mounted
 * elsewhere); `skip` leaves out folders an earlier pass handled (the poller).
 */
export async function intakePass(input: {
  client: Client;
  config: AppConfig;
  folder?: string;
  by?: string;
  skip?: (folder: string) => boolean;
}): Promise<IntakeOutcome[]> {
  const outcomes: IntakeOutcome[] = [];
  for (const site of input.config.sites) {
    const side = sideOf(site);
    const folder = input.folder ?? intakeFolderOf(site);
    if (side === 'connected' || !folder || !fs.existsSync(folder)) continue;
    const found = side === 'airgapped' ? await listPackages(folder) : await listReceipts(folder);
    for (const f of found) {
      if (input.skip?.(f)) continue;
      outcomes.push(
        side === 'airgapped'
          ? await takePackage(input.client, input.config, site, f, input.by)
          : await offerReceipt(input.client, f, input.by ?? 'intake'),
      );
    }
  }
  return outcomes;
}

export interface IntakePoller {
  /** Resolves when the pass under way (if any) is over. */
  stop(): Promise<void>;
}

/**
 * Runs a pass every `everyMs` over the configured folders. A folder is handled once per content:
 * its main file's modification time is remembered, so a package or receipt written again is taken
 * again, and one left on the medium is not started over and over.
 */
export function startIntakePoller(input: {
  client: Client;
  config: AppConfig;
  everyMs?: number;
  onOutcome?: (o: IntakeOutcome) => void;
  onError?: (err: unknown) => void;
}): IntakePoller {
  const seen = new Map<string, number>();
  const stamp = (folder: string): number => {
    for (const file of ['manifest.json', RECEIPT_FILE]) {
      const s = fs.statSync(path.join(folder, file), { throwIfNoEntry: false });
      if (s) return s.mtimeMs;
    }
    return 0;
  };
  let stopped = false;
  let current: Promise<void> | undefined;
  const pass = async () => {
    const outcomes = await intakePass({
      client: input.client,
      config: input.config,
      skip: (f) => seen.get(f) === stamp(f),
    });
    for (const o of outcomes) {
      // A receipt whose cycle answered "refused" may be fixed and written again: its stamp changes then.
      seen.set(o.folder, stamp(o.folder));
      input.onOutcome?.(o);
    }
  };
  const timer = setInterval(() => {
    // A pass still under way (a slow medium) is not doubled.
    if (stopped || current) return;
    current = pass()
      .catch((err: unknown) => input.onError?.(err))
      .finally(() => {
        current = undefined;
      });
  }, input.everyMs ?? 5_000);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}

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
 *
 * The poller offers each folder once per content, also across restarts (intake-memory.ts); by
 * hand, everything named is offered.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { listPackages, listReceipts } from '../adapters/transfer-medium';
import type { AppConfig, SiteConfig } from '../domain/config';
import { intakeWorkflowIdOf, ISOLATED_INTAKE_WORKFLOW, sideOf } from '../domain/isolated';
import { parseReceipt, RECEIPT_FILE } from '../domain/transfer-receipt';
import { fingerprintOf, IntakeMemory, type HandledEntry } from './intake-memory';
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

/** A folder a pass left out because its content was handled before (the intake's memory). */
export interface HandledBefore {
  kind: IntakeOutcome['kind'];
  folder: string;
  entry: HandledEntry;
}

/** The log line for a folder left out: why it is not taken, and how to offer it anyway. */
export function handledBeforeLine(h: HandledBefore): string {
  const how = h.entry.workflowId ? `${h.entry.status}, ${h.entry.workflowId}` : h.entry.status;
  return (
    `intake: ${h.kind} ${h.folder}: offered before (${how}, ${h.entry.at}), not offered again; ` +
    `\`airgap intake ${h.folder}\` offers it by hand`
  );
}

/**
 * One pass: every package (air-gapped side) or receipt (DMZ side) in the folder, for each
 * isolated site of this installation. `folder` replaces the configured one (a medium mounted
 * elsewhere); `skip` leaves out folders the caller does not want offered.
 *
 * With `memory`, each offer's outcome is remembered (intake-memory.ts), and a folder whose
 * content was handled before is left out and told to `onHandledBefore`, unless `offerHandled`:
 * a person running `airgap intake <folder>` gets the real answer for everything they name
 * ("already imported by cycle X"), and the poller then knows that folder as handled.
 */
export async function intakePass(input: {
  client: Client;
  config: AppConfig;
  folder?: string;
  by?: string;
  skip?: (folder: string) => boolean;
  memory?: IntakeMemory;
  offerHandled?: boolean;
  onHandledBefore?: (h: HandledBefore) => void;
  /** Each offer's entry, as remembered. */
  onRemembered?: (folder: string, entry: HandledEntry) => void;
}): Promise<IntakeOutcome[]> {
  const outcomes: IntakeOutcome[] = [];
  const { memory } = input;
  await memory?.refresh();
  for (const site of input.config.sites) {
    const side = sideOf(site);
    const folder = input.folder ?? intakeFolderOf(site);
    if (side === 'connected' || !folder || !fs.existsSync(folder)) continue;
    const kind = side === 'airgapped' ? 'package' : 'receipt';
    const found = side === 'airgapped' ? await listPackages(folder) : await listReceipts(folder);
    for (const f of found) {
      if (input.skip?.(f)) continue;
      // Taken before the offer: what the outcome is remembered for is what was offered.
      const fingerprint = memory ? await fingerprintOf(f) : undefined;
      if (memory && !fingerprint) continue; // taken off the medium meanwhile
      const before = fingerprint && !input.offerHandled ? memory?.handled(f, fingerprint) : undefined;
      if (before) {
        input.onHandledBefore?.({ kind, folder: f, entry: before });
        continue;
      }
      const outcome =
        side === 'airgapped'
          ? await takePackage(input.client, input.config, site, f, input.by)
          : await offerReceipt(input.client, f, input.by ?? 'intake');
      outcomes.push(outcome);
      if (memory && fingerprint) {
        const entry: HandledEntry = {
          fingerprint,
          status: outcome.status,
          message: outcome.message,
          at: new Date().toISOString(),
          ...(outcome.workflowId ? { workflowId: outcome.workflowId } : {}),
        };
        await memory.remember(f, entry);
        input.onRemembered?.(f, entry);
      }
    }
  }
  return outcomes;
}

/** What a poller did since it started: its passes, what it offered, what it left out as handled before. */
export interface IntakePollerReport {
  /** Passes that ran to their end. */
  passes: number;
  offered: IntakeOutcome[];
  /** Each folder left out because its content was handled before this poller offered it, once, with what happened then. */
  handledBefore: HandledBefore[];
}

export interface IntakePoller {
  /** Resolves when the pass under way (if any) is over. */
  stop(): Promise<void>;
  report(): IntakePollerReport;
}

/**
 * Runs a pass every `everyMs` over the configured folders. A folder is offered once per content,
 * also across restarts: what was offered, and how it was answered, is remembered in the data
 * folder (intake-memory.ts), so a package or receipt left on the medium is not offered again and
 * again, and one written again with other content is.
 */
export function startIntakePoller(input: {
  client: Client;
  config: AppConfig;
  everyMs?: number;
  /** Default: the installation's, in its data folder. */
  memory?: IntakeMemory;
  onOutcome?: (o: IntakeOutcome) => void;
  /** Once per folder and content: left out, handled before (e.g. a log line after a restart). */
  onHandledBefore?: (h: HandledBefore) => void;
  onError?: (err: unknown) => void;
}): IntakePoller {
  // A memory that cannot be read or written is said once per reason, not every few seconds.
  const memoryErrors = new Set<string>();
  const memory =
    input.memory ??
    IntakeMemory.in(input.config.dataDir, (err) => {
      if (memoryErrors.has(err.message)) return;
      memoryErrors.add(err.message);
      input.onError?.(err);
    });
  const report: IntakePollerReport = { passes: 0, offered: [], handledBefore: [] };
  /** Folder and fingerprint of what is in the report already, or was offered by this poller. */
  const told = new Set<string>();
  const keyOf = (folder: string, entry: HandledEntry) => `${folder}\0${entry.fingerprint}`;
  let stopped = false;
  let current: Promise<void> | undefined;
  const pass = async () => {
    const outcomes = await intakePass({
      client: input.client,
      config: input.config,
      memory,
      onHandledBefore: (h) => {
        if (told.has(keyOf(h.folder, h.entry))) return;
        told.add(keyOf(h.folder, h.entry));
        report.handledBefore.push(h);
        input.onHandledBefore?.(h);
      },
      onRemembered: (folder, entry) => told.add(keyOf(folder, entry)),
    });
    report.passes += 1;
    for (const o of outcomes) {
      report.offered.push(o);
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
    report: () => ({ ...report, offered: [...report.offered], handledBefore: [...report.handledBefore] }),
  };
}

/**
 * Replay tests need real histories. With AIRGAP_RECORD_HISTORIES=1 the workflow tests that call
 * this write the history of the run they just finished to test/histories/<name>.json (through
 * `temporal workflow show --output json`, the format historyFromJSON reads); commit them.
 * The replay test replays each file under the workflow id before the file name's first dot, so a
 * run that continued as new keeps its earlier runs as `<workflow id>.run-<n>.json` (`runId`).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { TEST_NAMESPACE, testTemporalAddress } from './env';

const cli = path.resolve(__dirname, '..', '..', '.tools', 'temporal-v1.5.1', 'temporal');

export async function recordHistory(
  handle: Pick<WorkflowHandle, 'workflowId'>,
  name: string,
  runId?: string,
): Promise<void> {
  if (!process.env.AIRGAP_RECORD_HISTORIES) return;
  const json = execFileSync(
    process.env.AIRGAP_TEMPORAL_CLI ?? cli,
    [
      'workflow',
      'show',
      '--workflow-id',
      handle.workflowId,
      ...(runId ? ['--run-id', runId] : []),
      '--namespace',
      TEST_NAMESPACE,
      '--address',
      testTemporalAddress(),
      '--output',
      'json',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  fs.writeFileSync(path.join(__dirname, '..', 'histories', `${name}.json`), json);
}

/**
 * One real Temporal dev server for the whole test run: free port, database in a temporary folder,
 * the project's namespace and search attributes registered. The workflow bundle is built once here
 * (webpack takes seconds) and shared by every test worker through a file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { freePort, startDevServer } from '../../src/runtime/dev-server';
import { ensureNamespace } from '../../src/runtime/temporal-setup';
import { TEST_NAMESPACE } from '../helpers/env';

export default async function globalSetup(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-test-'));
  const port = await freePort();
  const server = await startDevServer({
    dbFile: path.join(dir, 'temporal.db'),
    port,
    logFile: path.join(dir, 'temporal.log'),
  });
  const connection = await Connection.connect({ address: server.address });
  await ensureNamespace(connection, TEST_NAMESPACE, 30 * 86_400_000);
  await connection.close();

  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as never,
  });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, bundle.code);

  process.env.AIRGAP_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.AIRGAP_TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.AIRGAP_TEST_TMP = dir;
  (globalThis as Record<string, unknown>).__AIRGAP_DEV_SERVER__ = server;
}

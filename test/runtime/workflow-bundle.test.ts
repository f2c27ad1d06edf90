/**
 * The cached workflow bundle (issue 16: `airgap start` rebuilt it with webpack every time): built
 * once into the data folder, served again while the code is unchanged, never served for changed
 * code. A tiny code root in a temporary folder stands in for dist/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { cachedWorkflowBundle, withoutSourceTexts, workflowBundleKey } from '../../src/runtime/workflow-bundle';
import { TEST_NAMESPACE, testTemporalAddress } from '../helpers/env';

/** The inline source map at the end of a bundle, decoded. */
function sourceMapOf(code: string): { sources: string[]; mappings: string; sourcesContent?: string[] } {
  const at = code.lastIndexOf('//# sourceMappingURL=data:');
  const base64 = code.indexOf('base64,', at);
  return JSON.parse(Buffer.from(code.slice(base64 + 'base64,'.length).trim(), 'base64').toString());
}

jest.setTimeout(120_000);

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never;

describe('the cached workflow bundle', () => {
  let dir: string;
  let workflowsPath: string;
  let domainFile: string;
  let cacheDir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-bundle-'));
    // The bundler resolves @temporalio/workflow from the code's folders, as from the real dist/.
    fs.symlinkSync(path.resolve(__dirname, '..', '..', 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const root = path.join(dir, 'dist');
    fs.mkdirSync(path.join(root, 'workflows'), { recursive: true });
    fs.mkdirSync(path.join(root, 'domain'), { recursive: true });
    domainFile = path.join(root, 'domain', 'greeting.js');
    fs.writeFileSync(domainFile, "exports.greeting = 'hello';\n");
    workflowsPath = path.join(root, 'workflows', 'index.js');
    fs.writeFileSync(
      workflowsPath,
      "const { greeting } = require('../domain/greeting');\nexports.greet = async () => greeting;\n",
    );
    cacheDir = path.join(dir, 'data', 'workflow-bundle');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the key changes when a module the workflows import changes, and only then', () => {
    const before = workflowBundleKey(workflowsPath);
    expect(workflowBundleKey(workflowsPath)).toBe(before);
    fs.writeFileSync(domainFile, "exports.greeting = 'hello, world';\n");
    const changed = workflowBundleKey(workflowsPath);
    expect(changed).not.toBe(before);
    fs.writeFileSync(path.join(path.dirname(workflowsPath), 'new-workflow.js'), 'exports.x = 1;\n');
    expect(workflowBundleKey(workflowsPath)).not.toBe(changed);
  });

  test('built once, served from the data folder while the code is unchanged, rebuilt when it changes', async () => {
    const first = await cachedWorkflowBundle({ workflowsPath, cacheDir });
    if (!('codePath' in first)) throw new Error('expected a bundle file');
    expect(path.dirname(first.codePath)).toBe(cacheDir);
    expect(fs.readFileSync(first.codePath, 'utf8')).toContain("'hello'");
    const builtAt = fs.statSync(first.codePath).mtimeMs;

    const again = await cachedWorkflowBundle({ workflowsPath, cacheDir });
    expect(again).toEqual(first);
    expect(fs.statSync(first.codePath).mtimeMs).toBe(builtAt);

    fs.writeFileSync(domainFile, "exports.greeting = 'good morning';\n");
    const rebuilt = await cachedWorkflowBundle({ workflowsPath, cacheDir });
    if (!('codePath' in rebuilt)) throw new Error('expected a bundle file');
    expect(rebuilt.codePath).not.toBe(first.codePath);
    expect(fs.readFileSync(rebuilt.codePath, 'utf8')).toContain("'good morning'");
    expect(fs.readdirSync(cacheDir)).toEqual([path.basename(rebuilt.codePath)]);
  });

  test("the stored bundle keeps the source map without the sources' texts; stack traces are mapped as before", async () => {
    fs.writeFileSync(
      workflowsPath,
      "const { greeting } = require('../domain/greeting');\n" +
        'exports.greet = async () => greeting;\n' +
        "const { ApplicationFailure } = require('@temporalio/workflow');\n" +
        "exports.fail = async () => {\n  throw ApplicationFailure.nonRetryable('mapped ' + greeting);\n};\n",
    );
    const cached = await cachedWorkflowBundle({ workflowsPath, cacheDir });
    if (!('codePath' in cached)) throw new Error('expected a bundle file');
    const stored = fs.readFileSync(cached.codePath, 'utf8');
    const full = (await bundleWorkflowCode({ workflowsPath, logger: quiet })).code;
    const fullMap = sourceMapOf(full);
    const storedMap = sourceMapOf(stored);
    expect(fullMap.sourcesContent?.length).toBeGreaterThan(0);
    expect(storedMap.sourcesContent).toBeUndefined();
    expect(storedMap.sources).toEqual(fullMap.sources);
    expect(storedMap.mappings).toBe(fullMap.mappings);
    expect(stored.length).toBeLessThan(full.length);
    expect(withoutSourceTexts(stored)).toBe(stored);

    // The same failure, run from each bundle on the test server: the same stack trace, mapped to
    // the workflow's own file and line.
    const stackFrom = async (workflowBundle: WorkerOptions['workflowBundle'], label: string) => {
      const connection = await NativeConnection.connect({ address: testTemporalAddress() });
      const clientConnection = await Connection.connect({ address: testTemporalAddress() });
      const taskQueue = `bundle-stack-${label}-${process.pid}-${Date.now()}`;
      try {
        const worker = await Worker.create({ connection, namespace: TEST_NAMESPACE, taskQueue, workflowBundle });
        const client = new Client({ connection: clientConnection, namespace: TEST_NAMESPACE });
        return await worker.runUntil(async () => {
          const err = await client.workflow
            .execute('fail', { taskQueue, workflowId: taskQueue, workflowExecutionTimeout: '1m' })
            .catch((e: unknown) => e);
          if (!(err instanceof WorkflowFailedError))
            throw new Error(`expected the workflow to fail, got ${String(err)}`);
          return err.cause?.stack ?? '';
        });
      } finally {
        await connection.close();
        await clientConnection.close();
      }
    };
    const storedStack = await stackFrom({ codePath: cached.codePath }, 'stored');
    const fullPath = path.join(dir, 'full-bundle.js');
    fs.writeFileSync(fullPath, full);
    const fullStack = await stackFrom({ codePath: fullPath }, 'full');
    expect(storedStack).toContain('mapped hello');
    expect(storedStack).toMatch(/workflows\/index\.js:5:\d+/);
    expect(storedStack).toBe(fullStack);
  });
});

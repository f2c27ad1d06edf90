/**
 * The cached workflow bundle (issue 16: `airgap start` rebuilt it with webpack every time): built
 * once into the data folder, served again while the code is unchanged, never served for changed
 * code. A tiny code root in a temporary folder stands in for dist/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cachedWorkflowBundle, workflowBundleKey } from '../../src/runtime/workflow-bundle';

jest.setTimeout(120_000);

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
});

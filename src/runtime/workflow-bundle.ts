/**
 * The control worker's workflow bundle, built once and kept in the data folder. Bundling with
 * webpack takes seconds and was done on every `airgap start` (issue 16); the bundle only changes
 * when the workflow code does, so it is cached under a key that hashes every compiled source file
 * of the code root the workflows live in (dist/ when run from the build, src/ under ts-jest), the
 * lock file and the versions of the SDK packages that bundle and run it. Any change to any of them
 * makes a new key, so a cached bundle is never served for other code.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, Runtime } from '@temporalio/worker';

/** Bumped when the way bundles are built here changes (2: the source map without the sources' texts). */
const FORMAT = 'airgap-workflow-bundle/2';
const SOURCE = /\.(?:js|cjs|mjs|ts|cts|mts|json)$/;

function filesUnder(dir: string, into: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) filesUnder(full, into);
    else if (entry.isFile() && SOURCE.test(entry.name)) into.push(full);
  }
  return into;
}

function versionOf(pkg: string): string {
  return (JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
}

/**
 * The cache key of the bundle of `workflowsPath` (its index module): every source file under the
 * code root (the folder above the workflows folder), by relative path and content, plus the lock
 * file beside that root and the SDK versions.
 */
export function workflowBundleKey(workflowsPath: string): string {
  const workflowsDir = fs.statSync(workflowsPath).isDirectory() ? workflowsPath : path.dirname(workflowsPath);
  const root = path.dirname(workflowsDir);
  const hash = crypto.createHash('sha256');
  const field = (name: string, value: string | Buffer) => {
    hash.update(`${name}\0${Buffer.byteLength(value)}\0`);
    hash.update(value);
  };
  field('format', FORMAT);
  field('node', process.version);
  field('@temporalio/worker', versionOf('@temporalio/worker'));
  field('@temporalio/workflow', versionOf('@temporalio/workflow'));
  field('entry', path.relative(root, workflowsPath));
  const lock = path.join(path.dirname(root), 'package-lock.json');
  if (fs.existsSync(lock)) field('package-lock.json', fs.readFileSync(lock));
  for (const file of filesUnder(root)) field(path.relative(root, file), fs.readFileSync(file));
  return hash.digest('hex').slice(0, 32);
}

/** How webpack ends the bundle (the worker's parseWorkflowCode looks for the same). */
const INLINE_MAP = '//# sourceMappingURL=data:';

/**
 * The bundle with its inline source map minus `sourcesContent`, the full text of every source file
 * (here about 0.9 of the bundle's 2.7 MB). At every start the worker decodes, parses and compiles
 * the whole bundle on the main thread (the SDK's parseWorkflowCode) and hands it to its workflow
 * thread, so its size is start time (issue 16, start to ready). Only the mappings are used: stack
 * traces of workflow code still name the TypeScript file and line. The SDK reads the texts only to
 * answer the enhanced stack trace query with `showStackTraceSources`, which no worker here sets.
 * A bundle without an inline source map is returned as it is.
 */
export function withoutSourceTexts(code: string): string {
  const at = code.lastIndexOf(INLINE_MAP);
  const base64 = at < 0 ? -1 : code.indexOf('base64,', at);
  if (base64 < 0) return code;
  const map = JSON.parse(Buffer.from(code.slice(base64 + 'base64,'.length).trimEnd(), 'base64').toString()) as {
    sourcesContent?: unknown;
  };
  delete map.sourcesContent;
  return `${code.slice(0, base64 + 'base64,'.length)}${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
}

export interface WorkflowBundleOptions {
  workflowsPath: string;
  /** The folder the bundle is kept in (<dataDir>/workflow-bundle). */
  cacheDir: string;
}

export type WorkflowBundle = { codePath: string } | { code: string };

/**
 * The bundle of `workflowsPath`: the cached file when its key matches, else built now and stored
 * (older bundles in the folder are removed). When the folder cannot be written the bundle is
 * served from memory, as Worker.create would have built it.
 */
export async function cachedWorkflowBundle(options: WorkflowBundleOptions): Promise<WorkflowBundle> {
  const key = workflowBundleKey(options.workflowsPath);
  const codePath = path.join(options.cacheDir, `workflows-${key}.js`);
  if (fs.existsSync(codePath)) return { codePath };
  const bundled = await bundleWorkflowCode({
    workflowsPath: options.workflowsPath,
    logger: Runtime.instance().logger,
  });
  const code = withoutSourceTexts(bundled.code);
  try {
    fs.mkdirSync(options.cacheDir, { recursive: true });
    const partial = `${codePath}.${process.pid}.partial`;
    fs.writeFileSync(partial, code);
    fs.renameSync(partial, codePath);
    for (const name of fs.readdirSync(options.cacheDir)) {
      if (name !== path.basename(codePath) && /^workflows-[0-9a-f]+\.js$/.test(name)) {
        fs.rmSync(path.join(options.cacheDir, name), { force: true });
      }
    }
    return { codePath };
  } catch {
    return { code };
  }
}

/**
 * Debian's chromium through playwright-core, each launch with a fresh profile. Whether it can start
 * is probed once, synchronously, when a test file loads: a file whose browser cannot start is
 * skipped on a developer machine and fails with the reason under CI (which installs chromium).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.AIRGAP_TEST_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** undefined when chromium starts headless here; otherwise why not. */
function probe(): string | undefined {
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} does not exist (apt-get install chromium)`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-chromium-probe-'));
  try {
    const run = spawnSync(CHROMIUM, [...CHROMIUM_ARGS, `--user-data-dir=${profile}`, '--dump-dom', 'about:blank'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (run.error) return `${CHROMIUM} could not run: ${run.error.message}`;
    if (run.status !== 0 || !run.stdout.includes('<body>')) {
      return `${CHROMIUM} exited with ${run.status ?? run.signal}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    }
    return undefined;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

export const chromiumProblem = probe();

/**
 * `describe` where the browser starts or under CI (where a browser that cannot start must fail the
 * run, see `launchChromium`), `describe.skip` elsewhere.
 */
export const describeWithChromium: jest.Describe =
  chromiumProblem === undefined || process.env.CI ? describe : describe.skip;

export interface RunningChromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<RunningChromium> {
  if (chromiumProblem) {
    throw new Error(`the browser tests need chromium, and it cannot start here: ${chromiumProblem}`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-chromium-'));
  let context: BrowserContext;
  try {
    // playwright refuses --user-data-dir among the args; a persistent context is how it takes one.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
  } catch (err) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw new Error(`chromium (${CHROMIUM}) did not start: ${(err as Error).message}`, { cause: err });
  }
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

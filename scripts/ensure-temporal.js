#!/usr/bin/env node
// Makes the pinned Temporal CLI available at .tools/temporal-<version>/temporal and prints its path.
// Plain JavaScript on purpose: it runs before the TypeScript build (from .ci/run, npm start, jest).
//
// Order, as the foundation issue asks:
//   1. AIRGAP_TEMPORAL_CLI: an explicit path, used as it is (must exist and run);
//   2. the cached build in .tools/ (never rebuilt when present);
//   3. a `temporal` on PATH of the pinned version;
//   4. `go install github.com/temporalio/cli/cmd/temporal@<version>` into .tools/ (takes minutes once).
'use strict';
const { spawnSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const PINNED_VERSION = 'v1.5.1';
const MODULE = 'github.com/temporalio/cli/cmd/temporal';
const ROOT = path.resolve(__dirname, '..');
const TOOLS_DIR = path.join(ROOT, '.tools', `temporal-${PINNED_VERSION}`);
const CACHED = path.join(TOOLS_DIR, process.platform === 'win32' ? 'temporal.exe' : 'temporal');

class TemporalCliUnavailableError extends Error {}

function runs(bin, args) {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  return r.status === 0 ? `${r.stdout}${r.stderr}` : undefined;
}

/** True when `bin` is the pinned release: a release build says so in --version; a `go install`
 * build says 0.0.0-DEV there, but `go version -m` still names the module version. */
function isPinned(bin) {
  const v = runs(bin, ['--version']);
  if (v === undefined) return false;
  if (v.includes(`version ${PINNED_VERSION.slice(1)} `)) return true;
  const go = goBinary();
  const m = go && runs(go, ['version', '-m', bin]);
  return m !== undefined && new RegExp(`\\bmod\\s+github\\.com/temporalio/cli\\s+${PINNED_VERSION}\\b`).test(m);
}

function onPath() {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(dir, 'temporal');
    if (dir && fs.existsSync(candidate) && isPinned(candidate)) return candidate;
  }
  return undefined;
}

function instructions() {
  return [
    `The Temporal CLI ${PINNED_VERSION} is needed (it runs the real Temporal dev server) and none could be found or built.`,
    'Any one of these fixes it:',
    `  - install Go (https://go.dev/dl/, 1.23 or newer) and run this again: it builds the CLI with`,
    `      go install ${MODULE}@${PINNED_VERSION}`,
    `  - or put a temporal ${PINNED_VERSION} binary on PATH (release archives: https://github.com/temporalio/cli/releases/tag/${PINNED_VERSION})`,
    '  - or point AIRGAP_TEMPORAL_CLI at such a binary.',
  ].join('\n');
}

/** `go` on PATH, else the usual install location (machines whose PATH lacks it). */
function goBinary() {
  if (runs('go', ['version']) !== undefined) return 'go';
  const usual = process.platform === 'win32' ? 'C:\\Program Files\\Go\\bin\\go.exe' : '/usr/local/go/bin/go';
  return runs(usual, ['version']) !== undefined ? usual : undefined;
}

/** The last bytes of a child's output are kept: enough to say why a build failed. */
const KEPT_OUTPUT = 64 * 1024;

/**
 * What a person sees while the CLI builds: one line with the elapsed time, rewritten in place on a
 * terminal (elsewhere only the start and the end, so logs get no ticker lines), and the Go tool's
 * own output (~150 "go: downloading" lines) only when the build fails.
 */
function buildReporter(stream, { now = () => Date.now(), tty = Boolean(stream.isTTY) } = {}) {
  const started = now();
  const label = `Building the Temporal CLI ${PINNED_VERSION} with Go into ${path.relative(ROOT, TOOLS_DIR) || '.'}/ (once per machine, a few minutes)`;
  const seconds = () => Math.round((now() - started) / 1000);
  let output = '';
  stream.write(tty ? `${label}… 0 s` : `${label}…\n`);
  return {
    /** Go's stdout and stderr, kept (the tail of it) for a failure. */
    output(chunk) {
      output = (output + String(chunk)).slice(-KEPT_OUTPUT);
    },
    tick() {
      if (tty) stream.write(`\r${label}… ${seconds()} s`);
    },
    done(bin) {
      stream.write(`${tty ? `\r${label}… ` : ''}built in ${seconds()} s: ${bin}\n`);
    },
    failed(why) {
      stream.write(`${tty ? `\r${label}… ` : ''}failed after ${seconds()} s: ${why}\n`);
      if (output) stream.write(`go's output:\n${output}${output.endsWith('\n') ? '' : '\n'}`);
    },
  };
}

function build() {
  const go = goBinary();
  if (!go) throw new TemporalCliUnavailableError(instructions());
  fs.mkdirSync(TOOLS_DIR, { recursive: true });
  const report = buildReporter(process.stderr);
  const ticker = setInterval(() => report.tick(), 1000);
  return new Promise((resolve, reject) => {
    const child = spawn(go, ['install', `${MODULE}@${PINNED_VERSION}`], {
      env: { ...process.env, GOBIN: TOOLS_DIR, GOFLAGS: `${process.env.GOFLAGS || ''} -buildvcs=false`.trim() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk) => report.output(chunk));
    child.stderr.on('data', (chunk) => report.output(chunk));
    child.on('error', (err) => {
      clearInterval(ticker);
      report.failed(`go could not be started: ${err.message}`);
      reject(new TemporalCliUnavailableError(`${instructions()}\n(go could not be started: ${err.message})`));
    });
    child.on('close', (code) => {
      clearInterval(ticker);
      if (code === 0 && fs.existsSync(CACHED)) {
        report.done(CACHED);
        resolve(CACHED);
      } else {
        report.failed(`go install exited with ${code}`);
        reject(
          new TemporalCliUnavailableError(
            `go install ${MODULE}@${PINNED_VERSION} failed (exit ${code}).\n${instructions()}`,
          ),
        );
      }
    });
  });
}

/** Resolves to the absolute path of a runnable pinned Temporal CLI. */
async function ensureTemporalCli() {
  const explicit = process.env.AIRGAP_TEMPORAL_CLI;
  if (explicit) {
    if (runs(explicit, ['--version']) === undefined) {
      throw new TemporalCliUnavailableError(
        `AIRGAP_TEMPORAL_CLI=${explicit} does not run ('${explicit} --version' failed).`,
      );
    }
    return path.resolve(explicit);
  }
  if (fs.existsSync(CACHED) && runs(CACHED, ['--version']) !== undefined) return CACHED;
  return onPath() || build();
}

module.exports = { ensureTemporalCli, buildReporter, PINNED_VERSION, TemporalCliUnavailableError };

if (require.main === module) {
  ensureTemporalCli().then(
    (bin) => process.stdout.write(`${bin}\n`),
    (err) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}

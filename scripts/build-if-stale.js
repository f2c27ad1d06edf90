#!/usr/bin/env node
// `npm start` builds before it runs, but only when something changed: dist/ is up to date when its
// stamp (dist/.build-stamp, written after a successful build) is newer than every file under src/,
// the tsconfig files and package.json. A stale dist/ is rebuilt with `tsc --incremental` (the
// build info in dist/.tsbuildinfo), so only what changed is compiled again.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.build-stamp');
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

/** The newest modification time (ms) of a file or of any file below a folder. */
function newest(file) {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of fs.readdirSync(file)) max = Math.max(max, newest(path.join(file, name)));
  return max;
}

/** Why dist/ must be built, or undefined when it is up to date. */
function staleReason(root = ROOT) {
  const stamp = fs.statSync(path.join(root, 'dist', '.build-stamp'), { throwIfNoEntry: false });
  if (!stamp) return 'dist/ has not been built by this script yet';
  if (!fs.existsSync(path.join(root, 'dist', 'cli', 'main.js'))) return 'dist/cli/main.js is missing';
  const changed = INPUTS.find((f) => newest(path.join(root, f)) > stamp.mtimeMs);
  return changed ? `${changed} changed` : undefined;
}

function build() {
  const why = staleReason();
  if (!why) return 0;
  const started = Date.now();
  process.stderr.write(`Building dist/ (${why})…\n`);
  const tsc = require.resolve('typescript/bin/tsc');
  const args = [tsc, '-p', 'tsconfig.build.json', '--incremental', '--tsBuildInfoFile', 'dist/.tsbuildinfo'];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) return r.status ?? 1;
  fs.writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  process.stderr.write(`Built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
  return 0;
}

module.exports = { staleReason };

if (require.main === module) process.exitCode = build();

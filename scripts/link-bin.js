#!/usr/bin/env node
// npm links the "bin" of dependencies into node_modules/.bin, never a project's own: this links
// node_modules/.bin/airgap to bin/airgap.js after `npm install` (run from "prepare"). Without it,
// `npx airgap` is npm installing the project into its npx cache (15–20 s the first time, ~2.5 s
// per call after); node_modules/.bin/airgap (or `airgap` with it on PATH) starts at once.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const BIN_DIR = path.join(ROOT, 'node_modules', '.bin');
const TARGET = path.join(ROOT, 'bin', 'airgap.js');

function linkBin() {
  if (!fs.existsSync(path.join(ROOT, 'node_modules'))) return undefined;
  fs.mkdirSync(BIN_DIR, { recursive: true });
  if (process.platform === 'win32') {
    const cmd = path.join(BIN_DIR, 'airgap.cmd');
    fs.writeFileSync(cmd, `@node "%~dp0\\..\\..\\bin\\airgap.js" %*\r\n`);
    return cmd;
  }
  const link = path.join(BIN_DIR, 'airgap');
  fs.rmSync(link, { force: true });
  fs.symlinkSync(path.relative(BIN_DIR, TARGET), link);
  fs.chmodSync(TARGET, 0o755);
  return link;
}

module.exports = { linkBin };

if (require.main === module) linkBin();

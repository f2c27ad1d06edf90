/**
 * Writes the simulated host executables: `dsa_control` into each DMZ relay's install dir and
 * `dsm_c` at each manager's dsmCPath. Each is a small Node script that finds the running simulator
 * through <dataDir>/sim/control.json (absolute path baked in), forwards its arguments and prints
 * the answer with the tool's exit code. Rewritten on every start, so moving the data dir is safe.
 */
import fs from 'node:fs';
import path from 'node:path';

export const CONTROL_FILE_NAME = 'control.json';

type Target = { host: string } | { siteId: string; side: string };

function script(tool: 'dsa_control' | 'dsm_c', controlFile: string, target: Target): string {
  return `#!/usr/bin/env node
// Simulated ${tool}, written by the airgap-orchestrator Deep Security simulator (do not edit:
// rewritten on every simulator start). It forwards its arguments to the running simulator, as
// the real tool talks to the local service, and prints the answer.
'use strict';
const fs = require('node:fs');
const CONTROL_FILE = ${JSON.stringify(controlFile)};
const TOOL = ${JSON.stringify(tool)};
const TARGET = ${JSON.stringify(target)};

function fail(message) {
  process.stderr.write(TOOL + ': ' + message + '\\n');
  process.exit(1);
}

let control;
try {
  control = JSON.parse(fs.readFileSync(CONTROL_FILE, 'utf8'));
} catch {
  fail('unable to contact the service (the simulator is not running)');
}
fetch(control.url + '/exec/' + TOOL, {
  method: 'POST',
  headers: { authorization: 'Bearer ' + control.token, 'content-type': 'application/json' },
  body: JSON.stringify(Object.assign({}, TARGET, { args: process.argv.slice(2) })),
})
  .then(async (res) => {
    if (!res.ok) fail('the service refused the command (HTTP ' + res.status + '): ' + (await res.text()));
    return res.json();
  })
  .then((out) => {
    process.stdout.write(out.stdout);
    process.stderr.write(out.stderr);
    process.exitCode = out.exitCode;
  })
  .catch((err) => fail('unable to contact the service: ' + err.message));
`;
}

function writeExecutable(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o755 });
  fs.renameSync(tmp, file);
}

export function writeDsaControl(installDir: string, controlFile: string, host: string): string {
  const file = path.join(installDir, 'dsa_control');
  writeExecutable(file, script('dsa_control', controlFile, { host }));
  // What a Windows relay would run; lets the host adapter's Windows path be exercised by hand.
  writeExecutable(path.join(installDir, 'dsa_control.cmd'), '@node "%~dp0dsa_control" %*\r\n');
  return file;
}

export function writeDsmC(file: string, controlFile: string, target: { siteId: string; side: string }): string {
  writeExecutable(file, script('dsm_c', controlFile, target));
  return file;
}

#!/usr/bin/env node
// Runs a command as a child and ends it when the parent that started us is gone, so a Temporal dev
// server never outlives a killed `npm start` or test run. Usage: supervise.js <parent-pid> <cmd> [args…]
// Signals sent to this process (SIGTERM, SIGINT) are passed on to the child; we exit with it.
'use strict';
const { spawn } = require('node:child_process');

const [parentPid, command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: 'inherit' });

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}

const parentAlive = () => {
  try {
    process.kill(Number(parentPid), 0);
    return true;
  } catch {
    return false;
  }
};
const watch = setInterval(() => {
  if (!parentAlive()) {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  }
}, 1000);

child.on('error', (err) => {
  process.stderr.write(`supervise: cannot start ${command}: ${err.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  clearInterval(watch);
  process.exit(code ?? (signal ? 128 : 1));
});

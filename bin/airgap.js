#!/usr/bin/env node
// The `airgap` command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const main = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write(
    `airgap: ${main} is missing; run "npm install" (or "npm run build") in ${path.dirname(__dirname)} first.\n`,
  );
  process.exit(1);
}
require(main)
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });

/**
 * The CLI loads only the command group that runs (cli/commands.ts): `airgap --help` loads no
 * Temporal SDK, no zod, no worker; `airgap cycle status` loads the client but never the worker SDK
 * or webpack. Speed itself is measured in bench/cli-start.ts, not here. Runs dist/ (npm run build).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildProgram } from '../../src/cli/main';

const ROOT = path.resolve(__dirname, '../..');

/** The node_modules packages a CLI run loaded, by name. */
function packagesLoaded(args: string[]): string[] {
  const script = [
    "const m = require('./dist/cli/main.js');",
    `m.main(['node', 'airgap', ...${JSON.stringify(args)}]).then(() => {`,
    '  const names = new Set(Object.keys(require.cache).map((f) => /node_modules\\/((@[^/]+\\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean));',
    '  process.stderr.write(`\\nLOADED ${JSON.stringify([...names])}\\n`);',
    '});',
  ].join('\n');
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    // Nothing listens here: the status command fails fast after loading what it needs.
    env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', AIRGAP_CONFIG: '' },
  });
  const line = /LOADED (.*)/.exec(r.stderr);
  if (!line) throw new Error(`no module list: ${r.stderr}`);
  return JSON.parse(line[1]!) as string[];
}

describe('CLI start loads only what the command needs', () => {
  it('airgap --help loads commander and nothing of Temporal, zod, yaml or webpack', () => {
    const loaded = packagesLoaded(['--help']);
    expect(loaded).toContain('commander');
    for (const heavy of [
      '@temporalio/client',
      '@temporalio/worker',
      '@temporalio/workflow',
      'zod',
      'yaml',
      'webpack',
    ]) {
      expect(loaded).not.toContain(heavy);
    }
  });

  it('airgap cycle status loads the Temporal client but not the worker SDK, webpack or the web app', () => {
    const loaded = packagesLoaded(['cycle', 'status', 'cycle-none']);
    expect(loaded).toContain('@temporalio/client');
    for (const heavy of ['@temporalio/worker', 'webpack', 'hono', 'nodemailer', '@swc/core']) {
      expect(loaded).not.toContain(heavy);
    }
  });

  it('the help stubs say exactly what the loaded command groups say', async () => {
    const lazy = await buildProgram(['node', 'airgap', '--help']);
    const all = await buildProgram(['node', 'airgap', '--help'], undefined, true);
    expect(lazy.program.helpInformation()).toBe(all.program.helpInformation());
    expect(lazy.program.commands.map((c) => c.name())).toEqual(all.program.commands.map((c) => c.name()));
  });
});

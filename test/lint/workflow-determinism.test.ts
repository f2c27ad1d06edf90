/**
 * The lint rule that keeps workflow code deterministic: no Node built-ins, no I/O libraries,
 * no `process`, in src/workflows. Elsewhere the same imports are fine.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const eslintBin = path.join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');

// ESLint runs as its own process: its config is an ES module, which jest's sandbox cannot load.
// The file names are real project files (type-aware linting needs them); the text comes from stdin.
async function problems(code: string, file: string): Promise<string[]> {
  const r = spawnSync(process.execPath, [eslintBin, '--stdin', '--stdin-filename', file, '--format', 'json'], {
    cwd: root,
    input: code,
    encoding: 'utf8',
  });
  const [result] = JSON.parse(r.stdout) as { messages: { message: string }[] }[];
  return result!.messages.map((m) => m.message);
}

describe('the workflow determinism lint rule', () => {
  it('refuses Node built-ins in workflow code, with or without the node: prefix', async () => {
    expect(await problems(`import fs from 'node:fs';\nexport const x = fs;\n`, 'src/workflows/index.ts')).toEqual([
      expect.stringContaining('Workflow code must be deterministic: no Node built-ins'),
    ]);
    expect(
      await problems(`import { createHash } from 'crypto';\nexport const h = createHash;\n`, 'src/workflows/index.ts'),
    ).toEqual([expect.stringContaining('no Node built-ins')]);
  });

  it('refuses I/O libraries and the environment in workflow code', async () => {
    expect(
      await problems(`import nodemailer from 'nodemailer';\nexport const m = nodemailer;\n`, 'src/workflows/index.ts'),
    ).toEqual([expect.stringContaining('no I/O; use an activity')]);
    expect(await problems(`export const home = process.env.HOME;\n`, 'src/workflows/index.ts')).toEqual([
      expect.stringContaining('must not read the environment'),
    ]);
  });

  it('refuses a workflow function over 150 lines, so a workflow keeps reading like its stages', async () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `  total += ${i};`).join('\n');
    const fn = (n: number) => `export function long(): number {\n  let total = 0;\n${body(n)}\n  return total;\n}\n`;
    expect(await problems(fn(145), 'src/workflows/index.ts')).toEqual([]);
    expect(await problems(fn(160), 'src/workflows/index.ts')).toEqual([expect.stringContaining('has too many lines')]);
    expect(await problems(fn(160), 'src/activities/types.ts')).toEqual([]);
  });

  it('allows the same imports outside src/workflows', async () => {
    expect(await problems(`import fs from 'node:fs';\nexport const x = fs;\n`, 'src/activities/types.ts')).toEqual([]);
  });
});

/**
 * No import cycles in src (the rule `import/no-cycle` would enforce): a cycle makes load order
 * matter, and a value read during loading can be `undefined` depending on who imported first.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importCycles, importGraph } from './import-graph';

const root = path.resolve(__dirname, '..', '..');

describe('the import-cycle check', () => {
  it('finds no import cycles in src', () => {
    const graph = importGraph(path.join(root, 'src'));
    expect(graph.get('worker.ts')).toContain(path.join('domain', 'config.ts'));
    expect(importCycles(graph)).toEqual([]);
  });

  it('keeps the layers: nothing below runtime imports runtime, cli or the worker, and domain imports only domain', () => {
    const graph = importGraph(path.join(root, 'src'));
    const folder = (file: string) => file.split(path.sep)[0]!;
    const upward = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((target) =>
          folder(file) === 'domain'
            ? folder(target) !== 'domain'
            : ['adapters', 'sim', 'web', 'activities', 'workflows'].includes(folder(file)) &&
              ['runtime', 'cli', 'worker.ts'].includes(folder(target)),
        )
        .map((target) => `${file} → ${target}`),
    );
    expect(upward).toEqual([]);
  });

  it('names the files of a cycle, and does not count type-only imports', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-cycles-'));
    try {
      fs.mkdirSync(path.join(dir, 'web'));
      fs.writeFileSync(path.join(dir, 'a.ts'), `import { b } from './web/b';\nexport const a = () => b;\n`);
      fs.writeFileSync(path.join(dir, 'web', 'b.ts'), `export { c as b } from '../c';\n`);
      fs.writeFileSync(path.join(dir, 'c.ts'), `import { a } from './a';\nexport const c = a;\n`);
      // Type-only back edges load nothing at run time.
      fs.writeFileSync(path.join(dir, 'd.ts'), `import type { E } from './e';\nexport type D = E;\n`);
      fs.writeFileSync(path.join(dir, 'e.ts'), `import { type D } from './d';\nexport type E = D | 1;\n`);
      expect(importCycles(importGraph(dir))).toEqual([['a.ts', path.join('web', 'b.ts'), 'c.ts', 'a.ts'].join(' → ')]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

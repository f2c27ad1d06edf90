/**
 * `npm start` builds dist/ only when an input changed since the last build
 * (scripts/build-if-stale.js): checked on a scratch project folder, by file times.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain JavaScript script
const { staleReason } = require('../../scripts/build-if-stale') as {
  staleReason: (root: string) => string | undefined;
};

describe('build only when stale', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-stale-'));
    fs.mkdirSync(path.join(root, 'src', 'cli'), { recursive: true });
    fs.mkdirSync(path.join(root, 'dist', 'cli'), { recursive: true });
    for (const f of ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'src/cli/main.ts']) {
      fs.writeFileSync(path.join(root, f), '{}');
    }
    fs.writeFileSync(path.join(root, 'dist', 'cli', 'main.js'), '');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const age = (file: string, secondsAgo: number) => {
    const t = new Date(Date.now() - secondsAgo * 1000);
    fs.utimesSync(path.join(root, file), t, t);
  };
  const settle = () => {
    for (const f of ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'src/cli/main.ts', 'src/cli', 'src']) {
      age(f, 60);
    }
  };

  it('builds when no build of its own was stamped yet', () => {
    expect(staleReason(root)).toMatch(/not been built/);
  });

  it('skips when the stamp is newer than every input, builds again when a source file changes', () => {
    settle();
    fs.writeFileSync(path.join(root, 'dist', '.build-stamp'), 'x');
    expect(staleReason(root)).toBeUndefined();
    fs.writeFileSync(path.join(root, 'src', 'cli', 'main.ts'), '// changed');
    age('dist/.build-stamp', 30);
    expect(staleReason(root)).toBe('src changed');
  });

  it('builds when the compiled entry point is missing', () => {
    settle();
    fs.writeFileSync(path.join(root, 'dist', '.build-stamp'), 'x');
    fs.rmSync(path.join(root, 'dist', 'cli', 'main.js'));
    expect(staleReason(root)).toMatch(/main\.js is missing/);
  });
});

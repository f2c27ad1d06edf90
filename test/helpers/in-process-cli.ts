/**
 * Runs `airgap …` in this process (the CLI's own `main`) against a config file and captures what
 * it writes, so a test sees the exit code and the words a person would see.
 */
import { main } from '../../src/cli/main';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCliInProcess(configFile: string, ...args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    stdout += c.toString();
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    stderr += c.toString();
    return true;
  });
  try {
    const code = await main(['node', 'airgap', '--config', configFile, ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

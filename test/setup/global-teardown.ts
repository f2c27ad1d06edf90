import fs from 'node:fs';
import type { DevServer } from '../../src/runtime/dev-server';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as Record<string, unknown>).__AIRGAP_DEV_SERVER__ as DevServer | undefined;
  await server?.stop();
  const dir = process.env.AIRGAP_TEST_TMP;
  if (dir && !process.env.AIRGAP_KEEP_TEST_TMP) fs.rmSync(dir, { recursive: true, force: true });
}

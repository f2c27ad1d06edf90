/**
 * Protection age over 90 days from a real audit store: completed cycles inside the window and the
 * newest successful import before it, drawn with the site's threshold.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteAuditStore } from '../../src/adapters/audit-store';
import { parseConfig } from '../../src/domain/config';
import { createProtectionProvider } from '../../src/web/temporal-providers';
import { protectionChartSvg } from '../../src/web/views/pictures';
import { NOW } from './support';

const DAY = 86_400_000;

describe('protection age over time from the audit', () => {
  let dir: string;
  let store: SqliteAuditStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'web-protection-'));
    store = new SqliteAuditStore(path.join(dir, 'audit.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function cycle(n: number, startedDaysAgo: number, endedDaysAgo: number, outcome: string) {
    const id = `cycle-demo-${n}`;
    await store.append({
      id: `${id}/s`,
      workflowId: id,
      site: 'demo',
      kind: 'cycle',
      type: 'cycle.started',
      at: new Date(NOW - startedDaysAgo * DAY).toISOString(),
    });
    await store.append({
      id: `${id}/e`,
      workflowId: id,
      site: 'demo',
      kind: 'cycle',
      type: 'cycle.ended',
      at: new Date(NOW - endedDaysAgo * DAY).toISOString(),
      outcome,
    });
  }

  it('uses the completed cycles in the window, one that started before it, and the import before the window', async () => {
    await cycle(1, 120, 119, 'completed'); // before the window: where the line starts
    await cycle(2, 93, 88, 'completed'); // started before, completed inside the window
    await cycle(3, 45, 44, 'failed'); // no import
    await cycle(4, 20, 19.5, 'completed');
    const config = parseConfig(
      {
        sites: [
          {
            id: 'demo',
            name: 'Demo plant',
            dmz: {
              manager: { url: 'https://dsm.dmz.example:4119/api', apiKeyEnv: 'K1' },
              relay: { name: 'dmz-relay', computerId: 1 },
            },
            airgapped: {
              manager: { url: 'https://dsm.ag.example:4119/api', apiKeyEnv: 'K2' },
              relays: [{ name: 'ag-relay', computerId: 2 }],
            },
            people: { operators: ['op@demo.example'] },
            protectionAgeThreshold: '10d',
          },
        ],
      },
      'test',
    );
    const [h] = await createProtectionProvider(store, config, () => NOW).histories(90);
    expect(h).toEqual({
      site: 'demo',
      name: 'Demo plant',
      thresholdMs: 10 * DAY,
      imports: [NOW - 119 * DAY, NOW - 88 * DAY, NOW - 19.5 * DAY],
    });
    const svg = protectionChartSvg(h!, NOW).value;
    expect(svg).toContain('now 20d, threshold 10d, 2 import(s) in the period');
    expect(svg).toContain('now 20d — over the threshold');
  });
});

/**
 * The control worker's activity slots (src/worker.ts): each wait for people holds one for days (its
 * `remindPeople` activity), so the SDK's default 100 stopped every other control activity once a
 * hundred runs waited (bench/cycle-scale.ts, 500 cycles). The slots grow with the sites.
 */
import type { AppConfig } from '../../src/domain/config';
import { controlActivitySlots } from '../../src/worker';

const withSites = (n: number) =>
  ({ sites: Array.from({ length: n }, (_, i) => ({ id: `s${i}` })) }) as unknown as AppConfig;

describe('the control worker activity slots', () => {
  test('100 for the work, plus four waits per site', () => {
    expect(controlActivitySlots(withSites(1))).toBe(104);
    expect(controlActivitySlots(withSites(501))).toBe(2104);
  });

  test('more than one waiting run per site never takes the work slots', () => {
    for (const sites of [1, 10, 500]) {
      const waitsAtOnce = 3 * sites; // a cycle, a rules transfer and a rollout waiting on every site
      expect(controlActivitySlots(withSites(sites)) - waitsAtOnce).toBeGreaterThanOrEqual(100);
    }
  });
});

import { rolloutRunIdOf, runIdOf, runStamp } from '../../src/domain/run-ids';
import { targetsFrom } from '../../src/domain/upgrade-stages';

const T = Date.UTC(2026, 10, 25, 6, 0, 0, 123);

describe('run ids', () => {
  it('name the kind, the site, the start time and a suffix, readably', () => {
    expect(runStamp(T)).toBe('2026-11-25T06-00-00Z');
    expect(runIdOf('cycle', 'demo', T, '3f9a')).toBe('cycle-demo-2026-11-25T06-00-00Z-3f9a');
    const targets = targetsFrom({ manager: '20.0.900', relay: '20.0.0.9000', agent: '20.0.0.9000' });
    expect(rolloutRunIdOf('demo', targets, T, '3f9a')).toBe(
      'upgrade-demo-20.0.900-20.0.0.9000-2026-11-25T06-00-00Z-3f9a',
    );
    const split = targetsFrom({ manager: '20.0.900', relay: '20.0.0.9000', agent: '20.0.0.8438' });
    expect(rolloutRunIdOf('demo', split, T, '3f9a')).toBe(
      'upgrade-demo-20.0.900-r20.0.0.9000-a20.0.0.8438-2026-11-25T06-00-00Z-3f9a',
    );
  });

  it('differ between two runs of the same kind and target, even in the same second', () => {
    const targets = targetsFrom({ manager: '20.0.900', relay: '20.0.0.9000', agent: '20.0.0.9000' });
    for (const kind of ['cycle', 'rules', 'harden-plan', 'harden-check', 'harden-apply'] as const) {
      expect(runIdOf(kind, 'demo', T, 'a1b2')).not.toBe(runIdOf(kind, 'demo', T, 'c3d4'));
      expect(runIdOf(kind, 'demo', T, 'a1b2')).not.toBe(runIdOf(kind, 'demo', T + 1000, 'a1b2'));
    }
    expect(rolloutRunIdOf('demo', targets, T, 'a1b2')).not.toBe(rolloutRunIdOf('demo', targets, T, 'c3d4'));
  });

  it('refuse a suffix that is not random hex digits', () => {
    expect(() => runIdOf('cycle', 'demo', T, '')).toThrow(/at least 4 hex digits/);
    expect(() => runIdOf('cycle', 'demo', T, 'x/y!')).toThrow(/at least 4 hex digits/);
  });
});

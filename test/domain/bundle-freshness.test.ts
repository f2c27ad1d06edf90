import { bundleFreshness, reportsAtLeast } from '../../src/domain/bundle-freshness';

describe('deciding whether a bundle is worth importing', () => {
  const installed = [
    { name: 'Virus Pattern', version: '19.100.00' },
    { name: 'Rule Update', version: '25-052' },
  ];

  it('says newer when a component moves forward', () => {
    const bundle = [
      { name: 'Virus Pattern', version: '19.101.00' },
      { name: 'Rule Update', version: '25-052' },
    ];
    expect(bundleFreshness(bundle, installed)).toEqual({ verdict: 'newer', newer: ['Virus Pattern'] });
  });

  it('counts a version it cannot order as newer when it differs, and as the same when equal', () => {
    expect(bundleFreshness([{ name: 'Engine', version: 'abc' }], [{ name: 'Engine', version: 'abd' }])).toEqual({
      verdict: 'newer',
      newer: ['Engine'],
    });
    expect(bundleFreshness([{ name: 'Engine', version: 'abc' }], [{ name: 'Engine', version: 'abc' }])).toEqual({
      verdict: 'same',
    });
  });

  it('says same when nothing moves', () => {
    expect(bundleFreshness(installed, installed)).toEqual({ verdict: 'same' });
  });

  it('says older when any component would go back, even if another moves forward', () => {
    const bundle = [
      { name: 'Virus Pattern', version: '19.200.00' },
      { name: 'Rule Update', version: '25-051' },
    ];
    expect(bundleFreshness(bundle, installed)).toEqual({
      verdict: 'older',
      older: [{ name: 'Rule Update', bundle: '25-051', installed: '25-052' }],
    });
  });

  it('knows when a relay reports at least the bundle versions', () => {
    expect(reportsAtLeast(installed, [{ name: 'Rule Update', version: '25-051' }])).toBe(true);
    expect(reportsAtLeast(installed, [{ name: 'Rule Update', version: '25-053' }])).toBe(false);
    expect(reportsAtLeast(installed, [{ name: 'Engine', version: '1' }])).toBe(false);
  });
});

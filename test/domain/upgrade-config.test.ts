import { ConfigError, parseConfig } from '../../src/domain/config';
import { sitePlanFrom } from '../../src/domain/site-plan';
import { minimalSiteDoc } from '../helpers/minimal-site';

const site = minimalSiteDoc();

function problemsOf(upgrade: unknown, people: unknown = site.people): string[] {
  try {
    parseConfig({ sites: [{ ...site, people, upgrade }] }, 'plant.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected the configuration to be refused');
}

describe("a site's upgrade settings", () => {
  it('default to manual stages without approval or soak, waves of 50, one at a time, 5 % threshold', () => {
    const config = parseConfig({ sites: [site] }, 'plant.yaml');
    const upgrade = config.sites[0]!.upgrade;
    expect(upgrade.stages.U1).toEqual({ mode: 'manual', approval: false });
    expect(Object.values(upgrade.stages).map((s) => s.mode)).toEqual([
      'manual',
      'manual',
      'manual',
      'manual',
      'manual',
    ]);
    expect(upgrade).toMatchObject({
      soak: 0,
      verifyTimeout: 30 * 60_000,
      pollInterval: 15_000,
      maxPollInterval: 5 * 60_000,
      waves: { size: 50, concurrency: 1, failureThresholdPercent: 5, perRun: 20 },
    });
    expect(sitePlanFrom(config.sites[0]!, 'airgap-control').upgrade).toEqual(upgrade);
  });

  it('take durations as operators write them and per-stage modes for relays and agents', () => {
    const config = parseConfig(
      {
        sites: [
          {
            ...site,
            people: { ...site.people, approvers: ['boss@plant1.example'] },
            upgrade: {
              soak: '1h',
              stages: { U2: { mode: 'external', soak: '2d', approval: true } },
              waves: { size: 200 },
            },
          },
        ],
      },
      'plant.yaml',
    );
    const upgrade = config.sites[0]!.upgrade;
    expect(upgrade.soak).toBe(3_600_000);
    expect(upgrade.stages.U2).toEqual({ mode: 'external', approval: true, soak: 2 * 86_400_000 });
    expect(upgrade.waves.size).toBe(200);
  });

  it('refuse anything but a manual upgrade of a manager, approvals without approvers, and bad numbers', () => {
    expect(problemsOf({ stages: { U1: { mode: 'external' }, U3: { mode: 'external' } } })).toEqual([
      'sites.0.upgrade.stages.U1.mode: a manager and its database are upgraded by a person running the installer; only "manual" is possible',
      'sites.0.upgrade.stages.U3.mode: a manager and its database are upgraded by a person running the installer; only "manual" is possible',
    ]);
    expect(problemsOf({ stages: { U4: { approval: true } } })).toEqual([
      'sites.0.people.approvers: upgrade stage(s) U4 need approval but no approver is listed',
    ]);
    expect(problemsOf({ stages: { U2: { mode: 'automated' } } })).toEqual([
      expect.stringMatching(/^sites\.0\.upgrade\.stages\.U2\.mode: .*manual.*external/),
    ]);
    expect(problemsOf({ waves: { failureThresholdPercent: 150, size: 0 } })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^sites\.0\.upgrade\.waves\.failureThresholdPercent: /),
        expect.stringMatching(/^sites\.0\.upgrade\.waves\.size: /),
      ]),
    );
    expect(problemsOf({ stages: { U6: {} } })).toEqual(['sites.0.upgrade.stages: unknown field(s) U6']);
  });
});

import { ConfigError, installDirOf, parseConfig } from '../../src/domain/config';

const minimalSite = {
  id: 'plant1',
  dmz: {
    manager: { url: 'https://dsm-dmz:4119/api', apiKeyEnv: 'DMZ_KEY' },
    relay: { name: 'dmz-relay', computerId: 1 },
  },
  airgapped: {
    manager: { url: 'https://dsm-ag:4119/api', apiKeyEnv: 'AG_KEY' },
    relays: [{ name: 'ag-relay', computerId: 2, os: 'windows' }],
  },
  people: { operators: ['op@plant1.example'] },
};

function problemsOf(doc: unknown): string[] {
  try {
    parseConfig(doc, 'plant.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('plant.yaml');
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected the configuration to be refused');
}

describe('the configuration', () => {
  it('fills every default an operator may leave out', () => {
    const config = parseConfig({ sites: [minimalSite] }, 'plant.yaml');
    const site = config.sites[0]!;
    expect(config.temporal.namespace).toBe('airgap');
    expect(config.temporal.retention).toBe(30 * 86_400_000);
    expect(site.steps).toEqual({ bundle: 'automated', import: 'manual', relayCleanup: 'automated' });
    expect(site.approval.policy).toBe('none');
    expect(site.waits.deadline).toBe(3 * 86_400_000);
    expect(installDirOf(site.dmz.relay)).toBe('/opt/ds_agent');
    expect(installDirOf(site.airgapped.relays[0]!)).toBe('C:\\Program Files\\Trend Micro\\Deep Security Agent');
  });

  it('names the path and the expectation of each wrong field', () => {
    const problems = problemsOf({
      sites: [{ ...minimalSite, waits: { deadline: 'three days' }, people: { operators: ['not-an-email'] } }],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^sites\.0\.waits\.deadline: expected a duration/),
        expect.stringMatching(/^sites\.0\.people\.operators\.0: expected an email address/),
      ]),
    );
  });

  it('refuses a secret written where the name of an environment variable belongs', () => {
    const site = {
      ...minimalSite,
      dmz: { ...minimalSite.dmz, manager: { url: 'https://x:4119/api', apiKeyEnv: 'sk-1234abcd' } },
    };
    expect(problemsOf({ sites: [site] })).toEqual([
      expect.stringMatching(/^sites\.0\.dmz\.manager\.apiKeyEnv: expected the NAME of an environment variable/),
    ]);
  });

  it('refuses unknown fields, so a typo is not silently ignored', () => {
    expect(problemsOf({ sites: [{ ...minimalSite, shedule: {} }] })).toEqual([
      expect.stringMatching(/^sites\.0: unknown field\(s\) shedule/),
    ]);
  });

  it('refuses an approval policy nobody can satisfy', () => {
    const problems = problemsOf({
      sites: [
        {
          ...minimalSite,
          approval: { policy: 'n-of-m', required: 2 },
          people: { ...minimalSite.people, approvers: ['a@x.example'] },
        },
      ],
    });
    expect(problems).toEqual(['sites.0.approval.required: 2 approvals required but only 1 approver(s) listed']);
  });

  it('refuses duplicate site ids', () => {
    expect(problemsOf({ sites: [minimalSite, { ...minimalSite }] })).toContain(
      'sites.1.id: "plant1" is used by another site',
    );
  });

  it('requires at least one site', () => {
    expect(problemsOf({})).toEqual([expect.stringMatching(/^sites: required/)]);
  });

  it('refuses waits that would send so many reminders that a run history grows without bound', () => {
    expect(problemsOf({ sites: [{ ...minimalSite, waits: { reminderEvery: '1m', deadline: '30d' } }] })).toEqual([
      expect.stringMatching(
        /^sites\.0\.waits\.reminderEvery: with deadline 30d it would send 43200 reminders in one wait; at most 500/,
      ),
    ]);
  });
});

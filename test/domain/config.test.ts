import { ConfigError, cronProblem, installDirOf, isLoopbackHost, parseConfig } from '../../src/domain/config';

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

  it('refuses a schedule cron or time zone that Temporal would refuse when the schedule is created', () => {
    const problems = problemsOf({
      sites: [
        { ...minimalSite, schedule: { cron: '0 6 * * 9', timezone: 'Mars/Olympus_Mons' } },
        { ...minimalSite, id: 'plant2', schedule: { cron: '0 6 * *' } },
        {
          ...minimalSite,
          id: 'plant3',
          hardening: { driftCheck: { cron: '61 5 * * *', timezone: 'Europe/Nowhere' } },
        },
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^sites\.0\.schedule\.cron: expected a cron expression: .*day of week "9" .* 0-7/),
        expect.stringMatching(/^sites\.0\.schedule\.timezone: expected an IANA time zone/),
        expect.stringMatching(/^sites\.1\.schedule\.cron: .*has 4 field\(s\); expected 5/),
        expect.stringMatching(/^sites\.2\.hardening\.driftCheck\.cron: .*minute "61"/),
        expect.stringMatching(/^sites\.2\.hardening\.driftCheck\.timezone: expected an IANA time zone/),
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it('accepts the cron forms Temporal schedules take: ranges, steps, lists, names and @macros', () => {
    for (const ok of [
      '0 6 * * 2',
      '*/15 0-23/2 1,15 JAN-MAR mon-fri',
      '0 6 ? * 7',
      '30 5 * * SUN',
      '@daily',
      '@weekly',
    ]) {
      expect([ok, cronProblem(ok)]).toEqual([ok, undefined]);
    }
    for (const bad of [
      '60 * * * *',
      '5-1 * * * *',
      '* 24 * * *',
      '* * 0 * *',
      '* * * 13 *',
      '*/0 * * * *',
      '@sometimes',
      '0 6 * * 2 2027 x',
    ]) {
      expect([bad, cronProblem(bad)]).toEqual([bad, expect.any(String)]);
    }
  });

  it('refuses a zero duration wherever zero means nothing (deadlines, timeouts, poll intervals)', () => {
    const problems = problemsOf({
      temporal: { retention: '0s' },
      links: { ttl: '0d' },
      sites: [
        {
          ...minimalSite,
          dmz: { ...minimalSite.dmz, manager: { ...minimalSite.dmz.manager, requestTimeout: '0s' } },
          schedule: { catchupWindow: '0m' },
          waits: { deadline: '0s', reminderEvery: '0s', escalateAfter: '0s', importTimeout: '0s', pollInterval: '0ms' },
          upgrade: { verifyTimeout: '0s', pollInterval: '0s', maxPollInterval: '0s' },
          protectionAgeThreshold: '0d',
        },
      ],
    });
    const paths = problems.map((p) => p.split(':')[0]).sort();
    expect(paths).toEqual(
      [
        'links.ttl',
        'sites.0.dmz.manager.requestTimeout',
        'sites.0.protectionAgeThreshold',
        'sites.0.schedule.catchupWindow',
        'sites.0.upgrade.maxPollInterval',
        'sites.0.upgrade.pollInterval',
        'sites.0.upgrade.verifyTimeout',
        'sites.0.waits.deadline',
        'sites.0.waits.escalateAfter',
        'sites.0.waits.importTimeout',
        'sites.0.waits.pollInterval',
        'sites.0.waits.reminderEvery',
        'temporal.retention',
      ].sort(),
    );
    for (const p of problems) expect(p).toContain('expected a duration longer than 0');
    // A soak of 0 is meaningful (go straight on) and stays allowed.
    expect(
      parseConfig({ sites: [{ ...minimalSite, upgrade: { soak: '0s' } }] }, 'plant.yaml').sites[0]!.upgrade.soak,
    ).toBe(0);
  });

  it('refuses a web app reachable from other machines without a login, naming web.auth', () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'airgap.plant1.example']) {
      expect(problemsOf({ web: { host }, sites: [minimalSite] })).toEqual([
        expect.stringMatching(
          new RegExp(`^web\\.auth\\.mode: web\\.host ${host.replace(/\./g, '\\.')} is reachable from other machines`),
        ),
      ]);
    }
    const exposed = parseConfig(
      { web: { host: '0.0.0.0', auth: { mode: 'shared-secret', secretEnv: 'WEB_SECRET' } }, sites: [minimalSite] },
      'plant.yaml',
    );
    expect(exposed.web.host).toBe('0.0.0.0');
    for (const host of ['127.0.0.1', '127.0.1.1', '::1', 'localhost']) expect(isLoopbackHost(host)).toBe(true);
    expect(parseConfig({ web: { host: '::1' }, sites: [minimalSite] }, 'plant.yaml').web.auth.mode).toBe('none');
  });

  it('refuses URLs of the wrong scheme, malformed allowed hosts and paths no host can use', () => {
    const problems = problemsOf({
      web: { publicUrl: 'ftp://airgap.example', allowedHosts: ['http://airgap.example/'] },
      sites: [
        {
          ...minimalSite,
          dmz: { ...minimalSite.dmz, manager: { ...minimalSite.dmz.manager, url: 'http://dsm-dmz:4119/api' } },
          rules: { importFolder: '/srv/dsru' },
        },
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^web\.publicUrl: expected an http\(s\) URL/),
        expect.stringMatching(/^web\.allowedHosts\.0: expected a host name/),
        expect.stringMatching(/^sites\.0\.dmz\.manager\.url: expected an https URL/),
      ]),
    );
    expect(problemsOf({ sites: [{ ...minimalSite, rules: { importFolder: '/srv/dsru' } }] })).toEqual([
      expect.stringMatching(/^sites\.0\.rules\.importFolder: no host checks it/),
    ]);
  });

  it('refuses a sender that is no address, half an SMTP login and two services on one port', () => {
    expect(
      problemsOf({
        temporal: { embedded: { port: 8080 } },
        mail: { from: 'airgap orchestrator', smtp: { host: 'mail', userEnv: 'SMTP_USER' } },
        sites: [minimalSite],
      }),
    ).toEqual([expect.stringMatching(/^mail\.from: expected an address/)]);
    expect(
      problemsOf({
        temporal: { embedded: { port: 8080 } },
        mail: { smtp: { host: 'mail', userEnv: 'SMTP_USER' } },
        sites: [minimalSite],
      }),
    ).toEqual([
      'mail.smtp.passwordEnv: SMTP login needs both userEnv and passwordEnv',
      'web.port: port 8080 is also temporal.embedded.port; each needs its own port',
    ]);
  });
});

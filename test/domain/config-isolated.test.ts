import { ConfigError, parseConfig } from '../../src/domain/config';
import { minimalSiteDoc } from '../helpers/minimal-site';

const minimalSite = minimalSiteDoc();

const dmzSide = {
  side: 'dmz',
  installationId: 'dmz-plant1',
  outboundFolder: '/media/courier',
  keyFile: 'keys/dmz.key.pem',
  trust: [{ publicKeyFile: 'keys/airgapped.pub.pem' }],
};

function problemsOf(site: unknown): string[] {
  try {
    parseConfig({ sites: [site] }, 'plant.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('plant.yaml');
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected the configuration to be refused');
}

describe('the configuration of an isolated site', () => {
  it('leaves an existing site connected, with no isolated settings', () => {
    const site = parseConfig({ sites: [minimalSite] }, 'plant.yaml').sites[0]!;
    expect(site.mode).toBe('connected');
    expect(site.isolated).toBeUndefined();
  });

  it('takes the DMZ side: outbound folder, own key, trusted keys with a rotated one until its overlap ends', () => {
    const site = parseConfig(
      {
        sites: [
          {
            ...minimalSite,
            mode: 'isolated',
            isolated: {
              ...dmzSide,
              trust: [
                { publicKeyFile: 'keys/airgapped.pub.pem' },
                { publicKeyFile: 'keys/airgapped.old.pub.pem', validUntil: '2027-01-31' },
              ],
            },
          },
        ],
      },
      'plant.yaml',
    ).sites[0]!;
    expect(site.mode).toBe('isolated');
    expect(site.isolated).toEqual({
      ...dmzSide,
      trust: [
        { publicKeyFile: 'keys/airgapped.pub.pem' },
        { publicKeyFile: 'keys/airgapped.old.pub.pem', validUntil: '2027-01-31T00:00:00.000Z' },
      ],
    });
  });

  it('takes the air-gapped side with an intake folder and the key from the environment', () => {
    const isolated = {
      side: 'airgapped',
      installationId: 'ag-plant1',
      intakeFolder: '/media/courier',
      keyEnv: 'AIRGAP_SIGNING_KEY',
      trust: [{ publicKeyFile: 'keys/dmz.pub.pem' }],
    };
    const site = parseConfig({ sites: [{ ...minimalSite, mode: 'isolated', isolated }] }, 'plant.yaml').sites[0]!;
    expect(site.isolated?.side).toBe('airgapped');
  });

  it('refuses isolated mode without its settings, and isolated settings on a connected site', () => {
    expect(problemsOf({ ...minimalSite, mode: 'isolated' })).toEqual([
      'sites.0.isolated: mode isolated needs isolated.side (dmz or airgapped), installationId, the medium folder, keyFile and trust',
    ]);
    expect(problemsOf({ ...minimalSite, isolated: dmzSide })).toEqual([
      'sites.0.isolated: only for mode: isolated (this site is connected; set mode: isolated or remove it)',
    ]);
    expect(problemsOf({ ...minimalSite, mode: 'islolated' })).toEqual([
      'sites.0.mode: expected "connected" or "isolated"',
    ]);
  });

  it('names each setting a side lacks or holds from the other side', () => {
    const { outboundFolder: _drop, ...noFolder } = dmzSide;
    expect(
      problemsOf({
        ...minimalSite,
        mode: 'isolated',
        isolated: { ...noFolder, intakeFolder: '/media/x', keyEnv: 'K' },
      }),
    ).toEqual([
      'sites.0.isolated.outboundFolder: required on the dmz side (the folder where the medium is mounted)',
      'sites.0.isolated.intakeFolder: belongs to the other side; on the dmz side set outboundFolder',
      'sites.0.isolated.keyFile: set exactly one of keyFile (a private key file) or keyEnv (an environment variable holding it)',
    ]);
  });

  it('names the path and the expectation of wrong isolated fields', () => {
    const problems = problemsOf({
      ...minimalSite,
      mode: 'isolated',
      isolated: {
        ...dmzSide,
        side: 'middle',
        keyEnv: '-----BEGIN PRIVATE KEY-----',
        trust: [{ publicKeyFile: 'k.pem', validUntil: 'next tuesday' }],
      },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'sites.0.isolated.side: expected "dmz" or "airgapped"',
        expect.stringMatching(/^sites\.0\.isolated\.keyEnv: expected the NAME of an environment variable/),
        'sites.0.isolated.trust.0.validUntil: expected a date or time such as 2027-01-31 or 2027-01-31T18:00:00Z',
      ]),
    );
    expect(problemsOf({ ...minimalSite, mode: 'isolated', isolated: { ...dmzSide, trust: [] } })).toEqual([
      "sites.0.isolated.trust: expected at least one trusted public key of the other side (its …pub.pem from 'airgap keys init')",
    ]);
  });

  it('refuses a trust list in which every key expires, and a key listed twice', () => {
    expect(
      problemsOf({
        ...minimalSite,
        mode: 'isolated',
        isolated: {
          ...dmzSide,
          trust: [
            { publicKeyFile: 'a.pem', validUntil: '2027-01-01' },
            { publicKeyFile: 'a.pem', validUntil: '2027-02-01' },
          ],
        },
      }),
    ).toEqual([
      'sites.0.isolated.trust.1.publicKeyFile: a.pem is listed twice',
      'sites.0.isolated.trust: every key has a validUntil, so nothing will be trusted once they pass; the current key of the other side needs none',
    ]);
  });
});

describe('isolated.placement (how the air-gapped relays get the zip)', () => {
  const airgappedSide = {
    side: 'airgapped',
    installationId: 'ag-plant1',
    intakeFolder: '/media/courier',
    keyFile: 'keys/airgapped.key.pem',
    trust: [{ publicKeyFile: 'keys/dmz.pub.pem' }],
  };
  const parse = (isolated: Record<string, unknown>) =>
    parseConfig({ sites: [{ ...minimalSite, mode: 'isolated', isolated }] }, 'plant.yaml').sites[0]!.isolated!;

  it('is absent (copy) unless set, and takes person on the air-gapped side', () => {
    expect(parse(airgappedSide).placement).toBeUndefined();
    expect(parse({ ...airgappedSide, placement: 'person' }).placement).toBe('person');
    expect(parse({ ...airgappedSide, placement: 'copy' }).placement).toBe('copy');
  });

  it('refuses another value and a placement on the DMZ side, naming the setting', () => {
    expect(
      problemsOf({ ...minimalSite, mode: 'isolated', isolated: { ...airgappedSide, placement: 'courier' } }),
    ).toEqual([expect.stringMatching(/isolated\.placement.*expected "copy" or "person"/)]);
    expect(problemsOf({ ...minimalSite, mode: 'isolated', isolated: { ...dmzSide, placement: 'person' } })).toEqual([
      expect.stringMatching(/sites\.0\.isolated\.placement: belongs to the air-gapped side/),
    ]);
  });
});

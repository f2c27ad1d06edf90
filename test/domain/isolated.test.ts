import { parseConfig } from '../../src/domain/config';
import { cycleWorkflowTypeOf, intakeWorkflowIdOf, siteReach } from '../../src/domain/isolated';
import { allRoles } from '../../src/domain/worker-roles';
import { managersOf } from '../../src/runtime/secrets';

const site = {
  id: 'plant1',
  dmz: {
    manager: { url: 'https://dsm-dmz:4119/api', apiKeyEnv: 'DMZ_KEY', zone: 'dmz' },
    relay: { name: 'dmz-relay', computerId: 1 },
  },
  airgapped: {
    manager: { url: 'https://dsm-ag:4119/api', apiKeyEnv: 'AG_KEY', zone: 'inside', host: 'dsm-host' },
    relays: [
      { name: 'ag-relay-1', computerId: 2 },
      { name: 'ag-relay-2', computerId: 3 },
    ],
  },
  people: { operators: ['op@plant1.example'] },
};
const isolated = (side: 'dmz' | 'airgapped') => ({
  ...site,
  mode: 'isolated',
  isolated: {
    side,
    installationId: `${side}-plant1`,
    ...(side === 'dmz' ? { outboundFolder: '/media/courier' } : { intakeFolder: '/media/courier' }),
    keyFile: `keys/${side}.key.pem`,
    trust: [{ publicKeyFile: 'keys/other.pub.pem' }],
  },
});
const configOf = (s: unknown) => parseConfig({ sites: [s] }, 'plant.yaml');

describe('the sides of an isolated site', () => {
  it('starts the connected cycle on a connected site, the DMZ cycle on the DMZ side, and no scheduled cycle on the air-gapped side', () => {
    expect(cycleWorkflowTypeOf(configOf(site).sites[0]!)).toBe('cycleWorkflow');
    expect(cycleWorkflowTypeOf(configOf(isolated('dmz')).sites[0]!)).toBe('isolatedDmzCycleWorkflow');
    expect(cycleWorkflowTypeOf(configOf(isolated('airgapped')).sites[0]!)).toBeUndefined();
  });

  it("gives each side's workers only that side's hosts, zones and manager keys", () => {
    expect(allRoles(configOf(site))).toEqual({
      control: true,
      hosts: ['dmz-relay', 'ag-relay-1', 'ag-relay-2', 'dsm-host'],
      zones: ['dmz', 'inside'],
    });
    expect(allRoles(configOf(isolated('dmz')))).toEqual({ control: true, hosts: ['dmz-relay'], zones: ['dmz'] });
    expect(allRoles(configOf(isolated('airgapped')))).toEqual({
      control: true,
      hosts: ['ag-relay-1', 'ag-relay-2', 'dsm-host'],
      zones: ['inside'],
    });
    expect(siteReach(configOf(isolated('airgapped')).sites[0]!).hosts).not.toContain('dmz-relay');
    expect(managersOf(configOf(isolated('dmz'))).map((m) => m.setting)).toEqual(['sites.0.dmz.manager.apiKeyEnv']);
    expect(managersOf(configOf(isolated('airgapped'))).map((m) => m.setting)).toEqual([
      'sites.0.airgapped.manager.apiKeyEnv',
    ]);
    expect(managersOf(configOf(site))).toHaveLength(2);
  });

  it('derives the intake id from the package folder, safe for Temporal and the same for the same package', () => {
    expect(intakeWorkflowIdOf('airgap-package-cycle-plant1-2026-12-01T06-00-00Z')).toBe(
      'intake-cycle-plant1-2026-12-01T06-00-00Z',
    );
    expect(intakeWorkflowIdOf('airgap-package-a')).toBe(intakeWorkflowIdOf('airgap-package-a'));
    expect(intakeWorkflowIdOf('airgap-package-a')).not.toBe(intakeWorkflowIdOf('airgap-package-b'));
  });
});

import { courierSheet, folderOf } from '../../src/domain/courier-sheet';

const SHA = 'a'.repeat(8) + 'b'.repeat(8) + '0123456789abcdef'.repeat(3);

describe('the courier sheet model', () => {
  const sheet = courierSheet({
    workflowId: 'cycle-demo-1',
    site: 'demo',
    siteName: 'Demo plant',
    bundle: {
      fileName: 'ds-updates.zip',
      path: '/var/opt/ds_agent/relay/ds-updates.zip',
      size: 1234,
      sha256: SHA.toUpperCase(),
    },
    dmzRelay: { name: 'dmz-relay', os: 'linux' },
    relays: [
      { name: 'ag-linux', os: 'linux', targetFolder: '/opt/ds_agent/relay/', status: 'waiting' },
      {
        name: 'ag-win',
        os: 'windows',
        targetFolder: "C:\\Relay\\O'Neil",
        status: 'mismatch',
        problem: 'digest differs',
      },
    ],
    deadline: 1_000,
    operators: ['op@demo.example'],
    escalation: ['lead@demo.example'],
  });

  it('says what to carry, from which folder, in digest groups of 8', () => {
    expect(sheet.file).toBe('ds-updates.zip');
    expect(sheet.sizeBytes).toBe(1234);
    expect(sheet.sha256).toBe(SHA);
    expect(sheet.sha256Groups).toHaveLength(8);
    expect(sheet.sha256Groups.join('')).toBe(SHA);
    expect(sheet.source).toEqual({
      relay: 'dmz-relay',
      os: 'linux',
      folder: '/var/opt/ds_agent/relay',
      path: '/var/opt/ds_agent/relay/ds-updates.zip',
    });
  });

  it('gives each air-gapped relay its target path and the command for its OS, quoted for its shell', () => {
    expect(sheet.targets[0]).toMatchObject({
      relay: 'ag-linux',
      targetPath: '/opt/ds_agent/relay/ds-updates.zip',
      checkCommand: "sha256sum '/opt/ds_agent/relay/ds-updates.zip'",
      status: 'waiting',
    });
    expect(sheet.targets[1]).toMatchObject({
      relay: 'ag-win',
      targetPath: "C:\\Relay\\O'Neil\\ds-updates.zip",
      checkCommand: "Get-FileHash -Algorithm SHA256 -LiteralPath 'C:\\Relay\\O''Neil\\ds-updates.zip'",
      problem: 'digest differs',
    });
  });

  it('names the deadline, who to tell and how to report', () => {
    expect(sheet.deadline).toBe(1_000);
    expect(sheet.tell).toEqual(['op@demo.example']);
    expect(sheet.escalation).toEqual(['lead@demo.example']);
    expect(sheet.reportCommand).toBe('airgap cycle copied cycle-demo-1 --by <your name> --sha256 <the digest you saw>');
  });

  it('finds the folder of a Windows path', () => {
    expect(folderOf('C:\\ProgramData\\Relay\\b.zip', 'windows')).toBe('C:\\ProgramData\\Relay');
  });
});

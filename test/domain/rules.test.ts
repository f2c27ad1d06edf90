import { parseConfig } from '../../src/domain/config';
import { rulesPlanFrom } from '../../src/domain/setup-plans';
import {
  checkExportReport,
  classifyRuleFile,
  describePending,
  importInstructions,
  pendingRuleUpdates,
  RULE_UPDATE_COMPONENT,
  ruleUpdateFromName,
  ruleUpdateLevel,
  transferSummary,
} from '../../src/domain/rules';
import { minimalSiteDoc } from '../helpers/minimal-site';

const SHA = 'a'.repeat(64);
const levels = { current: '26-045', latest: '26-047' };

describe('which rule updates the air-gapped manager lacks', () => {
  test('is every number after its own up to the DMZ manager’s newest within a year', () => {
    expect(pendingRuleUpdates('26-045', '26-047')).toEqual({
      current: '26-045',
      latest: '26-047',
      ids: ['26-046', '26-047'],
      incomplete: false,
    });
    expect(pendingRuleUpdates('26-047', '26-047').ids).toEqual([]);
    expect(pendingRuleUpdates('26-048', '26-047').ids).toEqual([]);
  });

  test('starts at 001 of the new year across a year, and says the older year’s rest cannot be listed', () => {
    const p = pendingRuleUpdates('25-050', '26-002');
    expect(p).toMatchObject({ ids: ['26-001', '26-002'], incomplete: true });
    expect(describePending(p)).toContain('any later ones of 2025');
  });

  test('reads the level as the highest "Deep Security Rule Update" the computers report', () => {
    const level = ruleUpdateLevel([
      [
        { name: 'Virus Pattern', version: '18.611.00' },
        { name: RULE_UPDATE_COMPONENT, version: '26-045' },
      ],
      [{ name: RULE_UPDATE_COMPONENT, version: '26-046' }],
      [{ name: RULE_UPDATE_COMPONENT, version: 'not-a-rule-update' }],
    ]);
    expect(level).toBe('26-046');
    expect(ruleUpdateLevel([[{ name: 'Virus Pattern', version: '18.611.00' }]])).toBeUndefined();
  });
});

describe('a report of exported files', () => {
  test('is accepted with names and digest prefixes, sorted oldest first, the id read from the name', () => {
    const files = checkExportReport(
      [
        { fileName: 'DSRU-26-047.dsru', sha256: `SHA256:${SHA.slice(0, 12).toUpperCase()}`, size: 4096 },
        { fileName: 'rules-a.dsru', sha256: SHA, ruleUpdate: '26-046' },
      ],
      levels,
    );
    expect(files).toEqual([
      { fileName: 'rules-a.dsru', ruleUpdate: '26-046', sha256: SHA },
      { fileName: 'DSRU-26-047.dsru', ruleUpdate: '26-047', sha256: SHA.slice(0, 12), size: 4096 },
    ]);
  });

  test('refuses a rule update not newer than the manager’s: rollback protection', () => {
    expect(() => checkExportReport([{ fileName: 'DSRU-26-045.dsru', sha256: SHA }], levels)).toThrow(
      'rollback refused: DSRU-26-045.dsru is rule update 26-045, not newer than 26-045',
    );
    expect(() => checkExportReport([{ fileName: 'DSRU-25-052.dsru', sha256: SHA }], levels)).toThrow(
      'rollback refused',
    );
  });

  test('refuses what the DMZ manager cannot have exported, short digests, paths, other files and repeats', () => {
    const refuse = (files: Parameters<typeof checkExportReport>[0]) => () => checkExportReport(files, levels);
    expect(refuse([{ fileName: 'DSRU-26-048.dsru', sha256: SHA }])).toThrow('newer than 26-047');
    expect(refuse([{ fileName: 'DSRU-26-046.dsru', sha256: 'abc123' }])).toThrow('at least 12 hex digits');
    expect(refuse([{ fileName: '../DSRU-26-046.dsru', sha256: SHA }])).toThrow('not a plain file name');
    expect(refuse([{ fileName: 'DSRU-26-046.zip', sha256: SHA }])).toThrow('not a .dsru');
    expect(refuse([{ fileName: 'rules.dsru', sha256: SHA }])).toThrow('does not show which rule update');
    expect(refuse([{ fileName: 'DSRU-26-046.dsru', sha256: SHA, ruleUpdate: '26-047' }])).toThrow(
      'the name says 26-046',
    );
    expect(
      refuse([
        { fileName: 'DSRU-26-046.dsru', sha256: SHA },
        { fileName: 'copy-26-046.dsru', sha256: SHA },
      ]),
    ).toThrow('rule update 26-046 is named twice');
    expect(refuse([])).toThrow('at least one');
  });

  test('reads the id from names the vendor might use, and from none without one', () => {
    expect(ruleUpdateFromName('DSRU-26-047.dsru')).toBe('26-047');
    expect(ruleUpdateFromName('DSRU26-047.dsru')).toBe('26-047');
    expect(ruleUpdateFromName('rules_2026-0470.dsru')).toBeUndefined();
  });
});

describe('what arrived in the import folder', () => {
  const expected = { fileName: 'DSRU-26-046.dsru', ruleUpdate: '26-046', sha256: SHA.slice(0, 16), size: 100 };
  const where = { host: 'ag-manager', folder: '/var/dsru' };
  const at = (o: Partial<Parameters<typeof classifyRuleFile>[1]>) =>
    classifyRuleFile(
      expected,
      { fileName: expected.fileName, path: '/var/dsru/DSRU-26-046.dsru', exists: true, ...o },
      where,
    );

  test('is ok when the name, size and digest match what was exported', () => {
    expect(at({ isFile: true, size: 100, sha256: SHA })).toMatchObject({ status: 'ok', sha256: SHA, size: 100 });
  });

  test('says what is wrong: missing, incomplete, another size, another digest', () => {
    expect(at({ exists: false }).message).toContain('is not in /var/dsru on ag-manager');
    expect(at({ isFile: true, size: 60, sha256: SHA }).status).toBe('truncated');
    expect(at({ isFile: true, size: 120, sha256: SHA }).status).toBe('different-file');
    const other = at({ isFile: true, size: 100, sha256: 'b'.repeat(64) });
    expect(other.status).toBe('different-file');
    expect(other.message).toContain(`does not start with ${SHA.slice(0, 16)}`);
    expect(at({ isFile: false }).status).toBe('not-a-file');
  });

  test('says the import folder itself is missing, not merely that the file is not in it', () => {
    const missing = at({ exists: false, folderProblem: 'missing' });
    expect(missing.status).toBe('missing');
    expect(missing.message).toContain('the import folder /var/dsru does not exist on ag-manager');
    expect(missing.message).not.toContain('is not in');
    expect(at({ exists: false, folderProblem: 'not-a-folder' }).message).toContain('/var/dsru is not a folder');
  });
});

describe('what the approver and the importer are told', () => {
  test('the summary names each update, its file and digest, and what it replaces', () => {
    const lines = transferSummary(
      [
        { fileName: 'DSRU-26-046.dsru', ruleUpdate: '26-046', sha256: 'aa', sha256Full: SHA, sizeArrived: 4096 },
        { fileName: 'DSRU-26-047.dsru', ruleUpdate: '26-047', sha256: 'aa', sha256Full: SHA, sizeArrived: 4097 },
      ],
      '26-045',
    );
    expect(lines[0]).toBe(`Rule update 26-046: DSRU-26-046.dsru, 4,096 bytes, SHA-256 ${SHA}`);
    expect(lines.at(-1)).toContain('from rule update 26-045 to 26-047');
  });

  test('the import instructions follow the vendor page, oldest file first', () => {
    const steps = importInstructions({
      agConsole: 'https://dsm-ag:4119/',
      host: 'ag-manager',
      folder: '/var/dsru',
      files: [
        { fileName: 'DSRU-26-046.dsru', ruleUpdate: '26-046', sha256: 'aa' },
        { fileName: 'DSRU-26-047.dsru', ruleUpdate: '26-047', sha256: 'aa' },
      ],
    });
    expect(steps).toContain('Go to Administration → Updates → Security → Rules and click Import.');
    expect(steps.findIndex((s) => s.includes('/var/dsru/DSRU-26-046.dsru'))).toBeLessThan(
      steps.findIndex((s) => s.includes('/var/dsru/DSRU-26-047.dsru')),
    );
    expect(steps.join(' ')).toContain('validates it and shows a summary of the rules');
  });
});

describe('the rules configuration', () => {
  const site = minimalSiteDoc({ airgappedManager: { host: 'ag-manager' } });

  test('puts carried files on the air-gapped manager host unless told otherwise', () => {
    const config = parseConfig({ sites: [{ ...site, rules: { importFolder: '/var/dsru' } }] }, 'plant.yaml');
    expect(rulesPlanFrom(config.sites[0]!, 'airgap-control').importFolder).toEqual({
      host: 'ag-manager',
      os: 'linux',
      folder: '/var/dsru',
      taskQueue: 'airgap-host-ag-manager',
    });
    expect(rulesPlanFrom(config.sites[0]!, 'airgap-control').consoles.dmz).toBe('https://dsm-dmz:4119/');
  });

  test('has no import folder when the configuration names none, and refuses a host that is a relay', () => {
    expect(rulesPlanFrom(parseConfig({ sites: [site] }, 'plant.yaml').sites[0]!, 'q').importFolder).toBeUndefined();
    expect(() => parseConfig({ sites: [{ ...site, rules: { host: 'ag-relay' } }] }, 'plant.yaml')).toThrow(
      `sites.0.rules.host: "ag-relay" is also a relay's name`,
    );
  });
});

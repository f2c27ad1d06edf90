/**
 * The simulated medium of an isolated site: `airgap sim carry` moves a cycle's transfer package
 * from the DMZ outbound folder to the air-gapped intake folder, `carry-back` its receipt home, as
 * real folders and real `airgap` processes (the isolated path needs no Temporal).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { packageFolderOf, receiptFolderOf } from '../../src/adapters/transfer-medium';
import { carryMedium, MediumCourierError } from '../../src/sim/medium-courier';
import { runCli } from '../helpers/installation-process';
import { minimalSiteDoc } from '../helpers/minimal-site';

const CYCLE = 'cycle-plant-2026-12-01T06-00-00Z-ab12';

describe('the simulated medium courier', () => {
  let dir: string;
  let outbound: string;
  let intake: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-medium-'));
    outbound = path.join(dir, 'outbound');
    intake = path.join(dir, 'intake');
    fs.mkdirSync(outbound);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function writePackage(): string {
    const folder = packageFolderOf(outbound, CYCLE);
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'ds_update_bundle_20261201T060000Z.zip'), Buffer.alloc(5000, 7));
    fs.writeFileSync(path.join(folder, 'manifest.json'), '{"cycleId":"x"}');
    fs.writeFileSync(path.join(folder, 'manifest.json.sig'), Buffer.alloc(64, 1));
    return folder;
  }

  it('moves the package whole, under its own name, and leaves nothing behind or half-written', async () => {
    const source = writePackage();
    const carried = await carryMedium({ item: 'package', cycleId: CYCLE, from: outbound, to: intake });
    const target = packageFolderOf(intake, CYCLE);
    expect(carried.to).toBe(target);
    expect(carried.files).toEqual([
      { name: 'ds_update_bundle_20261201T060000Z.zip', size: 5000 },
      { name: 'manifest.json', size: 15 },
      { name: 'manifest.json.sig', size: 64 },
    ]);
    expect(fs.existsSync(source)).toBe(false);
    expect(fs.readdirSync(intake)).toEqual([path.basename(target)]);
    expect(fs.readFileSync(path.join(target, 'ds_update_bundle_20261201T060000Z.zip'))).toEqual(Buffer.alloc(5000, 7));
  });

  it('says what the medium holds when the package is not there, and refuses to carry over an earlier copy', async () => {
    fs.mkdirSync(packageFolderOf(outbound, 'cycle-plant-other-1'));
    await expect(carryMedium({ item: 'package', cycleId: CYCLE, from: outbound, to: intake })).rejects.toThrow(
      new MediumCourierError(
        `no transfer package of cycle ${CYCLE} in ${outbound} (expected ${path.basename(packageFolderOf(outbound, CYCLE))}; ` +
          `the DMZ installation writes it before the cycle waits for the receipt); it holds ${path.basename(packageFolderOf(outbound, 'cycle-plant-other-1'))}`,
      ),
    );
    writePackage();
    fs.mkdirSync(packageFolderOf(intake, CYCLE), { recursive: true });
    await expect(carryMedium({ item: 'package', cycleId: CYCLE, from: outbound, to: intake })).rejects.toThrow(
      /is there already: it was carried before/,
    );
    expect(fs.existsSync(packageFolderOf(outbound, CYCLE))).toBe(true);
  });

  it('airgap sim carry and carry-back move the package and the receipt of an isolated cycle, with clear errors', () => {
    const config = path.join(dir, 'airgap.yaml');
    fs.writeFileSync(
      config,
      stringify({
        dataDir: path.join(dir, 'data'),
        sites: [
          minimalSiteDoc({
            id: 'plant',
            mode: 'isolated',
            isolated: {
              side: 'dmz',
              installationId: 'plant-dmz',
              outboundFolder: 'outbound',
              keyFile: 'keys/dmz.key.pem',
              trust: [{ publicKeyFile: 'keys/airgapped.pub.pem' }],
            },
            people: { operators: ['op@plant.example'] },
          }),
        ],
      }),
    );
    const env = { ...process.env };
    delete env.AIRGAP_CONFIG;
    writePackage();

    const noIntake = runCli(config, env, 'sim', 'carry', CYCLE);
    expect([noIntake.code, noIntake.stderr]).toEqual([
      1,
      expect.stringContaining("say where the air-gapped installation's intake folder is"),
    ]);
    const carried = runCli(config, env, 'sim', 'carry', CYCLE, '--to', intake);
    expect([carried.code, carried.stderr]).toEqual([0, '']);
    expect(carried.stdout).toContain(packageFolderOf(intake, CYCLE));
    expect(fs.existsSync(packageFolderOf(outbound, CYCLE))).toBe(false);
    const twice = runCli(config, env, 'sim', 'carry', CYCLE, '--to', intake);
    expect([twice.code, twice.stderr]).toEqual([
      1,
      `airgap: the package of cycle ${CYCLE} was carried already: ${packageFolderOf(intake, CYCLE)}\n`,
    ]);

    const noReceipt = runCli(config, env, 'sim', 'carry-back', CYCLE, '--from', intake);
    expect(noReceipt.code).toBe(1);
    expect(noReceipt.stderr).toContain(`no transfer receipt of cycle ${CYCLE} in ${intake}`);
    expect(noReceipt.stderr).toContain('the air-gapped installation writes it once it has imported the package');

    fs.mkdirSync(receiptFolderOf(intake, CYCLE));
    fs.writeFileSync(path.join(receiptFolderOf(intake, CYCLE), 'receipt.json'), '{}');
    const back = runCli(config, env, '--json', 'sim', 'carry-back', CYCLE, '--from', intake);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({
      cycleId: CYCLE,
      item: 'receipt',
      to: receiptFolderOf(outbound, CYCLE),
      files: [{ name: 'receipt.json', size: 2 }],
    });

    const unknown = runCli(config, env, 'sim', 'carry-back', 'rules-plant-1', '--from', intake);
    expect([unknown.code, unknown.stderr]).toEqual([
      1,
      expect.stringContaining("is not a cycle of an isolated site's DMZ installation"),
    ]);
  });
});

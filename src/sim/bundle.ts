/**
 * What the simulated `dsa_control -b` puts in its zip: a manifest naming the component versions
 * and one payload file per component (random bytes behind a text header, so the zip has a
 * realistic size and does not compress away). The name pattern is the simulator's invention; the
 * real one is unverified.
 */
import crypto from 'node:crypto';
import { COMPONENTS, type ComponentSet } from './components';
import { buildZip, readZip, ZipFormatError } from './zip';

export const MANIFEST_NAME = 'manifest.json';

export interface BundleManifest {
  format: 'airgap-sim-update-bundle/1';
  createdAt: string;
  builtBy: string;
  components: ComponentSet;
  files: { name: string; version: string; path: string; size: number }[];
}

/** ds_update_bundle_20250311T060012Z.zip — UTC, second precision. */
export function bundleFileName(now: number, attempt = 0): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `ds_update_bundle_${stamp}${attempt > 0 ? `_${attempt + 1}` : ''}.zip`;
}

// Shares of the bundle size: the classic virus pattern is by far the largest part.
const SHARE: Record<keyof ComponentSet, number> = {
  virusPattern: 0.7,
  spywarePattern: 0.15,
  scanEngine: 0.1,
  ruleUpdate: 0.05,
};

export function buildBundleZip(input: {
  components: ComponentSet;
  builtBy: string;
  createdAt: number;
  sizeBytes: number;
}): Buffer {
  const payloads = COMPONENTS.map((c) => {
    const version = input.components[c.key];
    const header = Buffer.from(`Simulated ${c.name} ${version}\n`);
    const size = Math.max(1024, Math.round(input.sizeBytes * SHARE[c.key]));
    return { info: c, version, data: Buffer.concat([header, crypto.randomBytes(Math.max(0, size - header.length))]) };
  });
  const manifest: BundleManifest = {
    format: 'airgap-sim-update-bundle/1',
    createdAt: new Date(input.createdAt).toISOString(),
    builtBy: input.builtBy,
    components: input.components,
    files: payloads.map((p) => ({
      name: p.info.name,
      version: p.version,
      path: p.info.file(p.version),
      size: p.data.length,
    })),
  };
  return buildZip(
    [
      { name: MANIFEST_NAME, data: Buffer.from(JSON.stringify(manifest, null, 2)), method: 'deflate' },
      ...payloads.map((p) => ({ name: p.info.file(p.version), data: p.data })),
    ],
    new Date(input.createdAt),
  );
}

/** Damages bytes inside the largest payload: the zip still opens, the entry fails its CRC. */
export function corruptInPlace(zip: Buffer): void {
  const at = Math.floor(zip.length / 2);
  for (let i = at; i < Math.min(zip.length, at + 16); i++) zip[i] = zip[i]! ^ 0xff;
}

/** Unpacks and checks a bundle as the relay would; throws ZipFormatError when it is damaged. */
export function unpackBundle(zip: Buffer): BundleManifest {
  const entries = readZip(zip);
  const manifestEntry = entries.find((e) => e.name === MANIFEST_NAME);
  if (!manifestEntry) throw new ZipFormatError(`no ${MANIFEST_NAME} in the bundle`);
  const manifest = JSON.parse(manifestEntry.data.toString('utf8')) as BundleManifest;
  for (const file of manifest.files) {
    const entry = entries.find((e) => e.name === file.path);
    if (!entry || entry.data.length !== file.size)
      throw new ZipFormatError(`${file.path} missing or of the wrong size`);
  }
  return manifest;
}

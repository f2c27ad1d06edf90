/**
 * The transfer package of an isolated site: what the DMZ installation writes onto the medium for
 * one cycle, and what the air-gapped installation checks before it imports anything.
 *
 * On the medium a package is a folder `airgap-package-<cycle>/` holding the zip (unrenamed),
 * `manifest.json` (this module's canonical text) and `manifest.json.sig` (a raw 64-byte Ed25519
 * signature over manifest.json's bytes, see src/adapters/signing.ts). The manifest names the
 * zip's size and SHA-256, so one signature covers the zip too.
 *
 * Pure, no Node built-ins: workflow code may import it. Digests are computed by the caller.
 */
import { bundleFreshness } from './bundle-freshness';
import { canonicalJson } from './canonical-json';
import type { ComponentVersion } from './cycle';
import {
  CYCLE_ID,
  isIsoTime,
  KEY_ID,
  refusal,
  SHA256_HEX,
  SITE_ID,
  type Checked,
  type TransferRefusal,
} from './transfer-refusal';

/** Bumped when a field changes meaning; an intake refuses a format it does not know. */
export const MANIFEST_FORMAT = 'airgap-transfer-manifest/1';
export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_SUFFIX = '.sig';

export interface TransferManifest {
  format: typeof MANIFEST_FORMAT;
  site: string;
  cycleId: string;
  /** The cycle whose package the DMZ side sent before this one; null for the site's first. */
  previousCycleId: string | null;
  /** The zip as dsa_control made it: the name must not change on its way to the relays. */
  zip: { name: string; size: number; sha256: string };
  /** What the zip carries (patterns, engines, rule update…), as the DMZ relay reported them. */
  versions: ComponentVersion[];
  createdAt: string;
  /** The DMZ installation that wrote the package (isolated.installationId on that side). */
  installationId: string;
  /** The key that signed manifest.json: KEY_ID form, so an intake can say "unknown key" apart from "altered". */
  keyId: string;
}

/** The exact bytes that are signed and written as manifest.json. */
export function manifestText(manifest: TransferManifest): string {
  return canonicalJson(manifest);
}

/** A zip name as dsa_control writes it: one plain file name ending .zip, nothing that walks folders. */
const ZIP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.zip$/;

function problemsOfVersions(value: unknown, at: string): string | undefined {
  if (!Array.isArray(value)) return `${at}: expected a list of { name, version }`;
  for (const [i, v] of value.entries()) {
    const c = v as Record<string, unknown> | null;
    if (typeof c !== 'object' || c === null || typeof c.name !== 'string' || c.name === '') {
      return `${at}.${i}.name: expected a component name`;
    }
    if (typeof c.version !== 'string' || c.version === '') return `${at}.${i}.version: expected a version`;
    const extra = Object.keys(c).filter((k) => k !== 'name' && k !== 'version');
    if (extra.length > 0) return `${at}.${i}: unknown field(s) ${extra.join(', ')}`;
  }
  return undefined;
}

/** The first thing wrong with a document as a manifest, or undefined when it is one. */
function manifestProblem(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'expected a JSON object';
  const m = doc as Record<string, unknown>;
  if (m.format !== MANIFEST_FORMAT) {
    return `format: expected "${MANIFEST_FORMAT}", found ${JSON.stringify(m.format) ?? 'nothing'}`;
  }
  const known = new Set([
    'format',
    'site',
    'cycleId',
    'previousCycleId',
    'zip',
    'versions',
    'createdAt',
    'installationId',
    'keyId',
  ]);
  const extra = Object.keys(m).filter((k) => !known.has(k));
  if (extra.length > 0) return `unknown field(s) ${extra.join(', ')}`;
  if (typeof m.site !== 'string' || !SITE_ID.test(m.site)) return 'site: expected a site id';
  if (typeof m.cycleId !== 'string' || !CYCLE_ID.test(m.cycleId)) return 'cycleId: expected a cycle id';
  if (m.previousCycleId !== null && (typeof m.previousCycleId !== 'string' || !CYCLE_ID.test(m.previousCycleId))) {
    return 'previousCycleId: expected a cycle id or null';
  }
  const zip = m.zip as Record<string, unknown> | null;
  if (typeof zip !== 'object' || zip === null) return 'zip: expected { name, size, sha256 }';
  if (typeof zip.name !== 'string' || !ZIP_NAME.test(zip.name)) return 'zip.name: expected a plain .zip file name';
  if (typeof zip.size !== 'number' || !Number.isSafeInteger(zip.size) || zip.size < 0) {
    return 'zip.size: expected a size in bytes';
  }
  if (typeof zip.sha256 !== 'string' || !SHA256_HEX.test(zip.sha256)) {
    return 'zip.sha256: expected 64 lowercase hex digits';
  }
  if (Object.keys(zip).length !== 3) return 'zip: expected exactly name, size and sha256';
  const versions = problemsOfVersions(m.versions, 'versions');
  if (versions) return versions;
  if (!isIsoTime(m.createdAt)) return 'createdAt: expected an ISO-8601 UTC time such as 2026-12-01T06:00:00Z';
  if (typeof m.installationId !== 'string' || !SITE_ID.test(m.installationId)) {
    return 'installationId: expected an installation id';
  }
  if (typeof m.keyId !== 'string' || !KEY_ID.test(m.keyId)) return 'keyId: expected ed25519:<32 hex digits>';
  return undefined;
}

/** Reads manifest.json's text; a refusal 'malformed-manifest' names the first wrong field. */
export function parseManifest(text: string): Checked<TransferManifest> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      refusal: refusal('malformed-manifest', `manifest.json is not JSON: ${(err as Error).message}`),
    };
  }
  const problem = manifestProblem(doc);
  if (problem) return { ok: false, refusal: refusal('malformed-manifest', `manifest.json: ${problem}`) };
  return { ok: true, value: doc as TransferManifest };
}

/** One package the air-gapped side took in: its ledger entry, kept by that side. */
export interface ImportedPackage {
  cycleId: string;
  manifestSha256: string;
  zipSha256: string;
  versions: ComponentVersion[];
  importedAt: string;
}

export interface IntakeCheckInput {
  manifest: TransferManifest;
  /** SHA-256 of manifest.json's bytes. */
  manifestSha256: string;
  /** The site this installation serves. */
  siteId: string;
  /** What this side took in before, any order. */
  imported: readonly ImportedPackage[];
}

/**
 * The newest known version of each component: per component, the version of the most recently
 * imported package that carried it. Rollback protection compares against this.
 */
export function lastImportedVersions(imported: readonly ImportedPackage[]): ComponentVersion[] {
  const byTime = [...imported].sort((a, b) => Date.parse(a.importedAt) - Date.parse(b.importedAt));
  const latest = new Map<string, string>();
  for (const entry of byTime) for (const c of entry.versions) latest.set(c.name, c.version);
  return [...latest].map(([name, version]) => ({ name, version }));
}

/**
 * What the air-gapped side checks after the signature, size and digest (src/adapters/transfer-medium.ts):
 * the package is for this site, was not taken in before, and takes no component backwards.
 * Undefined when the package may be imported.
 */
export function checkIntake(input: IntakeCheckInput): TransferRefusal | undefined {
  const { manifest, imported } = input;
  if (manifest.site !== input.siteId) {
    return refusal(
      'other-site',
      `package ${manifest.cycleId} is for site "${manifest.site}", but this installation serves site "${input.siteId}"`,
    );
  }
  const same =
    imported.find((p) => p.cycleId === manifest.cycleId || p.manifestSha256 === input.manifestSha256) ??
    imported.find((p) => p.zipSha256 === manifest.zip.sha256);
  if (same) {
    const what =
      same.cycleId === manifest.cycleId ? `package ${manifest.cycleId}` : `the zip of package ${manifest.cycleId}`;
    return refusal(
      'already-imported',
      `${what} was already imported by cycle ${same.cycleId} at ${same.importedAt}; nothing is imported twice`,
    );
  }
  const freshness = bundleFreshness(manifest.versions, lastImportedVersions(imported));
  if (freshness.verdict === 'older') {
    const list = freshness.older.map((o) => `${o.name} ${o.bundle} < ${o.installed}`).join(', ');
    return refusal(
      'older-versions',
      `package ${manifest.cycleId} is older than what this side last imported (${list}); a rollback is refused`,
    );
  }
  return undefined;
}

/**
 * The package the DMZ side sent before this one, when this side never took it in (a medium lost
 * or skipped): not a reason to refuse — the newer zip carries everything — but worth telling the
 * operators. Undefined when nothing was skipped or this side has imported nothing yet.
 */
export function skippedPackage(manifest: TransferManifest, imported: readonly ImportedPackage[]): string | undefined {
  const previous = manifest.previousCycleId;
  if (previous === null || imported.length === 0) return undefined;
  return imported.some((p) => p.cycleId === previous) ? undefined : previous;
}

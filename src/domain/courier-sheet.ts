/**
 * The courier's sheet for one cycle: what to carry (file, size, SHA-256), where to take it from
 * (the folder on the DMZ relay), where to put it on each air-gapped relay, the command that shows
 * the digest there, by when, and whom to tell. One model; the web page and `airgap cycle sheet`
 * render it. Pure.
 */
import type { HostOs as OsName } from './config';

export interface CourierTarget {
  relay: string;
  os: OsName;
  targetFolder: string;
  /** The full path the file must have there. */
  targetPath: string;
  /** What to run on that relay to see the digest. */
  checkCommand: string;
  /** Where the relay stands in this cycle: waiting, copied, verified, mismatch… */
  status?: string;
  problem?: string;
}

export interface CourierSheet {
  workflowId: string;
  site: string;
  siteName?: string;
  file: string;
  sizeBytes: number;
  sha256: string;
  /** The SHA-256 in groups of 8 hex digits, for comparing by eye. */
  sha256Groups: string[];
  source: { relay: string; os: OsName; folder: string; path: string };
  targets: CourierTarget[];
  /** When the run stops waiting for the copy (ms), if known. */
  deadline?: number;
  /** Who to tell when the file is in place (the operators), and who else hears of it. */
  tell: string[];
  escalation: string[];
  /** How to report it: the CLI command (and the mail's link, which the sheet does not carry). */
  reportCommand: string;
}

export interface CourierSheetInput {
  workflowId: string;
  site: string;
  siteName?: string;
  bundle: { fileName: string; path: string; size: number; sha256: string };
  dmzRelay: { name: string; os: OsName };
  relays: Array<{ name: string; os: OsName; targetFolder: string; status?: string; problem?: string }>;
  deadline?: number;
  operators: string[];
  escalation?: string[];
}

/** The folder part of a path in the relay's own notation. */
export function folderOf(filePath: string, os: OsName): string {
  const sep = os === 'windows' ? /[\\/]/ : /\//;
  const parts = filePath.split(sep);
  parts.pop();
  const folder = parts.join(os === 'windows' ? '\\' : '/');
  return folder || (os === 'windows' ? '.' : '/');
}

export function joinPath(folder: string, file: string, os: OsName): string {
  const sep = os === 'windows' ? '\\' : '/';
  return folder.endsWith(sep) || (os === 'windows' && folder.endsWith('/'))
    ? `${folder}${file}`
    : `${folder}${sep}${file}`;
}

/** The command that prints a file's SHA-256 on that OS; the path quoted for its shell. */
export function checkCommandFor(targetPath: string, os: OsName): string {
  if (os === 'windows') return `Get-FileHash -Algorithm SHA256 -LiteralPath '${targetPath.replace(/'/g, "''")}'`;
  return `sha256sum '${targetPath.replace(/'/g, `'\\''`)}'`;
}

export function courierSheet(input: CourierSheetInput): CourierSheet {
  const { bundle } = input;
  return {
    workflowId: input.workflowId,
    site: input.site,
    ...(input.siteName ? { siteName: input.siteName } : {}),
    file: bundle.fileName,
    sizeBytes: bundle.size,
    sha256: bundle.sha256.toLowerCase(),
    sha256Groups: bundle.sha256.toLowerCase().match(/.{1,8}/g) ?? [],
    source: {
      relay: input.dmzRelay.name,
      os: input.dmzRelay.os,
      folder: folderOf(bundle.path, input.dmzRelay.os),
      path: bundle.path,
    },
    targets: input.relays.map((r) => {
      const targetPath = joinPath(r.targetFolder, bundle.fileName, r.os);
      return {
        relay: r.name,
        os: r.os,
        targetFolder: r.targetFolder,
        targetPath,
        checkCommand: checkCommandFor(targetPath, r.os),
        ...(r.status ? { status: r.status } : {}),
        ...(r.problem ? { problem: r.problem } : {}),
      };
    }),
    ...(input.deadline !== undefined ? { deadline: input.deadline } : {}),
    tell: [...input.operators],
    escalation: [...(input.escalation ?? [])],
    reportCommand: `airgap cycle copied ${input.workflowId} --by <your name> --sha256 <the digest you saw>`,
  };
}

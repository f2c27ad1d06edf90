/**
 * Finds the update zip in what `dsa_control -b` printed. The vendor documents only that the output
 * names the zip and its location; the format and the zip's naming pattern are unverified
 * (deep-security-interfaces.md). So this parser accepts either a full path to a `.zip`, or a zip
 * name plus one directory, or (when the caller knows where the agent writes) a bare name — and
 * refuses anything ambiguous with the raw output attached, so an operator sees exactly what the
 * tool said. The caller must still check that the file exists.
 */
import path from 'node:path';
import type { HostOs } from './config';

/** Thrown when the output does not name exactly one zip; `rawOutput` is the verbatim output. */
export class DsaControlOutputError extends Error {
  constructor(
    readonly reason: string,
    readonly rawOutput: string,
  ) {
    super(`cannot tell which zip dsa_control -b produced: ${reason}. Its output was:\n${rawOutput}`);
    this.name = 'DsaControlOutputError';
  }
}

export interface DsaControlBundleLocation {
  path: string;
  fileName: string;
  /** How the path was found: stated in full, assembled from a name and a location, or a name in `defaultDirectory`. */
  via: 'full-path' | 'name-and-location' | 'name-only';
}

export interface ParseDsaControlOptions {
  os: HostOs;
  /** Where to look for a zip named without a location (the agent's install dir). */
  defaultDirectory?: string;
}

// A `.zip` that ends a path or a word: followed by the end, whitespace, a quote or punctuation.
const ZIP_END = /\.zip(?=$|[\s"'`),;:\]>]|\.(?:\s|$))/i;
const BARE_ZIP = /(?:^|[\s"'`=:(<[])([^\s"'`\\/:*?<>|]+\.zip)(?=$|[\s"'`),;:\]>]|\.(?:\s|$))/gi;

export function parseDsaControlBuildOutput(raw: string, options: ParseDsaControlOptions): DsaControlBundleLocation {
  const lines = raw.split(/\r?\n/).map((l) => l.trim());
  const p = options.os === 'windows' ? path.win32 : path.posix;
  const zipPaths = new Set<string>();
  const directories = new Set<string>();
  for (const line of lines) {
    const found = firstAbsolutePath(line, options.os);
    if (found === undefined) continue;
    if (p.extname(found).toLowerCase() === '.zip') zipPaths.add(found);
    else directories.add(trimSeparators(found, options.os));
  }
  if (zipPaths.size > 1) throw new DsaControlOutputError(`it names several zips (${[...zipPaths].join(', ')})`, raw);
  const [fullPath] = zipPaths;
  if (fullPath !== undefined) return { path: fullPath, fileName: p.basename(fullPath), via: 'full-path' };

  const names = new Set<string>();
  for (const line of lines) for (const m of line.matchAll(BARE_ZIP)) names.add(m[1]!);
  if (names.size === 0) throw new DsaControlOutputError('it names no .zip file', raw);
  if (names.size > 1) throw new DsaControlOutputError(`it names several zips (${[...names].join(', ')})`, raw);
  const fileName = [...names][0]!;
  if (directories.size > 1) {
    throw new DsaControlOutputError(`it names ${fileName} and several locations (${[...directories].join(', ')})`, raw);
  }
  const [directory] = directories;
  if (directory !== undefined) return { path: p.join(directory, fileName), fileName, via: 'name-and-location' };
  if (options.defaultDirectory !== undefined) {
    return { path: p.join(options.defaultDirectory, fileName), fileName, via: 'name-only' };
  }
  throw new DsaControlOutputError(`it names ${fileName} but no location`, raw);
}

/**
 * The first absolute path in a line. It runs to the end of the line (paths may hold spaces, e.g.
 * C:\Program Files\…) unless a `.zip` ends it earlier. A slash right after another slash is a URL
 * (https://…), not a path.
 */
function firstAbsolutePath(line: string, os: HostOs): string | undefined {
  const start = os === 'windows' ? /(?:^|[\s"'`=:(<[])([A-Za-z]:[\\/]|\\\\[^\s\\]+\\)/ : /(?:^|[\s"'`=:(<[])(\/)(?!\/)/;
  const m = start.exec(line);
  if (!m) return undefined;
  let rest = line.slice(m.index + m[0].length - m[1]!.length);
  const zipEnd = ZIP_END.exec(rest);
  rest = zipEnd ? rest.slice(0, zipEnd.index + 4) : rest.replace(/["'`)\]>.,;]+$/, '').trim();
  return rest.length > 1 ? rest : undefined;
}

function trimSeparators(dir: string, os: HostOs): string {
  const trimmed = os === 'windows' ? dir.replace(/[\\/]+$/, '') : dir.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return /^[A-Za-z]:$/.test(trimmed) ? `${trimmed}\\` : trimmed;
}

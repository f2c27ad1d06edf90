/**
 * Did the person copy the zip right (C2)? The relay imports only a zip with its original name in
 * its install dir, so each way a copy goes wrong gets its own verdict and a message that tells the
 * operator what to fix. Pure: the host adapter gathers the observations, hashing only what it must.
 */

export type ArrivalStatus = 'ok' | 'missing' | 'renamed' | 'wrong-folder' | 'truncated' | 'different-file';

export interface ExpectedBundleFile {
  fileName: string;
  size: number;
  sha256: string;
}

export interface ArrivalObservations {
  hostName: string;
  installDir: string;
  /** Set when the install dir itself is missing or not a folder: then nothing can arrive in it. */
  installDirProblem?: 'missing' | 'not-a-folder';
  /** The file with the exact name in the install dir; `sha256` only when its size matched. */
  exact?: { path: string; size: number; sha256?: string };
  /** Files with the exact name outside the install dir (its parent, its subfolders). */
  misplaced: { path: string; size: number }[];
  /** Other zips in the install dir with the expected size, with their digest. */
  sameSize: { path: string; sha256: string }[];
  /** Every other zip in the install dir, to name them when nothing matches. */
  otherZips: { path: string; size: number }[];
}

export interface ArrivalReport {
  status: ArrivalStatus;
  /** For the operator: what is wrong, where it was found, what to do. */
  message: string;
  expectedPath: string;
  foundPath?: string;
}

export function classifyArrival(
  expected: ExpectedBundleFile,
  obs: ArrivalObservations,
  join: (dir: string, name: string) => string,
): ArrivalReport {
  const expectedPath = join(obs.installDir, expected.fileName);
  const on = `on ${obs.hostName}`;
  const { exact } = obs;
  if (exact) {
    if (exact.size === expected.size && exact.sha256 === expected.sha256) {
      return { status: 'ok', message: `${expected.fileName} is in place ${on} and intact.`, expectedPath };
    }
    if (exact.size < expected.size) {
      return {
        status: 'truncated',
        message:
          `${expectedPath} ${on} is incomplete: ${bytes(exact.size)} of ${bytes(expected.size)}. ` +
          'The copy was probably interrupted; copy the file again.',
        expectedPath,
        foundPath: exact.path,
      };
    }
    return {
      status: 'different-file',
      message:
        `${expectedPath} ${on} is not the bundle that was built: ` +
        (exact.size === expected.size
          ? 'same size but different content (SHA-256 differs)'
          : `${bytes(exact.size)} instead of ${bytes(expected.size)}`) +
        '. Replace it with the original file.',
      expectedPath,
      foundPath: exact.path,
    };
  }
  const [misplaced] = obs.misplaced;
  if (obs.installDirProblem) {
    // Say that the folder is wrong, not merely that the file is not in it: no copy can fix that.
    const problem = obs.installDirProblem === 'missing' ? 'does not exist' : 'is not a folder';
    return {
      status: 'missing',
      message:
        `the install dir ${obs.installDir} ${problem} ${on}, so ${expected.fileName} cannot be in it. ` +
        "Check that the agent is installed there and that the relay's installDir in the configuration is right" +
        (misplaced ? `; ${expected.fileName} was found at ${misplaced.path}.` : '.'),
      expectedPath,
      ...(misplaced ? { foundPath: misplaced.path } : {}),
    };
  }
  if (misplaced) {
    return {
      status: 'wrong-folder',
      message: `${expected.fileName} was copied to ${misplaced.path} ${on}, not into the install dir. Move it to ${expectedPath}.`,
      expectedPath,
      foundPath: misplaced.path,
    };
  }
  const renamed = obs.sameSize.find((c) => c.sha256 === expected.sha256) ?? obs.sameSize[0];
  if (renamed) {
    const same = renamed.sha256 === expected.sha256 ? 'the same content' : 'the same size (but not the same content)';
    return {
      status: 'renamed',
      message:
        `${renamed.path} ${on} has ${same} as ${expected.fileName}: the zip seems renamed. ` +
        `The relay only imports it under its original name; rename it to ${expected.fileName}.`,
      expectedPath,
      foundPath: renamed.path,
    };
  }
  const others = obs.otherZips.map((z) => `${z.path} (${bytes(z.size)})`);
  return {
    status: 'missing',
    message:
      `${expectedPath} is not there ${on}` +
      (others.length > 0 ? `; the install dir holds other zips: ${others.join(', ')}.` : '.') +
      ` Copy ${expected.fileName} into ${obs.installDir}.`,
    expectedPath,
  };
}

function bytes(n: number): string {
  return `${n.toLocaleString('en-US')} bytes`;
}

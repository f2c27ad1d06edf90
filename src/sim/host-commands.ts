/**
 * What the simulated `dsa_control` (on the DMZ relay) and `dsm_c` (on the air-gapped manager host)
 * do. The executables written into the host folders are thin clients that forward their arguments
 * to the running simulator — as the real dsa_control talks to the local agent service — and print
 * what comes back. Output formats are the simulator's own (the real ones are unverified).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildBundleZip, bundleFileName, corruptInPlace } from './bundle';
import { COMPONENTS } from './components';
import type { SimEngine } from './engine';
import { consume } from './faults';
import type { Side } from './state';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Exit codes of the simulated tools. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const DSA_USAGE = [
  'Usage: dsa_control -b',
  '  -b   build a security update bundle (.zip) from the updates this relay holds',
  '(simulated dsa_control: other options of the real tool are not implemented)',
  '',
].join('\n');

const DSM_C_USAGE = [
  'Usage: dsm_c -action changesetting -name settings.configuration.<key> -value <value>',
  '(simulated dsm_c: other actions of the real tool are not implemented)',
  '',
].join('\n');

const isAscii = (args: string[]) => args.every((a) => /^[\x20-\x7e]*$/.test(a));

export function runDsaControl(
  engine: SimEngine,
  input: { host: string; args: string[]; bundleSizeBytes: number },
): Promise<CommandResult> {
  // Two builds at once would pick the same name; the agent builds one bundle at a time.
  return engine.exclusive(() => dsaControl(engine, input));
}

async function dsaControl(
  engine: SimEngine,
  input: { host: string; args: string[]; bundleSizeBytes: number },
): Promise<CommandResult> {
  if (!isAscii(input.args)) {
    return { exitCode: EXIT.usage, stdout: '', stderr: 'dsa_control: only English (ASCII) arguments are accepted\n' };
  }
  if (input.args.length !== 1 || input.args[0] !== '-b') return { exitCode: EXIT.usage, stdout: '', stderr: DSA_USAGE };
  const found = engine.relayByName(input.host);
  if (!found || found.manager.side !== 'dmz' || !found.computer.installDir) {
    return { exitCode: EXIT.failed, stdout: '', stderr: `dsa_control: ${input.host} is not a simulated DMZ relay\n` };
  }
  const { computer: relay, manager } = found;
  if (!relay.online) {
    return {
      exitCode: EXIT.failed,
      stdout: '',
      stderr: 'dsa_control: unable to contact the Deep Security Agent service\n',
    };
  }
  const dir = relay.installDir!;
  const now = engine.now;
  let attempt = 0;
  let fileName = bundleFileName(now);
  while (fs.existsSync(path.join(dir, fileName)) || engine.state.bundles.some((b) => b.fileName === fileName)) {
    fileName = bundleFileName(now, ++attempt);
  }
  const zip = buildBundleZip({
    components: relay.components,
    builtBy: relay.hostName,
    createdAt: now,
    sizeBytes: input.bundleSizeBytes,
  });
  const corrupt = consume(engine.state.faults, 'corrupt-bundle', () => true) !== undefined;
  if (corrupt) corruptInPlace(zip);
  const target = path.join(dir, fileName);
  // Written under a temporary name first: a half-written zip never carries the real name.
  const partial = path.join(dir, `.${fileName}.partial`);
  await fs.promises.writeFile(partial, zip);
  await fs.promises.rename(partial, target);
  engine.recordBundle({
    fileName,
    path: target,
    sha256: crypto.createHash('sha256').update(zip).digest('hex'),
    size: zip.length,
    components: { ...relay.components },
    createdAt: now,
    siteId: manager.siteId,
    builtBy: relay.hostName,
    corrupt,
  });
  const versions = COMPONENTS.map((c) => `${c.name} ${relay.components[c.key]}`).join(', ');
  return {
    exitCode: EXIT.ok,
    stdout: [
      'Building the security update bundle from the updates on this relay...',
      `Included: ${versions}`,
      'The security update bundle was created.',
      `Name: ${fileName}`,
      `Location: ${dir}`,
      '',
    ].join('\n'),
    stderr: '',
  };
}

export function runDsmC(engine: SimEngine, input: { siteId: string; side: Side; args: string[] }): CommandResult {
  const fail = (message: string, exitCode: number = EXIT.failed): CommandResult => ({
    exitCode,
    stdout: '',
    stderr: `dsm_c: ${message}\n${exitCode === EXIT.usage ? DSM_C_USAGE : ''}`,
  });
  if (!isAscii(input.args)) return fail('only English (ASCII) arguments are accepted', EXIT.usage);
  const options: Record<string, string> = {};
  for (let i = 0; i < input.args.length; i += 2) {
    const flag = input.args[i]!;
    const value = input.args[i + 1];
    if (!/^-(action|name|value)$/.test(flag) || value === undefined)
      return fail(`unexpected argument ${flag}`, EXIT.usage);
    options[flag.slice(1)] = value;
  }
  if (options.action === undefined) return fail('missing -action', EXIT.usage);
  if (options.action !== 'changesetting') return fail(`unknown action ${options.action}`, EXIT.usage);
  const name = options.name;
  const value = options.value;
  if (name === undefined || value === undefined) return fail('changesetting needs -name and -value', EXIT.usage);
  const manager = engine.manager(input.siteId, input.side);
  const key = /^settings\.configuration\.(\w+)$/.exec(name)?.[1];
  if (key === undefined || !(key in manager.configuration)) return fail(`unknown setting ${name}`);
  if (!['true', 'false'].includes(value)) return fail(`invalid value ${value} for ${name}: expected true or false`);
  const before = manager.configuration[key];
  manager.configuration[key] = value;
  engine.save();
  return { exitCode: EXIT.ok, stdout: `Setting ${name} changed from ${before} to ${value}.\n`, stderr: '' };
}

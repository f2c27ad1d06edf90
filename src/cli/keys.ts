/**
 * `airgap keys …`: the Ed25519 key pair each installation of an isolated site signs with.
 * `init` makes one; `rotate` replaces it and says how long the other side keeps trusting the old
 * public key. The private key is written with mode 0600 and never printed; the public key is
 * printed (stdout) to carry over to the other side once.
 *
 * Files in the key folder: `<side>.key.pem` (private), `<side>.pub.pem` (public), and after a
 * rotation `<side>.<time>.pub.pem` (the previous public key, for the other side's trust list).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { generateSigningKeyPair, keyIdOf, privateKeyFromPem, publicKeyPemOf } from '../adapters/signing';
import { formatDuration, parseDuration } from '../domain/duration';
import { runStamp } from '../domain/run-ids';
import { CliError, type CliContext } from './context';

const SIDES = ['dmz', 'airgapped'] as const;
type Side = (typeof SIDES)[number];

export interface KeyFiles {
  privateKeyFile: string;
  publicKeyFile: string;
}

export function keyFilesOf(dir: string, side: Side): KeyFiles {
  return { privateKeyFile: path.join(dir, `${side}.key.pem`), publicKeyFile: path.join(dir, `${side}.pub.pem`) };
}

function sideOf(value: unknown): Side {
  if (!(SIDES as readonly unknown[]).includes(value)) {
    throw new CliError(`--side: expected dmz or airgapped, got ${JSON.stringify(value) ?? 'nothing'}`);
  }
  return value as Side;
}

function keyDir(ctx: CliContext, dir: string | undefined): string {
  return path.resolve(dir ?? path.join(ctx.config().config.dataDir, 'keys'));
}

/**
 * Writes a new pair. The private key is made 0600 under a temporary name and renamed into place,
 * so a rotation replaces the previous private key in one step and a crash leaves one usable key.
 * `replace`: false for init (never overwrite), true for rotate.
 */
function writePair(files: KeyFiles, replace: boolean): { publicKeyPem: string; keyId: string } {
  const pair = generateSigningKeyPair();
  fs.mkdirSync(path.dirname(files.privateKeyFile), { recursive: true, mode: 0o700 });
  if (!replace) {
    for (const file of [files.privateKeyFile, files.publicKeyFile]) {
      if (fs.existsSync(file)) throw new CliError(`${file} exists already`);
    }
  }
  const tempPrivate = `${files.privateKeyFile}.new`;
  const tempPublic = `${files.publicKeyFile}.new`;
  fs.rmSync(tempPrivate, { force: true });
  fs.rmSync(tempPublic, { force: true });
  fs.writeFileSync(tempPrivate, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  // The umask cannot widen 0600, but a file system that ignores modes at create time could.
  fs.chmodSync(tempPrivate, 0o600);
  fs.writeFileSync(tempPublic, pair.publicKeyPem, { mode: 0o644, flag: 'wx' });
  fs.renameSync(tempPrivate, files.privateKeyFile);
  fs.renameSync(tempPublic, files.publicKeyFile);
  return { publicKeyPem: pair.publicKeyPem, keyId: pair.keyId };
}

function otherSide(side: Side): Side {
  return side === 'dmz' ? 'airgapped' : 'dmz';
}

export function register(program: Command, ctx: CliContext): void {
  const keys = program
    .command('keys')
    .description("an isolated site's signing keys: init makes a pair, rotate replaces it with an overlap");

  keys
    .command('init')
    .description("make this installation's key pair and print the public key to carry to the other side once")
    .requiredOption('--side <side>', 'dmz or airgapped: which installation this is')
    .option('--dir <folder>', 'where the key files go (default: <dataDir>/keys)')
    .action((opts: { side: string; dir?: string }) => {
      const side = sideOf(opts.side);
      const files = keyFilesOf(keyDir(ctx, opts.dir), side);
      for (const file of [files.privateKeyFile, files.publicKeyFile]) {
        if (fs.existsSync(file)) {
          throw new CliError(
            `${file} exists already; keep it, or replace the pair with "airgap keys rotate --side ${side}"`,
          );
        }
      }
      const { publicKeyPem, keyId } = writePair(files, false);
      ctx.info(
        [
          `private key: ${files.privateKeyFile} (mode 0600; set sites.<n>.isolated.keyFile to it; it never leaves this machine)`,
          `public key:  ${files.publicKeyFile} (${keyId})`,
          `carry the public key below to the ${otherSide(side)} installation once and list it there under isolated.trust:`,
        ].join('\n'),
      );
      ctx.result(publicKeyPem.trimEnd(), { side, keyId, ...files, publicKeyPem });
    });

  keys
    .command('rotate')
    .description('replace the key pair; the other side keeps trusting the previous public key until the overlap ends')
    .requiredOption('--side <side>', 'dmz or airgapped: which installation this is')
    .option('--dir <folder>', 'where the key files are (default: <dataDir>/keys)')
    .option('--overlap <duration>', 'how long the previous key stays valid on the other side', '14d')
    .action((opts: { side: string; dir?: string; overlap: string }) => {
      const side = sideOf(opts.side);
      let overlap: number;
      try {
        overlap = parseDuration(opts.overlap);
      } catch (err) {
        throw new CliError(`--overlap: ${(err as Error).message}`);
      }
      const files = keyFilesOf(keyDir(ctx, opts.dir), side);
      let oldPem: string;
      try {
        oldPem = fs.readFileSync(files.privateKeyFile, 'utf8');
      } catch (err) {
        throw new CliError(
          `${files.privateKeyFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ` +
            `make the first pair with "airgap keys init --side ${side}"`,
        );
      }
      const oldKey = privateKeyFromPem(oldPem, '--dir', files.privateKeyFile);
      const now = new Date();
      const validUntil = new Date(now.getTime() + overlap).toISOString();
      const previousPublicKeyFile = path.join(path.dirname(files.publicKeyFile), `${side}.${runStamp(now)}.pub.pem`);
      fs.writeFileSync(previousPublicKeyFile, publicKeyPemOf(oldKey), { mode: 0o644, flag: 'wx' });
      // The previous private key must sign nothing more: the new one replaces it, it is not archived.
      const { publicKeyPem, keyId } = writePair(files, true);
      ctx.info(
        [
          `new key ${keyId}: ${files.privateKeyFile} (0600) and ${files.publicKeyFile}; this side signs with it from now on`,
          `previous key ${keyIdOf(oldKey)} kept as ${previousPublicKeyFile}`,
          `on the ${otherSide(side)} installation, within ${formatDuration(overlap)}:`,
          '  isolated:',
          '    trust:',
          `      - publicKeyFile: ${path.basename(files.publicKeyFile)}   # the new key printed below`,
          `      - publicKeyFile: ${path.basename(previousPublicKeyFile)}`,
          `        validUntil: ${validUntil}`,
        ].join('\n'),
      );
      ctx.result(publicKeyPem.trimEnd(), {
        side,
        keyId,
        ...files,
        publicKeyPem,
        previous: { keyId: keyIdOf(oldKey), publicKeyFile: previousPublicKeyFile, validUntil },
      });
    });
}

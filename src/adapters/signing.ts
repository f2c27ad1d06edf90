/**
 * Ed25519 keys and detached signatures of an isolated site, through node:crypto.
 *
 * A signature file (`manifest.json.sig`, `receipt.json.sig`) holds the raw 64-byte Ed25519
 * signature over the document file's bytes, nothing else, so standard tools verify it offline:
 *
 *   openssl pkeyutl -verify -pubin -inkey dmz.pub.pem -rawin -in manifest.json -sigfile manifest.json.sig
 *
 * (Ed25519 signs the message itself, not a digest: `-rawin` is needed, OpenSSL 3.0 or later.)
 * Keys are PEM files: the private key PKCS#8 (mode 0600, never printed), the public key SPKI.
 *
 * What a signature protects: integrity and origin of the manifest (and through its size and
 * SHA-256, of the zip), and of the receipt. Not confidentiality: nothing is encrypted.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as edSign,
  verify as edVerify,
  type KeyObject,
} from 'node:crypto';
import fs from 'node:fs';
import { refusal, type Checked } from '../domain/transfer-refusal';

/** Thrown when a key setting names nothing usable; the message names the setting, the file and why. */
export class KeyMaterialError extends Error {
  constructor(
    readonly setting: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${setting}: ${message}`, options);
    this.name = 'KeyMaterialError';
  }
}

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
  keyId: string;
}

export function generateSigningKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKeyPemOf(publicKey),
    keyId: keyIdOf(publicKey),
  };
}

/** The SPKI PEM of a key's public half (a private key gives its public key). */
export function publicKeyPemOf(key: KeyObject): string {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'pem' }).toString();
}

/** "ed25519:" and 32 hex digits of the SHA-256 of the public key's SPKI DER form (what the documents name). */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `ed25519:${createHash('sha256').update(der).digest('hex').slice(0, 32)}`;
}

function ed25519(key: KeyObject, setting: string, where: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyMaterialError(
      setting,
      `${where} holds a ${key.asymmetricKeyType ?? 'symmetric'} key; expected Ed25519`,
    );
  }
  return key;
}

/** Parses a private key PEM; `setting` and `where` name it in the error. */
export function privateKeyFromPem(pem: string, setting: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new KeyMaterialError(setting, `${where} holds no private key in PEM form (${(err as Error).message})`, {
      cause: err,
    });
  }
  return ed25519(key, setting, where);
}

/** Parses a public key PEM (SPKI, "-----BEGIN PUBLIC KEY-----"). */
export function publicKeyFromPem(pem: string, setting: string, where: string): KeyObject {
  if (/PRIVATE KEY/.test(pem)) {
    throw new KeyMaterialError(setting, `${where} holds a PRIVATE key; give the public key (…pub.pem) here`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new KeyMaterialError(setting, `${where} holds no public key in PEM form (${(err as Error).message})`, {
      cause: err,
    });
  }
  return ed25519(key, setting, where);
}

function readKeyFile(file: string, setting: string, missingHint: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? `does not exist; ${missingHint}`
        : code === 'EACCES'
          ? 'is not readable by this process'
          : code === 'EISDIR'
            ? 'is a folder, expected a key file'
            : (err as Error).message;
    throw new KeyMaterialError(setting, `${file} ${why}`, { cause: err });
  }
}

/** Where this installation's own private key comes from: a file, or an environment variable holding the PEM. */
export interface OwnKeySettings {
  /** The setting's path, for messages: "sites.0.isolated". */
  at: string;
  keyFile?: string;
  keyEnv?: string;
  /** The PEM text the `keyEnv` variable holds, read at start by runtime/secrets.ts (isolatedKeySecrets). */
  keyPem?: string;
}

/**
 * Reads this installation's private signing key from its file or from the value its variable
 * held at start (secrets are read in one place: runtime/secrets.ts). Throws KeyMaterialError
 * naming `<at>.keyFile` or `<at>.keyEnv`.
 */
export function loadOwnKey(settings: OwnKeySettings): KeyObject {
  if (settings.keyEnv) {
    const setting = `${settings.at}.keyEnv`;
    const pem = settings.keyPem;
    if (!pem) throw new KeyMaterialError(setting, `environment variable ${settings.keyEnv} is not set`);
    return privateKeyFromPem(pem, setting, `environment variable ${settings.keyEnv}`);
  }
  const setting = `${settings.at}.keyFile`;
  if (!settings.keyFile) throw new KeyMaterialError(setting, 'no key file is set (set keyFile or keyEnv)');
  return privateKeyFromPem(
    readKeyFile(settings.keyFile, setting, 'make one with "airgap keys init"'),
    setting,
    settings.keyFile,
  );
}

/** Below this the typed code's HMAC key could be guessed offline from one code. */
export const MIN_CONFIRMATION_KEY_LENGTH = 16;

/**
 * The shared confirmation key (isolated.confirmationKeyEnv) as bytes, or undefined when the site
 * has none; see domain/confirmation-code.ts for what it adds. Throws KeyMaterialError naming
 * `<at>.confirmationKeyEnv` when the variable is unset or too short.
 */
export function loadConfirmationKey(settings: {
  at: string;
  confirmationKeyEnv?: string;
  /** What the variable held at start (runtime/secrets.ts isolatedKeySecrets). */
  value?: string;
}): Buffer | undefined {
  const name = settings.confirmationKeyEnv;
  if (!name) return undefined;
  const setting = `${settings.at}.confirmationKeyEnv`;
  const value = settings.value;
  if (!value) throw new KeyMaterialError(setting, `environment variable ${name} is not set`);
  if (value.length < MIN_CONFIRMATION_KEY_LENGTH) {
    throw new KeyMaterialError(
      setting,
      `environment variable ${name} holds ${value.length} characters; expected at least ${MIN_CONFIRMATION_KEY_LENGTH}`,
    );
  }
  return Buffer.from(value, 'utf8');
}

/** One configured trusted peer key: the public key and, for a rotated-out key, the end of its overlap. */
export interface TrustedKeySettings {
  publicKeyFile: string;
  /** ISO time after which signatures by this key are refused; absent: no end. */
  validUntil?: string;
}

export interface TrustedKey {
  keyId: string;
  key: KeyObject;
  validUntil?: string;
  /** Where it came from, for messages. */
  source: string;
}

/** Reads one trusted peer key; `setting` names it in the error ("sites.0.isolated.trust.1.publicKeyFile"). */
export function loadTrustedKey(setting: string, t: TrustedKeySettings): TrustedKey {
  const hint = `copy the other side's public key there (printed by its "airgap keys init")`;
  const key = publicKeyFromPem(readKeyFile(t.publicKeyFile, setting, hint), setting, t.publicKeyFile);
  return { keyId: keyIdOf(key), key, validUntil: t.validUntil, source: t.publicKeyFile };
}

/** Reads the trusted peer keys; throws KeyMaterialError naming `<at>.<i>.publicKeyFile`. */
export function loadTrustedKeys(at: string, settings: readonly TrustedKeySettings[]): TrustedKey[] {
  return settings.map((t, i) => loadTrustedKey(`${at}.${i}.publicKeyFile`, t));
}

/** The raw 64-byte Ed25519 signature of `data`. */
export function signBytes(data: Buffer | string, privateKey: KeyObject): Buffer {
  return edSign(null, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, privateKey);
}

/**
 * Verifies a detached signature against the trusted key the document names (`keyId`). Refusals:
 * 'unknown-key' (no trusted key has that id), 'key-expired' (its overlap ended before `now`),
 * 'bad-signature' (the bytes are not what that key signed: altered after signing).
 */
export function verifyDetached(input: {
  data: Buffer;
  signature: Buffer;
  keyId: string;
  trusted: readonly TrustedKey[];
  now: Date;
  /** What is verified, for messages: "manifest.json of package cycle-…". */
  what: string;
}): Checked<TrustedKey> {
  const key = input.trusted.find((k) => k.keyId === input.keyId);
  if (!key) {
    const known = input.trusted.map((k) => k.keyId).join(', ') || 'none';
    return {
      ok: false,
      refusal: refusal(
        'unknown-key',
        `${input.what} is signed by key ${input.keyId}, which is not trusted here (trusted: ${known})`,
      ),
    };
  }
  if (key.validUntil !== undefined && input.now.getTime() > Date.parse(key.validUntil)) {
    return {
      ok: false,
      refusal: refusal(
        'key-expired',
        `${input.what} is signed by key ${key.keyId} (${key.source}), whose overlap ended at ${key.validUntil}`,
      ),
    };
  }
  // A signature of the wrong length is not a signature at all; verify would throw on some versions.
  const valid = input.signature.length === 64 && edVerify(null, input.data, key.key, input.signature);
  if (!valid) {
    return {
      ok: false,
      refusal: refusal(
        'bad-signature',
        `${input.what}: the signature does not verify with key ${key.keyId}; it was changed after it was signed`,
      ),
    };
  }
  return { ok: true, value: key };
}

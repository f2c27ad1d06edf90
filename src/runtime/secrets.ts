/**
 * The secrets, read once at start: every process resolves the ones its parts use from the
 * environment variables the configuration names, and hands the values to the adapters (link
 * signing, mail, the managers' API, the web app's login). Nothing else reads a secret from the
 * environment, so a missing one stops the start with an error naming the setting, before
 * anything runs. The values never reach a log: the resolved object prints as names only.
 */
import { inspect } from 'node:util';
import { MailConfigError } from '../adapters/mail-errors';
import type { AppConfig, ManagerConfig } from '../domain/config';
import { sideOf } from '../domain/isolated';
import { LinkKeyError, MIN_LINK_KEY_BYTES, type LinkKeys } from '../domain/link-token';
import { MIN_SHARED_SECRET_LENGTH, WebAuthConfigError } from '../web/auth-errors';

export type SecretEnv = Readonly<Record<string, string | undefined>>;

/** The SMTP login of `mail.smtp.userEnv` / `passwordEnv`. */
export interface SmtpAuth {
  user: string;
  pass: string;
}

export interface Secrets {
  /** `links.keyEnv` (and `links.previousKeyEnv`): signs and checks mail links. */
  linkKeys?: LinkKeys;
  /** `web.auth.secretEnv`, when `web.auth.mode` is shared-secret. */
  webSecret?: string;
  /** `mail.smtp.userEnv` / `passwordEnv`, when both are set. */
  smtpAuth?: SmtpAuth;
  /** Each manager's API key by its `apiKeyEnv` variable name. */
  managerKeys: Readonly<Record<string, string>>;
}

/** Which secrets a process needs; resolveSecrets without it resolves every one the configuration uses. */
export interface SecretsWanted {
  links?: boolean;
  webAuth?: boolean;
  mail?: boolean;
  /** The managers whose API this process calls (or, for the simulator, serves). */
  managers?: readonly ManagerConfig[];
}

/** Thrown at start when a manager's API key variable is unset; names the setting and the variable, never a value. */
export class ManagerKeyError extends Error {
  constructor(
    readonly setting: string,
    readonly variable: string,
  ) {
    super(`${setting} names ${variable}, but ${variable} is unset: set it to the manager's API key`);
    this.name = 'ManagerKeyError';
  }
}

/**
 * The link keys from the variables `links` names. The variable's text is the key (UTF-8), at
 * least 32 characters, e.g. `openssl rand -base64 48`.
 */
export function linkKeysFromEnv(env: SecretEnv, names: { keyEnv: string; previousKeyEnv: string }): LinkKeys {
  const read = (name: string, required: boolean): Uint8Array | undefined => {
    const text = env[name];
    if (text === undefined || text === '') {
      if (required) throw new LinkKeyError(`${name} is unset: set it to a random secret of at least 32 characters`);
      return undefined;
    }
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length < MIN_LINK_KEY_BYTES) {
      throw new LinkKeyError(`${name} is ${bytes.length} bytes long; a link key needs at least ${MIN_LINK_KEY_BYTES}`);
    }
    return bytes;
  };
  return { current: read(names.keyEnv, true)!, previous: read(names.previousKeyEnv, false) };
}

/** The SMTP login `mail.smtp` names, or undefined when it names none (or there is no `mail.smtp`). */
export function smtpAuthFromEnv(smtp: AppConfig['mail']['smtp'], env: SecretEnv): SmtpAuth | undefined {
  if (!smtp) return undefined;
  if ((smtp.userEnv === undefined) !== (smtp.passwordEnv === undefined)) {
    throw new MailConfigError('mail.smtp.userEnv and mail.smtp.passwordEnv go together: set both or neither');
  }
  if (!smtp.userEnv || !smtp.passwordEnv) return undefined;
  const read = (name: string, setting: string): string => {
    const value = env[name];
    if (value === undefined || value === '') {
      throw new MailConfigError(`mail.smtp.${setting} names ${name}, but ${name} is unset in the environment`);
    }
    return value;
  };
  return { user: read(smtp.userEnv, 'userEnv'), pass: read(smtp.passwordEnv, 'passwordEnv') };
}

/** The shared secret of `web.auth` (undefined with mode none), at least MIN_SHARED_SECRET_LENGTH characters. */
export function webSecretFromEnv(auth: AppConfig['web']['auth'], env: SecretEnv): string | undefined {
  if (auth.mode === 'none') return undefined;
  const secret = env[auth.secretEnv];
  if (!secret) throw new WebAuthConfigError(`web.auth.secretEnv names ${auth.secretEnv}, but it is unset`);
  if (secret.length < MIN_SHARED_SECRET_LENGTH) {
    throw new WebAuthConfigError(
      `${auth.secretEnv} is ${secret.length} characters long; the shared secret needs at least ${MIN_SHARED_SECRET_LENGTH}`,
    );
  }
  return secret;
}

/** Every manager of the configuration with the setting that names its key, e.g. sites.0.dmz.manager.apiKeyEnv. */
export function managersOf(config: Pick<AppConfig, 'sites'>): { manager: ManagerConfig; setting: string }[] {
  // An isolated site's installation calls only its own side's manager: the other one's key is not its to hold.
  return config.sites.flatMap((site, i) => [
    ...(sideOf(site) === 'airgapped'
      ? []
      : [{ manager: site.dmz.manager, setting: `sites.${i}.dmz.manager.apiKeyEnv` }]),
    ...(sideOf(site) === 'dmz'
      ? []
      : [{ manager: site.airgapped.manager, setting: `sites.${i}.airgapped.manager.apiKeyEnv` }]),
  ]);
}

/** Everything the configuration uses: what the embedded default (every part in one process) needs. */
export function everySecret(config: Pick<AppConfig, 'sites'>): SecretsWanted {
  return { links: true, webAuth: true, mail: true, managers: managersOf(config).map((m) => m.manager) };
}

/**
 * Reads the secrets `wanted` from `env`, once, and checks them. Throws LinkKeyError,
 * WebAuthConfigError, MailConfigError or ManagerKeyError naming the setting of the first one
 * missing or unusable.
 */
export function resolveSecrets(
  config: AppConfig,
  env: SecretEnv,
  wanted: SecretsWanted = everySecret(config),
): Secrets {
  const managerKeys: Record<string, string> = {};
  const settings = new Map(managersOf(config).map((m) => [m.manager, m.setting]));
  for (const manager of wanted.managers ?? []) {
    const key = env[manager.apiKeyEnv];
    if (!key) throw new ManagerKeyError(settings.get(manager) ?? 'a manager apiKeyEnv', manager.apiKeyEnv);
    managerKeys[manager.apiKeyEnv] = key;
  }
  const secrets: Secrets = { managerKeys };
  if (wanted.links) secrets.linkKeys = linkKeysFromEnv(env, config.links);
  if (wanted.webAuth) {
    const webSecret = webSecretFromEnv(config.web.auth, env);
    if (webSecret !== undefined) secrets.webSecret = webSecret;
  }
  if (wanted.mail) {
    const smtpAuth = smtpAuthFromEnv(config.mail.smtp, env);
    if (smtpAuth) secrets.smtpAuth = smtpAuth;
  }
  return redacted(secrets);
}

/** The secrets as names only, for anything that prints or serialises the object by mistake. */
function redacted(secrets: Secrets): Secrets {
  const names = (): Record<string, unknown> => ({
    linkKeys: secrets.linkKeys ? '[redacted]' : undefined,
    webSecret: secrets.webSecret === undefined ? undefined : '[redacted]',
    smtpAuth: secrets.smtpAuth ? '[redacted]' : undefined,
    managerKeys: Object.keys(secrets.managerKeys),
  });
  Object.defineProperty(secrets, 'toJSON', { value: names, enumerable: false });
  Object.defineProperty(secrets, inspect.custom, { value: () => `Secrets ${inspect(names())}`, enumerable: false });
  return secrets;
}

/** The key of one manager from resolved secrets; undefined when it was not resolved (the API call then says so). */
export function managerKeyOf(secrets: Pick<Secrets, 'managerKeys'>, manager: ManagerConfig): string | undefined {
  return secrets.managerKeys[manager.apiKeyEnv];
}

/** The link keys of resolved secrets; a LinkKeyError when the caller resolved secrets without them. */
export function requiredLinkKeys(secrets: Pick<Secrets, 'linkKeys'>): LinkKeys {
  if (!secrets.linkKeys) throw new LinkKeyError('the link keys (links.keyEnv) were not resolved at start');
  return secrets.linkKeys;
}

/**
 * An isolated site's own key and confirmation key when its config names environment variables
 * for them (`isolated.keyEnv`, `isolated.confirmationKeyEnv`): read here like every other secret,
 * handed to adapters/signing.ts as values.
 */
export function isolatedKeySecrets(
  isolated: { keyEnv?: string | undefined; confirmationKeyEnv?: string | undefined },
  env: SecretEnv,
): { keyPem?: string; confirmationKey?: string } {
  const keyPem = isolated.keyEnv ? env[isolated.keyEnv] : undefined;
  const confirmationKey = isolated.confirmationKeyEnv ? env[isolated.confirmationKeyEnv] : undefined;
  return { ...(keyPem ? { keyPem } : {}), ...(confirmationKey ? { confirmationKey } : {}) };
}

/**
 * Secrets are read once, at start, from the variables the configuration names, and handed to the
 * adapters as values: a missing one stops the start naming its setting, and none reaches a log.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import type { AppConfig } from '../../src/domain/config';
import { AuditStoreSettingError } from '../../src/adapters/audit-setting-error';
import { ManagerKeyError, resolveSecrets } from '../../src/runtime/secrets';
import { secretsWantedBy } from '../../src/worker';
import { makeConfig } from '../sim/fixture';

const LINK_KEY = 'link-key-'.padEnd(40, 'k');
const WEB_SECRET = 'web-secret-0123456789';
const SMTP_PASS = 'smtp-password-abcdef';

let dir: string;
let config: AppConfig;
let env: Record<string, string>;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-secrets-'));
  const made = await makeConfig(dir, 1);
  config = {
    ...made.config,
    web: { ...made.config.web, auth: { mode: 'shared-secret', secretEnv: 'T_WEB_SECRET' } },
    mail: {
      ...made.config.mail,
      smtp: { host: '127.0.0.1', port: 2525, secure: false, userEnv: 'T_SMTP_USER', passwordEnv: 'T_SMTP_PASS' },
    },
  } as AppConfig;
  env = {
    ...(made.env as Record<string, string>),
    [config.links.keyEnv]: LINK_KEY,
    T_WEB_SECRET: WEB_SECRET,
    T_SMTP_USER: 'mailer',
    T_SMTP_PASS: SMTP_PASS,
  };
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('resolveSecrets', () => {
  it('reads every secret the configuration names, as values', () => {
    const secrets = resolveSecrets(config, env);
    expect(Buffer.from(secrets.linkKeys!.current).toString()).toBe(LINK_KEY);
    expect(secrets.webSecret).toBe(WEB_SECRET);
    expect(secrets.smtpAuth).toEqual({ user: 'mailer', pass: SMTP_PASS });
    expect(secrets.managerKeys).toEqual({
      TEST_DMZ_API_KEY: env.TEST_DMZ_API_KEY,
      TEST_AIRGAP_API_KEY: env.TEST_AIRGAP_API_KEY,
    });
  });

  it('stops the start naming the setting and the variable of an unset manager key', () => {
    const { TEST_AIRGAP_API_KEY: _unset, ...without } = env;
    const resolving = () => resolveSecrets(config, without);
    expect(resolving).toThrow(ManagerKeyError);
    expect(resolving).toThrow(
      "sites.0.airgapped.manager.apiKeyEnv names TEST_AIRGAP_API_KEY, but TEST_AIRGAP_API_KEY is unset: set it to the manager's API key",
    );
  });

  it('keeps the existing messages for the link key, the login secret and the SMTP login', () => {
    expect(() => resolveSecrets(config, { ...env, [config.links.keyEnv]: '' })).toThrow(
      `${config.links.keyEnv} is unset: set it to a random secret of at least 32 characters`,
    );
    expect(() => resolveSecrets(config, { ...env, T_WEB_SECRET: '' })).toThrow(
      'web.auth.secretEnv names T_WEB_SECRET, but it is unset',
    );
    expect(() => resolveSecrets(config, { ...env, T_SMTP_PASS: '' })).toThrow(
      'mail.smtp.passwordEnv names T_SMTP_PASS, but T_SMTP_PASS is unset in the environment',
    );
  });

  it('reads the audit database URL only for a PostgreSQL audit, naming the variable when it is unset', () => {
    const url = 'postgres://airgap_audit:audit-pw-123@127.0.0.1:5432/airgap_audit';
    const pg = {
      ...config,
      audit: { ...config.audit, store: 'postgres', postgres: { ...config.audit.postgres, urlEnv: 'T_AUDIT_URL' } },
    } as AppConfig;
    expect(resolveSecrets(pg, { ...env, T_AUDIT_URL: url }).auditUrl).toBe(url);
    expect(resolveSecrets(config, { ...env, T_AUDIT_URL: url }).auditUrl).toBeUndefined();
    const unset = () => resolveSecrets(pg, env);
    expect(unset).toThrow(AuditStoreSettingError);
    expect(unset).toThrow('the environment variable T_AUDIT_URL (audit.postgres.urlEnv) is not set');
    const printed = inspect(resolveSecrets(pg, { ...env, T_AUDIT_URL: url }));
    expect(printed).not.toContain('audit-pw-123');
    expect(printed).toContain('auditUrl');
  });

  it('reads only what it is asked for: a host worker needs no secret at all', () => {
    const hostOnly = secretsWantedBy(config, { control: false, hosts: ['plant-dmz-relay'], zones: [] });
    expect(resolveSecrets(config, {}, hostOnly)).toEqual({ managerKeys: {} });
  });

  it('prints and serialises as names only, never the values', () => {
    const secrets = resolveSecrets(config, env);
    for (const text of [inspect(secrets, { depth: 10 }), JSON.stringify(secrets), `${JSON.stringify({ secrets })}`]) {
      for (const value of [LINK_KEY, WEB_SECRET, SMTP_PASS, env.TEST_DMZ_API_KEY!, env.TEST_AIRGAP_API_KEY!]) {
        expect(text).not.toContain(value);
      }
      expect(text).toContain('TEST_AIRGAP_API_KEY');
    }
  });
});

describe('secretsWantedBy', () => {
  it('gives the control role the link keys, mail and the managers without a zone, and a zone its own managers', () => {
    const site = config.sites[0]!;
    const zoned = {
      ...config,
      sites: [{ ...site, dmz: { ...site.dmz, manager: { ...site.dmz.manager, zone: 'dmz' } } }],
    } as AppConfig;
    const control = secretsWantedBy(zoned, { control: true, hosts: [], zones: [] });
    expect(control).toMatchObject({ links: true, mail: true });
    expect(control.managers!.map((m) => m.apiKeyEnv)).toEqual(['TEST_AIRGAP_API_KEY']);
    const zone = secretsWantedBy(zoned, { control: false, hosts: [], zones: ['dmz'] });
    expect(zone).toMatchObject({ links: false, mail: false });
    expect(zone.managers!.map((m) => m.apiKeyEnv)).toEqual(['TEST_DMZ_API_KEY']);
  });
});

describe('who reads secrets', () => {
  it('only runtime/secrets.ts reads a secret variable the configuration names', () => {
    const src = path.resolve(__dirname, '..', '..', 'src');
    const readers: string[] = [];
    const walk = (folder: string): void => {
      for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (
          /\[[\w.]*\.(apiKeyEnv|secretEnv|keyEnv|previousKeyEnv|userEnv|passwordEnv|urlEnv)\]/.test(
            fs.readFileSync(full, 'utf8'),
          )
        )
          readers.push(path.relative(src, full));
      }
    };
    walk(src);
    expect(readers).toEqual([path.join('runtime', 'secrets.ts')]);
  });
});

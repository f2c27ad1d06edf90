/**
 * The operator's configuration: one YAML file describing the orchestrator itself and every
 * air-gapped site. This module is pure: it validates an already-parsed document and returns a
 * fully defaulted `AppConfig`; reading the file lives in src/runtime/load-config.ts.
 *
 * Secrets never appear here: the file names environment variables (`apiKeyEnv`, `passwordEnv`…)
 * and the values are read where the transport is built.
 */
import { z } from 'zod';
import { formatDuration, parseDuration } from './duration';
import { UPGRADE_STAGES, type StageId } from './upgrade-stages';
import { DEFAULT_APPROVAL_PROOFS, PROOF_KINDS } from './proof';

/** Operator actions that are not approvals and may be proven by `os-user` where the site allows. */
export const OS_USER_ACTIONS = ['copied', 'done', 'confirm'] as const;
export type OsUserAction = (typeof OS_USER_ACTIONS)[number];

/** See checkConsistency: bounds the history of the longest wait for a person. */
export const MAX_REMINDERS_PER_WAIT = 500;

/** Thrown when a configuration document is invalid; lists every problem as file → path → expectation. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const duration = z
  .string()
  .refine(
    (t) => {
      try {
        parseDuration(t);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'expected a duration such as 90s, 15m, 4h, 3d, 1w or 1d12h' },
  )
  .transform((t) => parseDuration(t));

/** A duration where zero means nothing sensible (a timeout, a poll interval, a deadline). */
const positiveDuration = duration.refine((ms) => ms > 0, { message: 'expected a duration longer than 0' });

const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
] as const;

const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/**
 * Why a cron expression cannot run, or undefined when it can. Checks what Temporal's schedule
 * parser checks (five fields, each value within its range), so a wrong expression is refused at
 * load instead of when the schedule is created.
 */
export function cronProblem(expression: string): string | undefined {
  const text = expression.trim();
  if (text.startsWith('@')) {
    return CRON_MACROS.includes(text.toLowerCase()) ? undefined : `"${text}" is not one of ${CRON_MACROS.join(', ')}`;
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5) {
    return `"${text}" has ${fields.length} field(s); expected 5: minute hour day-of-month month day-of-week, e.g. "0 6 * * 2"`;
  }
  for (const [i, field] of fields.entries()) {
    const spec = CRON_FIELDS[i]!;
    const names: readonly string[] = 'names' in spec ? spec.names : [];
    const value = (v: string): number | undefined => {
      const named = names.indexOf(v.toUpperCase());
      if (named >= 0) return named + (spec.min === 0 ? 0 : 1);
      return /^\d+$/.test(v) ? Number(v) : undefined;
    };
    for (const part of field.split(',')) {
      const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
      const step = m?.[2] === undefined ? 1 : Number(m[2]);
      let ok = m !== null && step > 0;
      if (ok && m![1] !== '*' && !(m![1] === '?' && (i === 2 || i === 4))) {
        const bounds = m![1]!.split('-');
        const values = bounds.map(value);
        ok =
          bounds.length <= 2 &&
          values.every((v) => v !== undefined && v >= spec.min && v <= spec.max) &&
          (values.length === 1 || values[0]! <= values[1]!);
      }
      if (!ok) {
        return `"${text}": ${spec.name} "${part}" is not a value, range or step within ${spec.min}-${spec.max}`;
      }
    }
  }
  return undefined;
}

const cron = z
  .string()
  .min(1)
  .superRefine((text, ctx) => {
    const problem = cronProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: `expected a cron expression: ${problem}` });
  });

/** Whether the runtime knows the IANA time zone (Temporal's schedules need one it knows too). */
export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const timeZone = z
  .string()
  .min(1)
  .refine(isKnownTimeZone, { message: 'expected an IANA time zone such as UTC, Europe/Berlin or America/New_York' });

/** Host names and addresses the web app answers to (web.host, web.allowedHosts). */
const hostName = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:]*:[0-9a-fA-F:.]+|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/, {
    message: 'expected a host name or an IP address, without scheme, port or path',
  });

const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the NAME of an environment variable (A-Z, 0-9, _), not a secret value');

/** An IPv4 address, or an IPv6 one (hex groups and colons, maybe an IPv4 tail). */
const IP_ADDRESS =
  /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/;
const email = z.string().regex(/^[^\s@]+@[^\s@]+$/, 'expected an email address');
const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected an id of lowercase letters, digits and dashes');
const port = z.number().int().min(1).max(65535);

/** 127.0.0.0/8, ::1 and localhost: only this machine can reach a web app bound there. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

export const OS_VALUES = ['linux', 'windows'] as const;
export type HostOs = (typeof OS_VALUES)[number];

/** Vendor defaults for the agent/relay install directory (airgap-procedure.md, C2). */
export const DEFAULT_INSTALL_DIR: Record<HostOs, string> = {
  linux: '/opt/ds_agent',
  windows: 'C:\\Program Files\\Trend Micro\\Deep Security Agent',
};

/**
 * How a step is carried out. `automated` goes through an adapter; `manual` sends instructions
 * and waits for a person to confirm. Steps whose vendor behaviour is unverified default to manual
 * (deep-security-interfaces.md).
 */
const mode = z.enum(['automated', 'manual']);

const managerSchema = z.strictObject({
  /** Base of the REST API, e.g. https://dsm.dmz.example:4119/api */
  url: z.url({ protocol: /^https$/, message: 'expected an https URL such as https://dsm.example:4119/api' }),
  apiKeyEnv: envName,
  /** PEM file of the CA that signed the manager's certificate; relative to the config file. */
  caFile: z.string().min(1).optional(),
  /** Host worker that can run dsm_c on the manager host (only needed for H7/H8 automation). */
  host: id.optional(),
  /** Where dsm_c lives on the manager host. */
  dsmCPath: z.string().min(1).optional(),
  requestTimeout: positiveDuration.default(30_000),
  /**
   * The network zone whose worker calls this manager's API (`airgap worker --zone <zone>` polls
   * `airgap-zone-<zone>`). Omitted: the control worker calls it.
   */
  zone: id.optional(),
});

const hostSchema = z.strictObject({
  /** Stable name of the host; its worker polls the task queue `airgap-host-<name>`. */
  name: id,
  os: z.enum(OS_VALUES).default('linux'),
  installDir: z.string().min(1).optional(),
});

const relaySchema = hostSchema.extend({
  /** The relay's computer id on its manager (GET /api/computers/{id}). */
  computerId: z.number().int().positive(),
});

const steps = z
  .strictObject({
    /** C1 dsa_control -b on the DMZ relay. */
    bundle: mode.default('automated'),
    /** C3: that the scheduled task equals right-click → "Download Security Updates" is unverified. */
    import: mode.default('manual'),
    /** C4: deleting the zip on each air-gapped relay. */
    relayCleanup: mode.default('automated'),
  })
  .prefault({});

/**
 * R1–R3: where carried .dsru rule updates are put and checked before a person imports them in the
 * air-gapped manager's console (there is no REST endpoint for the import).
 */
const rulesSchema = z
  .strictObject({
    /** The host whose worker checks the carried files; default: airgapped.manager.host. */
    host: id.optional(),
    os: z.enum(OS_VALUES).default('linux'),
    /** The folder on that host where the person puts the .dsru files; relative to the config file. */
    importFolder: z.string().min(1).optional(),
  })
  .prefault({});

/**
 * S1 and H1–H8 on the air-gapped manager. Items whose API value is unverified (S1's "Other update
 * source", H1's Smart Scan "Off") are manual unless the operator gives the value their manager uses.
 */
const hardeningSchema = z
  .strictObject({
    /** S1: the security-update port of https://localhost:<port>. */
    updateSourcePort: port.default(4122),
    /** The value of platformSettingUpdateSecurityPrimarySourceMode meaning "Other update source". */
    otherUpdateSourceMode: z.string().min(1).optional(),
    /** The value of antiMalwareSettingSmartScanState meaning Smart Scan "Off". */
    smartScanOffValue: z.string().min(1).optional(),
    /** The policy of the air-gapped computers; default: the policy of the first air-gapped relay. */
    policyId: z.number().int().positive().optional(),
    items: z
      .strictObject({
        S1: mode.default('manual'),
        H1: mode.default('manual'),
        H2: mode.default('automated'),
        H3: mode.default('automated'),
        H4: mode.default('automated'),
        H5: mode.default('automated'),
        H6: mode.default('automated'),
        /** dsm_c on the manager host; manual when airgapped.manager.host or dsmCPath is missing. */
        H7: mode.default('automated'),
        H8: mode.default('automated'),
      })
      .prefault({}),
    /** A scheduled check that tells the operators when a setting has drifted back. */
    driftCheck: z
      .strictObject({
        enabled: z.boolean().default(true),
        cron: cron.default('30 5 * * *'),
        /** Default: the site's schedule time zone. */
        timezone: timeZone.optional(),
        paused: z.boolean().default(false),
      })
      .prefault({}),
  })
  .prefault({});

/**
 * How the stages of an upgrade rollout (U1–U5) are carried out. `manual`: instructions by mail,
 * a person upgrades and confirms, then the versions are verified through the manager API.
 * `external`: something outside this orchestrator upgrades the hosts (a console "Upgrade Agent
 * Software" task, the site's software distribution) and the stage only watches the versions.
 * There is no `automated` mode: no verified API upgrades relay or agent software
 * (deep-security-interfaces.md), and manager and database upgrades are installers a person runs.
 */
const upgradeStageMode = z.enum(['manual', 'external']);
const upgradeStage = z
  .strictObject({
    mode: upgradeStageMode.default('manual'),
    /** Ask the site's approvers before the stage's upgrade begins. */
    approval: z.boolean().default(false),
    /** Wait this long after the stage is verified before the next one starts (default: upgrade.soak). */
    soak: duration.optional(),
  })
  .prefault({});

const upgradeSchema = z
  .strictObject({
    stages: z
      .strictObject(
        Object.fromEntries(UPGRADE_STAGES.map((id) => [id, upgradeStage])) as Record<StageId, typeof upgradeStage>,
      )
      .prefault({}),
    /** Default soak after each verified stage. */
    soak: duration.default(0),
    /** How long a stage's hosts may take to report the target version once upgraded. */
    verifyTimeout: positiveDuration.default(30 * 60_000),
    /** First pause between version polls; it grows by half each poll up to maxPollInterval. */
    pollInterval: positiveDuration.default(15_000),
    maxPollInterval: positiveDuration.default(5 * 60_000),
    /** U5: agents are upgraded in waves. */
    waves: z
      .strictObject({
        size: z.number().int().min(1).max(5000).default(50),
        /** Waves being verified at once (manual waves are still confirmed one at a time). */
        concurrency: z.number().int().min(1).max(50).default(1),
        /** A wave fails, and the rollout halts, when more than this % of its agents fail. */
        failureThresholdPercent: z.number().min(0).max(100).default(5),
        /** Waves per workflow run before it continues as new (bounds the history). */
        perRun: z.number().int().min(1).max(500).default(20),
      })
      .prefault({}),
  })
  .prefault({});

/** An ISO-8601 time or date ("2027-01-31", "2027-01-31T18:00:00Z"), kept as a UTC ISO string. */
const isoTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/, {
    message: 'expected a date or time such as 2027-01-31 or 2027-01-31T18:00:00Z',
  })
  .refine((t) => !Number.isNaN(Date.parse(t)), { message: 'expected a date that exists' })
  .transform((t) => new Date(t).toISOString());

/**
 * An isolated site (`mode: isolated`): this installation is one of two, joined only by the
 * removable medium. The DMZ side writes transfer packages into `outboundFolder` and reads the
 * receipts that come back there; the air-gapped side takes packages in from `intakeFolder` and
 * writes its receipts there. Each side signs with its own private key (`keyFile`, or `keyEnv`
 * naming an environment variable that holds the PEM) and trusts the other side's public keys
 * listed in `trust`; a rotated-out key stays trusted until its `validUntil`.
 */
const isolatedSchema = z.strictObject({
  side: z.enum(['dmz', 'airgapped'], { message: 'expected "dmz" or "airgapped"' }),
  /** This installation's id, written into every package or receipt it signs. */
  installationId: id,
  /**
   * DMZ side: where packages are written (the mounted medium), as the DMZ relay's machine mounts
   * it: the relay's host worker copies the zip and writes the signed package there. Receipts are
   * read back from here.
   */
  outboundFolder: z.string().min(1).optional(),
  /** Air-gapped side: where the medium is mounted; packages are read and receipts written here. */
  intakeFolder: z.string().min(1).optional(),
  /**
   * Air-gapped side: how a verified zip reaches the relays. `copy` (the default): each relay's
   * host worker copies it from the control worker's staged copy, so the relays must read the
   * control machine's data folder (same machine or shared disk). `person`: a guided manual step;
   * a person copies the zip from the medium into each relay's install folder and confirms, and
   * the relay's host worker checks name, size and SHA-256 before anything is imported.
   */
  placement: z.enum(['copy', 'person'], { message: 'expected "copy" or "person"' }).optional(),
  /** This installation's private Ed25519 key (PEM, mode 0600); relative to the config file. */
  keyFile: z.string().min(1).optional(),
  /** Instead of keyFile: the environment variable holding the private key PEM. */
  keyEnv: envName.optional(),
  /** The other side's public keys; more than one during a key rotation. */
  trust: z
    .array(
      z.strictObject({
        publicKeyFile: z.string().min(1),
        /** End of a rotated-out key's overlap: signatures by it are refused after this time. */
        validUntil: isoTime.optional(),
      }),
    )
    .min(1, "expected at least one trusted public key of the other side (its …pub.pem from 'airgap keys init')"),
  /**
   * Optional shared secret (the same on both sides, carried once by hand) that turns the typed
   * confirmation code from a checksum into an HMAC only the two sides can make.
   */
  confirmationKeyEnv: envName.optional(),
});

const siteSchema = z.strictObject({
  id,
  name: z.string().min(1).optional(),
  /**
   * `connected`: one installation reaches both managers (the default). `isolated`: two
   * installations, one per side, share only the medium; `isolated` says which side this one is.
   */
  mode: z.enum(['connected', 'isolated'], { message: 'expected "connected" or "isolated"' }).default('connected'),
  isolated: isolatedSchema.optional(),
  dmz: z.strictObject({
    manager: managerSchema,
    relay: relaySchema,
  }),
  airgapped: z.strictObject({
    manager: managerSchema,
    relays: z.array(relaySchema).min(1, 'expected at least one air-gapped relay'),
  }),
  people: z.strictObject({
    operators: z.array(email).min(1, 'expected at least one operator email'),
    escalation: z.array(email).default([]),
    approvers: z.array(email).default([]),
    /**
     * Login names of the machines' accounts → the person (email) they belong to: an operator
     * action from the CLI run under that account is recorded as proven by `os-user` (issue 14).
     */
    osUsers: z.record(z.string().regex(/^[A-Za-z0-9._\\-]{1,64}$/, 'expected a login name'), email).default({}),
  }),
  schedule: z
    .strictObject({
      /** Cron expression in the schedule's time zone; Temporal Schedules interpret it. */
      cron: cron.default('0 6 * * 2'),
      timezone: timeZone.default('UTC'),
      /** How late a missed run may still start after downtime. */
      catchupWindow: positiveDuration.default(86_400_000),
      paused: z.boolean().default(false),
    })
    .prefault({}),
  waits: z
    .strictObject({
      reminderEvery: positiveDuration.default(4 * 3_600_000),
      escalateAfter: positiveDuration.default(86_400_000),
      deadline: positiveDuration.default(3 * 86_400_000),
      /** How long a relay may take to report the new versions after an import is triggered. */
      importTimeout: positiveDuration.default(3_600_000),
      pollInterval: positiveDuration.default(15_000),
    })
    .prefault({}),
  approval: z
    .strictObject({
      policy: z.enum(['none', 'any', 'n-of-m']).default('none'),
      /** For n-of-m: how many distinct approvers must approve. */
      required: z.number().int().positive().default(1),
      /** Whether the person who carried the file may also approve its import. */
      carrierMayApprove: z.boolean().default(false),
      /**
       * What proves an approver's identity (issue 14): an approval or rejection without one of
       * these is refused. `unproven` lets a plain `--by` count (small trusted sites, tests).
       */
      proofs: z
        .array(z.enum(PROOF_KINDS, { message: `expected one of ${PROOF_KINDS.join(', ')}` }))
        .min(1, 'expected at least one proof kind')
        .default([...DEFAULT_APPROVAL_PROOFS]),
      /** Operator actions (not approvals) that may be proven by the CLI's login name (people.osUsers). */
      osUserActions: z
        .array(z.enum(OS_USER_ACTIONS, { message: `expected one of ${OS_USER_ACTIONS.join(', ')}` }))
        .default([]),
    })
    .prefault({}),
  steps,
  retention: z
    .strictObject({
      /** What happens to the DMZ-side zip after a completed cycle. */
      dmzBundle: z.enum(['delete', 'archive']).default('archive'),
      archiveDir: z.string().min(1).optional(),
    })
    .prefault({}),
  /** Dashboard notice when the last successful import is older than this. */
  protectionAgeThreshold: positiveDuration.default(8 * 86_400_000),
  rules: rulesSchema,
  hardening: hardeningSchema,
  /** The upgrade rollout (U1–U5); every field has a default. */
  upgrade: upgradeSchema,
});

/**
 * Where the audit lives. `sqlite` (default): `<dataDir>/audit.sqlite`, for one machine.
 * `postgres`: a PostgreSQL database, for a site whose worker, web app and CLI run on several
 * machines; the connection URL (postgres://role:password@host:5432/db) comes from the environment
 * variable named by `urlEnv`, never from this file.
 */
const auditSchema = z
  .strictObject({
    store: z.enum(['sqlite', 'postgres'], { message: 'expected "sqlite" or "postgres"' }).default('sqlite'),
    postgres: z
      .strictObject({
        urlEnv: envName.default('AIRGAP_AUDIT_DATABASE_URL'),
        /** TLS as `pg` takes it; caFile is relative to the config file. Absent: as the URL's sslmode says. */
        ssl: z
          .strictObject({
            caFile: z.string().min(1).optional(),
            rejectUnauthorized: z.boolean().default(true),
          })
          .optional(),
        /** How long opening the store waits for the database before saying it cannot be reached. */
        connectTimeout: positiveDuration.default(10_000),
        /** Connections each process keeps at most. */
        poolSize: z.number().int().min(1).max(100).default(4),
      })
      .prefault({}),
  })
  .prefault({});

const configSchema = z.strictObject({
  /** Where the embedded stack keeps its state (Temporal's SQLite, audit, outbox, simulator). */
  dataDir: z.string().min(1).default('./data'),
  temporal: z
    .strictObject({
      namespace: z.string().min(1).default('airgap'),
      retention: positiveDuration.default(30 * 86_400_000),
      /** The queue of workflows and manager-API activities; host operations use per-host queues. */
      taskQueue: z.string().min(1).default('airgap-control'),
      /** Temporal's web UI, linked from each run's page; default the embedded UI, http://127.0.0.1:<embedded.uiPort>. */
      uiUrl: z
        .url({ protocol: /^https?$/, message: 'expected an http(s) URL such as http://127.0.0.1:8233' })
        .optional(),
      embedded: z
        .strictObject({
          port: port.default(7233),
          uiPort: port.default(8233),
        })
        .prefault({}),
    })
    .prefault({}),
  web: z
    .strictObject({
      /** The address the web app listens on; anything but loopback needs web.auth. */
      host: hostName.default('127.0.0.1'),
      port: port.default(8080),
      /** Base URL written into email links; defaults to http://<host>:<port>. Its host is always served. */
      publicUrl: z
        .url({ protocol: /^https?$/, message: 'expected an http(s) URL such as https://airgap.example' })
        .optional(),
      /**
       * More names the web app answers to (a Host header other than publicUrl's host, the listen
       * address and localhost is refused: no DNS rebinding). "name" or "name:port".
       */
      allowedHosts: z
        .array(
          z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, {
            message: 'expected a host name, optionally with :port, such as airgap.plant1.example or airgap:8080',
          }),
        )
        .default([]),
      auth: z
        .discriminatedUnion('mode', [
          z.strictObject({ mode: z.literal('none') }),
          z.strictObject({ mode: z.literal('shared-secret'), secretEnv: envName }),
          z.strictObject({
            mode: z.literal('oidc'),
            /** The identity provider's issuer URL (its discovery document is read from it). */
            issuer: z.url({
              protocol: /^https?$/,
              message: 'expected the identity provider URL, such as https://id.example',
            }),
            clientId: z.string().min(1),
            /** The variable holding the client secret (runtime/secrets.ts reads it). */
            clientSecretEnv: envName,
            /** Where the provider sends the browser back; default <publicUrl>/login/callback. */
            redirectUrl: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }).optional(),
            /** The claim holding the person's email, matched against the sites' people. */
            emailClaim: z.string().min(1).default('email'),
          }),
          z.strictObject({
            mode: z.literal('proxy'),
            /** The header the reverse proxy sets to the signed-in person's email. */
            header: z
              .string()
              .regex(/^[A-Za-z0-9-]+$/, { message: 'expected an HTTP header name such as X-Forwarded-Email' })
              .default('X-Forwarded-Email'),
            /** The proxy's addresses as the web app sees them; the header from any other address is ignored. */
            proxies: z
              .array(z.string().regex(IP_ADDRESS, { message: 'expected an IP address such as 10.0.0.5' }))
              .min(1, 'expected at least one proxy address'),
          }),
        ])
        .default({ mode: 'none' }),
    })
    .prefault({}),
  mail: z
    .strictObject({
      from: z
        .string()
        .regex(/^(?:[^<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/, {
          message: 'expected an address such as airgap@plant1.example or "airgap-orchestrator <airgap@plant1.example>"',
        })
        .default('airgap-orchestrator <airgap@localhost>'),
      /** Absent: mail goes to the outbox the web app shows (embedded default). */
      smtp: z
        .strictObject({
          host: z.string().min(1),
          port: port.default(587),
          secure: z.boolean().default(false),
          userEnv: envName.optional(),
          passwordEnv: envName.optional(),
          caFile: z.string().min(1).optional(),
        })
        .optional(),
    })
    .prefault({}),
  links: z
    .strictObject({
      keyEnv: envName.default('AIRGAP_LINK_KEY'),
      previousKeyEnv: envName.default('AIRGAP_LINK_KEY_PREVIOUS'),
      ttl: positiveDuration.default(3 * 86_400_000),
    })
    .prefault({}),
  audit: auditSchema,
  simulator: z
    .strictObject({
      /** Run the Deep Security simulator inside `npm start` (the shipped demo config does). */
      enabled: z.boolean().default(false),
      /**
       * The configuration of a simulated isolated site's air-gapped installation, relative to this
       * file: `npm start` runs it as a child installation (its own data folder, Temporal, workers,
       * audit and web app) beside this one, and `airgap sim carry` finds its intake folder there.
       */
      airgappedConfig: z.string().min(1).optional(),
    })
    .prefault({}),
  sites: z.array(siteSchema).min(1, 'expected at least one site'),
});

export type AppConfig = z.output<typeof configSchema>;
export type SiteConfig = AppConfig['sites'][number];
export type ManagerConfig = SiteConfig['dmz']['manager'];
export type RelayConfig = SiteConfig['dmz']['relay'];
export type AuditConfig = AppConfig['audit'];
export type IsolatedConfig = NonNullable<SiteConfig['isolated']>;
export type IsolatedSide = IsolatedConfig['side'];
export type StepMode = z.output<typeof mode>;
export type UpgradeSettings = z.output<typeof upgradeSchema>;
export type UpgradeStageMode = z.output<typeof upgradeStageMode>;

function describeIssue(issue: z.core.$ZodIssue): string {
  const at = issue.path.length === 0 ? '(top level)' : issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') return `${at}: unknown field(s) ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    return `${at}: required, ${issue.message.replace(/^Invalid input: /, '')}`;
  }
  return `${at}: ${issue.message.replace(/^Invalid input: /, '')}`;
}

/** Cross-field rules that a schema cannot say: unique ids, reachable approvals, install dirs. */
function checkConsistency(config: AppConfig): string[] {
  const problems: string[] = [];
  if (!isLoopbackHost(config.web.host) && config.web.auth.mode === 'none') {
    problems.push(
      `web.auth.mode: web.host ${config.web.host} is reachable from other machines, so the dashboard and the outbox ` +
        '(live approval links) need a login: set web.auth (mode: oidc, proxy or shared-secret) or listen on 127.0.0.1',
    );
  }
  const smtp = config.mail.smtp;
  if (smtp && Boolean(smtp.userEnv) !== Boolean(smtp.passwordEnv)) {
    problems.push(
      `mail.smtp.${smtp.userEnv ? 'passwordEnv' : 'userEnv'}: SMTP login needs both userEnv and passwordEnv`,
    );
  }
  const ports = new Map<number, string>();
  for (const [at, port] of [
    ['temporal.embedded.port', config.temporal.embedded.port],
    ['temporal.embedded.uiPort', config.temporal.embedded.uiPort],
    ['web.port', config.web.port],
  ] as const) {
    const other = ports.get(port);
    if (other) problems.push(`${at}: port ${port} is also ${other}; each needs its own port`);
    ports.set(port, at);
  }
  const siteIds = new Set<string>();
  const hostNames = new Map<string, string>();
  config.sites.forEach((site, i) => {
    if (siteIds.has(site.id)) problems.push(`sites.${i}.id: "${site.id}" is used by another site`);
    siteIds.add(site.id);
    const relays = [site.dmz.relay, ...site.airgapped.relays];
    relays.forEach((relay) => {
      const seen = hostNames.get(relay.name);
      if (seen && seen !== site.id) {
        problems.push(`sites.${i}: relay "${relay.name}" is also a relay of site "${seen}"; host names must be unique`);
      }
      hostNames.set(relay.name, site.id);
    });
    const names = site.airgapped.relays.map((r) => r.name);
    if (new Set(names).size !== names.length) problems.push(`sites.${i}.airgapped.relays: relay names must be unique`);
    // Each reminder costs about a dozen history events (timer, mail, audit marker): a cap keeps
    // the longest wait far below Temporal's 10k-event warning.
    const reminders = Math.floor(site.waits.deadline / Math.max(site.waits.reminderEvery, 1));
    if (reminders > MAX_REMINDERS_PER_WAIT) {
      problems.push(
        `sites.${i}.waits.reminderEvery: with deadline ${formatDuration(site.waits.deadline)} it would send ${reminders} reminders in one wait; ` +
          `at most ${MAX_REMINDERS_PER_WAIT} keep a run's history bounded — choose a longer cadence or a shorter deadline`,
      );
    }
    if (site.upgrade.maxPollInterval < site.upgrade.pollInterval) {
      problems.push(
        `sites.${i}.upgrade.maxPollInterval: ${formatDuration(site.upgrade.maxPollInterval)} is shorter than upgrade.pollInterval ${formatDuration(site.upgrade.pollInterval)}`,
      );
    }
    if (site.rules.importFolder && !rulesHostOf(site)) {
      problems.push(
        `sites.${i}.rules.importFolder: no host checks it; set rules.host or airgapped.manager.host to the host whose worker sees that folder`,
      );
    }
    const { policy, required } = site.approval;
    if (policy !== 'none' && site.people.approvers.length === 0) {
      problems.push(`sites.${i}.people.approvers: approval policy "${policy}" needs at least one approver`);
    }
    if (policy === 'n-of-m' && required > site.people.approvers.length) {
      problems.push(
        `sites.${i}.approval.required: ${required} approvals required but only ${site.people.approvers.length} approver(s) listed`,
      );
    }
    if (site.approval.proofs.includes('os-user') && Object.keys(site.people.osUsers).length === 0) {
      problems.push(`sites.${i}.approval.proofs: "os-user" needs people.osUsers (login name → person)`);
    }
    if (site.approval.osUserActions.length > 0 && Object.keys(site.people.osUsers).length === 0) {
      problems.push(`sites.${i}.approval.osUserActions: os-user proofs need people.osUsers (login name → person)`);
    }
    for (const [at, name] of [
      ['airgapped.manager.host', site.airgapped.manager.host],
      ['dmz.manager.host', site.dmz.manager.host],
      ['rules.host', site.rules.host],
    ] as const) {
      if (name && relays.some((r) => r.name === name)) {
        problems.push(`sites.${i}.${at}: "${name}" is also a relay's name; a manager host needs its own name`);
      }
    }
    const { hardening } = site;
    if (hardening.items.S1 === 'automated' && !hardening.otherUpdateSourceMode) {
      problems.push(
        `sites.${i}.hardening.items.S1: automated needs hardening.otherUpdateSourceMode (the API value for "Other update source" is unverified)`,
      );
    }
    if (hardening.items.H1 === 'automated' && !hardening.smartScanOffValue) {
      problems.push(
        `sites.${i}.hardening.items.H1: automated needs hardening.smartScanOffValue (the API value for Smart Scan "Off" is unverified)`,
      );
    }
    for (const id of ['U1', 'U3'] as const) {
      if (site.upgrade.stages[id].mode !== 'manual') {
        problems.push(
          `sites.${i}.upgrade.stages.${id}.mode: a manager and its database are upgraded by a person running the installer; only "manual" is possible`,
        );
      }
    }
    const approving = UPGRADE_STAGES.filter((id) => site.upgrade.stages[id].approval);
    if (approving.length > 0 && site.people.approvers.length === 0) {
      problems.push(
        `sites.${i}.people.approvers: upgrade stage(s) ${approving.join(', ')} need approval but no approver is listed`,
      );
    }
    problems.push(...isolatedProblems(site, `sites.${i}`));
    if (site.retention.dmzBundle === 'archive' && !site.retention.archiveDir) {
      // Archive next to the relay's install dir unless told otherwise; nothing to report.
    }
  });
  return problems;
}

/** What an isolated site's settings lack or hold in excess, for its side. */
function isolatedProblems(site: SiteConfig, at: string): string[] {
  const iso = site.isolated;
  if (site.mode === 'connected') {
    return iso
      ? [`${at}.isolated: only for mode: isolated (this site is connected; set mode: isolated or remove it)`]
      : [];
  }
  if (!iso) {
    return [
      `${at}.isolated: mode isolated needs isolated.side (dmz or airgapped), installationId, the medium folder, keyFile and trust`,
    ];
  }
  const problems: string[] = [];
  const own = iso.side === 'dmz' ? 'outboundFolder' : 'intakeFolder';
  const other = iso.side === 'dmz' ? 'intakeFolder' : 'outboundFolder';
  if (!iso[own])
    problems.push(`${at}.isolated.${own}: required on the ${iso.side} side (the folder where the medium is mounted)`);
  if (iso[other])
    problems.push(`${at}.isolated.${other}: belongs to the other side; on the ${iso.side} side set ${own}`);
  if (iso.side === 'dmz' && iso.placement)
    problems.push(`${at}.isolated.placement: belongs to the air-gapped side (how its relays get the zip)`);
  if (Boolean(iso.keyFile) === Boolean(iso.keyEnv)) {
    problems.push(
      `${at}.isolated.keyFile: set exactly one of keyFile (a private key file) or keyEnv (an environment variable holding it)`,
    );
  }
  const files = iso.trust.map((t) => t.publicKeyFile);
  files.forEach((f, j) => {
    if (files.indexOf(f) !== j) problems.push(`${at}.isolated.trust.${j}.publicKeyFile: ${f} is listed twice`);
  });
  if (iso.trust.every((t) => t.validUntil !== undefined)) {
    problems.push(
      `${at}.isolated.trust: every key has a validUntil, so nothing will be trusted once they pass; the current key of the other side needs none`,
    );
  }
  return problems;
}

/** Validates a parsed YAML document; `source` (the file path) is named in every message. */
export function parseConfig(document: unknown, source: string): AppConfig {
  const result = configSchema.safeParse(document ?? {});
  if (!result.success) throw new ConfigError(source, result.error.issues.map(describeIssue));
  const problems = checkConsistency(result.data);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return result.data;
}

/** The install dir of a relay: configured, else the vendor default for its OS. */
export function installDirOf(host: { os: HostOs; installDir?: string | undefined }): string {
  return host.installDir ?? DEFAULT_INSTALL_DIR[host.os];
}

/** The task queue a host's worker polls. */
export function hostTaskQueue(hostName: string): string {
  return `airgap-host-${hostName}`;
}

/** The task queue of a zone's worker (manager API calls from inside that zone). */
export function zoneTaskQueue(zone: string): string {
  return `airgap-zone-${zone}`;
}

export function findSite(config: AppConfig, siteId: string): SiteConfig | undefined {
  return config.sites.find((s) => s.id === siteId);
}

/** The host whose worker checks carried .dsru files: rules.host, else the air-gapped manager's host. */
export function rulesHostOf(site: SiteConfig): string | undefined {
  return site.rules.host ?? site.airgapped.manager.host;
}

/** Air-gapped manager-side hosts that need a worker (dsm_c, rule import folder); relays excluded. */
export function managerHostNames(config: AppConfig): string[] {
  const names = config.sites.flatMap((s) => [s.airgapped.manager.host, s.rules.host]);
  return [...new Set(names.filter((n): n is string => !!n))];
}

/** The address people open the web app at (mail links point here): web.publicUrl, else the listen address. */
export function publicUrlOf(config: AppConfig): string {
  return (
    config.web.publicUrl ?? `http://${config.web.host === '0.0.0.0' ? '127.0.0.1' : config.web.host}:${config.web.port}`
  );
}

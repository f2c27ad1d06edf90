/**
 * Puts the web app on its socket with everything it reads wired to Temporal and the audit store:
 * link actions (Query to show, Update to act), open runs, past runs, timelines, and the outbox
 * when mail is not going out over SMTP.
 */
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { AuditStore } from '../adapters/audit-store';
import { openAuditStore } from '../adapters/audit-store-open';
import { OUTBOX_FILE_NAME, OutboxMailer } from '../adapters/outbox';
import { publicUrlOf, type AppConfig } from '../domain/config';
import { authenticatorFromConfig, createApp, serveApp } from '../web';
import { requiredLinkKeys, resolveSecrets, type Secrets } from './secrets';
import { createTemporalActionGateway } from '../web/temporal-gateway';
import { createWaitingProvider } from '../web/temporal-waiting';
import { peopleOf } from '../web/people';
import {
  createCourierSheetProvider,
  createHistoryProvider,
  createOverviewProvider,
  createProtectionProvider,
  createRunProvider,
  createScheduleProvider,
} from '../web/temporal-providers';

/**
 * The names the web app answers to besides publicUrl's host and the loopback names: the listen
 * address when it is a name or an address people can type (not 0.0.0.0 or ::), and web.allowedHosts.
 */
export function allowedHostsOf(config: AppConfig): string[] {
  const host = config.web.host;
  const listen =
    host === '0.0.0.0' || host === '::' || host === '[::]'
      ? []
      : [host.includes(':') && !host.startsWith('[') ? `[${host}]` : host];
  return [...listen, ...config.web.allowedHosts];
}

export interface RunningWeb {
  url: string;
  close(): Promise<void>;
}

export async function startWebServer(options: {
  config: AppConfig;
  client: Client;
  /** Where the link keys and the login secret are read when `secrets` is not given; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Secrets resolved by the caller at start. */
  secrets?: Secrets;
  port?: number;
  /** Opened by the caller (before connecting to Temporal) and closed with the server; default: opened here. */
  audit?: AuditStore;
}): Promise<RunningWeb> {
  const { config, client } = options;
  const secrets =
    options.secrets ??
    resolveSecrets(config, options.env ?? process.env, { links: true, webAuth: true, audit: !options.audit });
  const audit = options.audit ?? (await openAuditStore(config, { postgresUrl: secrets.auditUrl }));
  const outbox = config.mail.smtp
    ? undefined
    : new OutboxMailer({ file: path.join(config.dataDir, OUTBOX_FILE_NAME), from: config.mail.from });
  const app = createApp({
    actions: createTemporalActionGateway(client, { audit }),
    keys: requiredLinkKeys(secrets),
    auth: authenticatorFromConfig(config.web.auth, secrets.webSecret, {
      people: peopleOf(config),
      publicUrl: publicUrlOf(config),
    }),
    waiting: createWaitingProvider(client),
    outbox,
    overview: createOverviewProvider(client, audit, config),
    history: createHistoryProvider(audit),
    runs: createRunProvider(client, audit),
    sites: config.sites.map((s) => ({ id: s.id, name: s.name })),
    protection: createProtectionProvider(audit, config),
    schedules: createScheduleProvider(client, config),
    sheets: createCourierSheetProvider(client, config),
    temporalUi: {
      url: config.temporal.uiUrl ?? `http://127.0.0.1:${config.temporal.embedded.uiPort}`,
      namespace: config.temporal.namespace,
    },
    publicUrl: publicUrlOf(config),
    allowedHosts: allowedHostsOf(config),
  });
  const server = await serveApp(app, { host: config.web.host, port: options.port ?? config.web.port });
  return {
    url: server.url,
    async close() {
      await server.close();
      await outbox?.close();
      await audit.close();
    },
  };
}

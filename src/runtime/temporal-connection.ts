/**
 * Where Temporal is. With TEMPORAL_ADDRESS set, the external cluster is described by Temporal's
 * environment-configuration conventions (TEMPORAL_NAMESPACE, TEMPORAL_TLS_*, TEMPORAL_API_KEY,
 * TEMPORAL_PROFILE and the TOML profile file), read by @temporalio/envconfig. Otherwise the
 * embedded dev server of `npm start` on the configured port.
 */
import type { Client } from '@temporalio/client';
import type * as TemporalClient from '@temporalio/client';
import type * as EnvConfig from '@temporalio/envconfig';
import type { NativeConnection } from '@temporalio/worker';
import type { AppConfig } from '../domain/config';

export interface TemporalTarget {
  external: boolean;
  namespace: string;
  connectionOptions: { address?: string } & Record<string, unknown>;
}

export function temporalTarget(config: AppConfig, env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  if (env.TEMPORAL_ADDRESS) {
    // Loaded here, not at import: every CLI command loads this module, `airgap start` before it
    // spawns the dev server (issue 16, start to ready).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { loadClientConnectConfig } = require('@temporalio/envconfig') as typeof EnvConfig;
    const loaded = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
    return {
      external: true,
      namespace: loaded.namespace ?? config.temporal.namespace,
      connectionOptions: loaded.connectionOptions as TemporalTarget['connectionOptions'],
    };
  }
  return {
    external: false,
    namespace: config.temporal.namespace,
    connectionOptions: { address: `127.0.0.1:${config.temporal.embedded.port}` },
  };
}

export async function connectClient(target: TemporalTarget): Promise<Client> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client, Connection } = require('@temporalio/client') as typeof TemporalClient;
  const connection = await Connection.connect(target.connectionOptions as never);
  return new Client({ connection, namespace: target.namespace });
}

/** The worker SDK (and its bundler) loads only here: a CLI command that is a client never loads it. */
export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  const { NativeConnection } = await import('@temporalio/worker');
  return NativeConnection.connect(target.connectionOptions as never);
}

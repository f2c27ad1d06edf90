/**
 * What every command gets: the configuration (loaded once, lazily, so `--help` needs none), a
 * Temporal client, and one way to print results (human text by default, JSON with --json).
 * Diagnostics go to stderr, results to stdout; a refused action throws CliError and exits 1.
 */
import type { Client } from '@temporalio/client';
import type * as LoadConfigModule from '../runtime/load-config';
import type { LoadedConfig } from '../runtime/load-config';
import type * as ConnectionModule from '../runtime/temporal-connection';
import { isoTimesIn } from '../domain/time-format';

/**
 * The configuration loader (zod, yaml) and the Temporal client (gRPC) load only when a command
 * runs (`prepare()`, from the program's preAction hook): `airgap --help` loads neither.
 */
type Runtime = typeof LoadConfigModule & typeof ConnectionModule;

/**
 * How long a command waits for Temporal to answer the first time. The SDK's default (10 s, then
 * the gRPC deadline) made `cycle list` with the stack down hang for 15 s before failing.
 */
const CONNECT_TIMEOUT = '3s';

/** Thrown by a command when the operator's request is refused or impossible; printed, exit 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Where the CLI reaches Temporal, and whether it is a cluster named by TEMPORAL_ADDRESS. */
export interface TemporalWhere {
  address?: string;
  external: boolean;
}

export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

export class CliContext {
  private loaded?: LoadedConfig;
  private clientPromise?: Promise<Client>;
  private runtime?: Runtime;

  /** Set by a check-like command whose finding is not an error (a drift check that found drift: 2). */
  exitCode = 0;

  constructor(readonly options: () => GlobalOptions) {}

  get json(): boolean {
    return Boolean(this.options().json);
  }

  /** Loads what reading the configuration and reaching Temporal need; called before every action. */
  prepare(): Promise<void> {
    if (this.runtime) return Promise.resolve();
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded when a command runs, not for --help */
    this.runtime = {
      ...(require('../runtime/load-config') as typeof LoadConfigModule),
      ...(require('../runtime/temporal-connection') as typeof ConnectionModule),
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
    return Promise.resolve();
  }

  private loadedRuntime(): Runtime {
    if (!this.runtime) throw new Error('CliContext.prepare() has not run: the command ran outside the program');
    return this.runtime;
  }

  config(): LoadedConfig {
    const { loadConfig, configPathFrom } = this.loadedRuntime();
    this.loaded ??= loadConfig(configPathFrom(this.options().config));
    return this.loaded;
  }

  client(): Promise<Client> {
    if (!this.clientPromise) {
      const { connectClient, temporalTarget } = this.loadedRuntime();
      const target = temporalTarget(this.config().config);
      this.clientPromise = connectClient({
        ...target,
        connectionOptions: { connectTimeout: CONNECT_TIMEOUT, ...target.connectionOptions },
      });
      // A failed connect is reported by the caller; close() must not fail on it again.
      this.clientPromise.catch(() => undefined);
    }
    return this.clientPromise;
  }

  /** Where the commands reach Temporal, for messages; undefined when the configuration cannot be read. */
  temporalWhere(): TemporalWhere | undefined {
    if (!this.runtime) return undefined;
    const target = this.runtime.temporalTarget(this.config().config);
    return { address: target.connectionOptions.address, external: target.external };
  }

  /** Prints a result: `human` as text, or `machine` as JSON with --json (times as ISO-8601 strings). */
  result(human: string, machine: unknown): void {
    process.stdout.write(this.json ? `${JSON.stringify(isoTimesIn(machine), null, 2)}\n` : `${human}\n`);
  }

  info(message: string): void {
    process.stderr.write(`${message}\n`);
  }

  async close(): Promise<void> {
    if (!this.clientPromise) return;
    const client = await this.clientPromise.catch(() => undefined);
    await client?.connection.close();
  }
}

/**
 * What every command gets: the configuration (loaded once, lazily, so `--help` needs none), a
 * Temporal client, and one way to print results (human text by default, JSON with --json).
 * Diagnostics go to stderr, results to stdout; a refused action throws CliError and exits 1.
 */
import type { Client } from '@temporalio/client';
import { configPathFrom, loadConfig, type LoadedConfig } from '../runtime/load-config';
import { connectClient, temporalTarget } from '../runtime/temporal-connection';

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

export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

export class CliContext {
  private loaded?: LoadedConfig;
  private clientPromise?: Promise<Client>;

  constructor(readonly options: () => GlobalOptions) {}

  get json(): boolean {
    return Boolean(this.options().json);
  }

  config(): LoadedConfig {
    this.loaded ??= loadConfig(configPathFrom(this.options().config));
    return this.loaded;
  }

  client(): Promise<Client> {
    this.clientPromise ??= connectClient(temporalTarget(this.config().config));
    return this.clientPromise;
  }

  /** Prints a result: `human` as text, or `machine` as JSON with --json. */
  result(human: string, machine: unknown): void {
    process.stdout.write(this.json ? `${JSON.stringify(machine, null, 2)}\n` : `${human}\n`);
  }

  info(message: string): void {
    process.stderr.write(`${message}\n`);
  }

  async close(): Promise<void> {
    if (this.clientPromise) await (await this.clientPromise).connection.close();
  }
}

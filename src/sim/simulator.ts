/**
 * Starts the Deep Security stand-in for every site of a configuration: the DMZ and air-gapped
 * managers as HTTPS servers on their configured URLs, the relays' install dirs as real folders
 * with a working `dsa_control`, `dsm_c` where the config puts it, and the control endpoint.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AppConfig, ManagerConfig } from '../domain/config';
import { createControlApi, createSimControl, type SimControl } from './control';
import { SimEngine } from './engine';
import { CONTROL_FILE_NAME, writeDsaControl, writeDsmC } from './host-scripts';
import { listen, type Listening } from './http';
import { readManagerKey } from './keys';
import { createManagerApi } from './manager-api';
import { emptyState, loadState, reconcile, saveState, simDir, type Side } from './state';
import { ensureSimulatorTls } from './tls';

export interface SimulatorOptions {
  config: AppConfig;
  dataDir: string;
  /** How long a relay takes to import, and agents to take the update after it. Default 3000. */
  importDelayMs?: number;
  /**
   * The key each manager accepts, by its `apiKeyEnv` variable name: the resolved secrets'
   * managerKeys (runtime/secrets.ts). A manager without one is a MissingApiKeyError.
   */
  apiKeys: Readonly<Record<string, string | undefined>>;
  /** Simulated agents behind each air-gapped relay. Default 3. */
  agentsPerRelay?: number;
  /** Approximate size of a bundle zip. Default 256 KiB. */
  bundleSizeBytes?: number;
  /** Port of the loopback control endpoint; 0 (default) picks a free one. */
  controlPort?: number;
  /** Requests per key per 60 s window before 429 (the vendor default is 500). */
  rateLimitPerMinute?: number;
  /** The update server publishes by itself this often (weekly, like rule updates). Default 7 days. */
  publishEveryMs?: number;
}

export interface RunningSimulator {
  stop(): Promise<void>;
  control: SimControl;
  /** http://127.0.0.1:<port> — see control.ts for the routes and the bearer token. */
  controlUrl: string;
}

/** Thrown when an option or the configuration cannot be simulated; names the option or config path. */
export class SimulatorConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimulatorConfigError';
  }
}

type Defaulted = Required<SimulatorOptions>;

function normalise(opts: SimulatorOptions): Defaulted {
  const out: Defaulted = {
    importDelayMs: 3000,
    agentsPerRelay: 3,
    bundleSizeBytes: 256 * 1024,
    controlPort: 0,
    rateLimitPerMinute: 500,
    publishEveryMs: 7 * 86_400_000,
    ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    apiKeys: opts.apiKeys,
    config: opts.config,
    dataDir: path.resolve(opts.dataDir),
  };
  const ranges: [keyof Defaulted, number, number][] = [
    ['importDelayMs', 0, 86_400_000],
    // Thousands per relay let benchmarks simulate a large fleet (bench/upgrade-bench.ts).
    ['agentsPerRelay', 0, 10_000],
    ['bundleSizeBytes', 4096, 1024 ** 3],
    ['controlPort', 0, 65535],
    ['rateLimitPerMinute', 1, 1_000_000],
    ['publishEveryMs', 1000, Number.MAX_SAFE_INTEGER],
  ];
  for (const [name, min, max] of ranges) {
    const v = out[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new SimulatorConfigError(
        `simulator option ${name} must be an integer from ${min} to ${max}, got ${String(v)}`,
      );
    }
  }
  return out;
}

interface ManagerSpec {
  siteId: string;
  side: Side;
  manager: ManagerConfig;
  setting: string;
  url: URL;
  apiKey: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function managerSpecs(config: AppConfig, apiKeys: Defaulted['apiKeys']): ManagerSpec[] {
  const seen = new Map<string, string>();
  return config.sites.flatMap((site, i) =>
    (['dmz', 'airgapped'] as const).map((side) => {
      const manager = site[side].manager;
      const setting = `sites[${i}].${side}.manager.url`;
      const url = new URL(manager.url);
      if (url.protocol !== 'https:' || !LOOPBACK.has(url.hostname) || url.port === '') {
        throw new SimulatorConfigError(
          `${setting}: the simulator serves https://127.0.0.1:<port>/… only, got ${manager.url}`,
        );
      }
      const where = `${url.hostname}:${url.port}`;
      if (seen.has(where)) throw new SimulatorConfigError(`${setting}: ${where} is also used by ${seen.get(where)}`);
      seen.set(where, setting);
      return {
        siteId: site.id,
        side,
        manager,
        setting,
        url,
        apiKey: readManagerKey(apiKeys, manager.apiKeyEnv, manager.url),
      };
    }),
  );
}

function relayDirs(config: AppConfig): void {
  config.sites.forEach((site, i) => {
    const relays = [
      { relay: site.dmz.relay, at: `sites[${i}].dmz.relay` },
      ...site.airgapped.relays.map((relay, j) => ({ relay, at: `sites[${i}].airgapped.relays[${j}]` })),
    ];
    for (const { relay, at } of relays) {
      // Never fall back to the vendor default (/opt/ds_agent): the simulator must not write there.
      if (!relay.installDir || !path.isAbsolute(relay.installDir)) {
        throw new SimulatorConfigError(
          `${at}.installDir: the simulator needs an absolute folder, got ${String(relay.installDir)}`,
        );
      }
      fs.mkdirSync(relay.installDir, { recursive: true });
    }
  });
}

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const opts = normalise(options);
  const { config } = opts;
  const specs = managerSpecs(config, opts.apiKeys);
  relayDirs(config);
  const dir = simDir(opts.dataDir);
  fs.mkdirSync(dir, { recursive: true });
  const tls = await ensureSimulatorTls(dir);

  const stateFile = path.join(dir, 'state.json');
  const now = () => Date.now();
  const state = loadState(stateFile) ?? emptyState(now());
  reconcile(state, config, opts.agentsPerRelay, now());
  saveState(stateFile, state);
  const engine = new SimEngine(state, { stateFile, importDelayMs: opts.importDelayMs, now });
  const control = createSimControl(engine);

  const servers: Listening[] = [];
  let publishTimer: NodeJS.Timeout | undefined;
  const controlFile = path.join(dir, CONTROL_FILE_NAME);
  const token = crypto.randomBytes(24).toString('base64url');
  const stop = async () => {
    if (publishTimer) clearInterval(publishTimer);
    await Promise.all(servers.map((s) => s.close()));
    await engine.stop();
    try {
      if ((JSON.parse(fs.readFileSync(controlFile, 'utf8')) as { token?: string }).token === token)
        fs.rmSync(controlFile);
    } catch {
      // Already gone, or another simulator's: leave it.
    }
  };

  try {
    const controlServer = await listen({
      host: '127.0.0.1',
      port: opts.controlPort,
      handler: createControlApi(engine, control, { token, bundleSizeBytes: opts.bundleSizeBytes }),
      setting: 'simulator controlPort',
    });
    servers.push(controlServer);
    const controlUrl = `http://127.0.0.1:${controlServer.port}`;
    fs.writeFileSync(controlFile, JSON.stringify({ url: controlUrl, token, pid: process.pid }, null, 2), {
      mode: 0o600,
    });

    for (const site of config.sites) {
      writeDsaControl(site.dmz.relay.installDir!, controlFile, site.dmz.relay.name);
      for (const side of ['dmz', 'airgapped'] as const) {
        const dsmC = site[side].manager.dsmCPath;
        if (dsmC) writeDsmC(dsmC, controlFile, { siteId: site.id, side });
      }
    }
    for (const spec of specs) {
      const handler = createManagerApi(engine, {
        siteId: spec.siteId,
        side: spec.side,
        basePath: spec.url.pathname,
        apiKey: spec.apiKey,
        rateLimitPerMinute: opts.rateLimitPerMinute,
      });
      const host = spec.url.hostname.replace(/^\[|\]$/g, '');
      servers.push(await listen({ host, port: Number(spec.url.port), tls, handler, setting: spec.setting }));
    }

    engine.start();
    const publishIfDue = () => {
      if (Date.now() - engine.state.internet.publishedAt >= opts.publishEveryMs) engine.publishUpdate();
    };
    publishIfDue();
    publishTimer = setInterval(publishIfDue, Math.min(opts.publishEveryMs, 60_000));
    return { stop, control, controlUrl };
  } catch (err) {
    await stop();
    throw err;
  }
}

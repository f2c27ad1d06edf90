/**
 * Puts an app on a socket with @hono/node-server. Kept apart from createApp so tests and other
 * hosts can use the app without a socket. Resolves once listening; `port: 0` picks a free port.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { whenListening } from '../adapters/ports';
import type { WebEnv } from './env';

export interface RunningServer {
  /** http://host:port, with the port actually bound. */
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function serveApp(app: Hono<WebEnv>, options: { host: string; port: number }): Promise<RunningServer> {
  const server = serve({ fetch: app.fetch, hostname: options.host, port: options.port }) as Server;
  await whenListening(server, options.port, 'web.port in the configuration');
  const { port } = server.address() as AddressInfo;
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${hostInUrl}:${port}`,
    host: options.host,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Browsers keep connections alive; without this close() would wait for them to time out.
        server.closeAllConnections();
      }),
  };
}

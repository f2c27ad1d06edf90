/**
 * The simulator's servers as values: a handler maps a request (method, URL, headers, body text) to
 * a response (status, JSON body, headers, optional delay), so the behaviour can be read and
 * tested apart from the socket. `listen` puts a handler on HTTP or HTTPS.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { whenListening } from '../adapters/ports';

export interface SimHttpRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface SimHttpResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Hold the answer this long (the stall fault). */
  delayMs?: number;
}

export type SimHandler = (req: SimHttpRequest) => SimHttpResponse | Promise<SimHttpResponse>;

export interface Listening {
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

export async function listen(opts: {
  host: string;
  port: number;
  tls?: { key: Buffer; cert: Buffer };
  handler: SimHandler;
  /** Named in the error when the port is taken, e.g. sites[0].dmz.manager.url. */
  setting: string;
}): Promise<Listening> {
  // Held (stalled) answers are dropped on close, so stop() does not wait for them.
  const timers = new Set<NodeJS.Timeout>();
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    void respond(req, res, opts.handler, timers);
  };
  const server = opts.tls
    ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest)
    : http.createServer(onRequest);
  const listening = whenListening(server, opts.port, opts.setting);
  server.listen(opts.port, opts.host);
  await listening;
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function respond(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  handler: SimHandler,
  timers: Set<NodeJS.Timeout>,
): Promise<void> {
  let answer: SimHttpResponse;
  try {
    const body = await readBody(req);
    answer =
      body === undefined
        ? { status: 413, body: { message: 'Request body too large' } }
        : await handler({
            method: req.method ?? 'GET',
            url: new URL(req.url ?? '/', 'http://simulator.invalid'),
            headers: req.headers,
            body,
          });
  } catch (err) {
    answer = { status: 500, body: { message: `simulator error: ${(err as Error).message}` } };
  }
  if (answer.delayMs) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, answer.delayMs);
      timers.add(t);
    });
  }
  if (res.destroyed) return;
  const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    ...(text ? { 'content-type': 'application/json' } : {}),
    ...answer.headers,
  });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Parses a JSON body; undefined for an empty one. Throws SyntaxError for bad JSON. */
export function jsonBody(req: SimHttpRequest): unknown {
  return req.body.trim() === '' ? undefined : JSON.parse(req.body);
}

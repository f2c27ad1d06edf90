/**
 * TCP ports, shared by everything that listens (the web app, the simulator, the embedded stack's
 * start-up check) and by the tests: one error for a taken port, naming the setting that moves it.
 * Node built-ins only, so the simulator and the web app can use it without loading the runtime.
 */
import net from 'node:net';

/** Thrown when a port the stack needs is taken; names the port and the setting that moves it. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly setting: string,
  ) {
    super(`port ${port} is already in use; free it or change ${setting}`);
    this.name = 'PortInUseError';
  }
}

/** The error a failed listen() means: a taken (or forbidden) port becomes PortInUseError naming `setting`. */
export function listenError(err: NodeJS.ErrnoException, port: number, setting: string): Error {
  return err.code === 'EADDRINUSE' || err.code === 'EACCES' ? new PortInUseError(port, setting) : err;
}

/** Resolves when `server` (already told to listen) listens; rejects with listenError when it cannot. */
export function whenListening(server: net.Server, port: number, setting: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(listenError(err, port, setting));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
  });
}

/** Throws PortInUseError (naming `setting`) when `port` on `host` cannot be listened on now. */
export async function assertPortFree(port: number, host: string, setting: string): Promise<void> {
  const server = net.createServer();
  const listening = whenListening(server, port, setting);
  server.listen(port, host);
  await listening;
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port free on 127.0.0.1 at the time of asking (tests and benches). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

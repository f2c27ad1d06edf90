/**
 * `web.auth.mode: proxy`: the site's reverse proxy has already signed the person in and names them
 * in a header. Anybody can send that header, so it is believed only on a connection from one of
 * the configured proxy addresses; from any other address it is ignored and the request is treated
 * as not signed in. The named email must be one of the configured people.
 */
import type { Authenticator } from './auth';
import { configuredPerson } from './people';
import { WebError } from './errors';

export interface ProxyAuthOptions {
  /** The header the proxy sets, e.g. X-Forwarded-Email. */
  header: string;
  /** The proxy's addresses as this server sees the connection's peer. */
  proxies: readonly string[];
  people: readonly string[];
}

/** An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; compare it as a.b.c.d. */
export function plainAddress(address: string): string {
  const lower = address.trim().toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

export function proxyAuth(options: ProxyAuthOptions): Authenticator {
  const proxies = new Set(options.proxies.map(plainAddress));
  const fromProxy = (address: string | undefined): boolean =>
    address !== undefined && proxies.has(plainAddress(address));
  return {
    mode: 'proxy',
    required: true,
    proofKind: 'web-session',
    async identify(c, runtime) {
      if (!fromProxy(runtime.clientAddress(c))) return undefined;
      const named = c.req.header(options.header);
      if (named === undefined || named.trim() === '') return undefined;
      const email = configuredPerson(options.people, named);
      if (!email) {
        throw new WebError(
          'forbidden',
          'Not a configured person',
          `The proxy signed you in as "${named.slice(0, 100)}", who is not one of this site's operators or approvers. Ask an operator to add you to the configuration. Nothing was read or changed.`,
        );
      }
      return { id: email, name: email, method: 'proxy', email };
    },
    loginUrl: (next) => `/login?next=${encodeURIComponent(next)}`,
    routes(app, runtime) {
      app.get('/login', (c) => {
        const from = runtime.clientAddress(c) ?? 'an unknown address';
        throw new WebError(
          'forbidden',
          'Sign in through the proxy',
          fromProxy(runtime.clientAddress(c))
            ? `The proxy did not say who you are (no ${options.header} header). Sign in at the proxy and open the page again.`
            : `This site signs people in at its reverse proxy, and this request came from ${from}, which is not that proxy: the ${options.header} header is ignored from it. Open the site through its proxy.`,
        );
      });
      app.post('/logout', () => {
        throw new WebError('forbidden', 'Sign out at the proxy', 'You are signed in by the proxy; sign out there.');
      });
    },
  };
}

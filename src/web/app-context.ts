/** What every route gets from createApp: the deps, normalised once, and request helpers. */
import type { Context } from 'hono';
import type { WebDeps } from './deps';
import type { WebEnv } from './env';
import type { LayoutOptions } from './views/layout';

export interface AppContext {
  deps: WebDeps;
  now(): number;
  secureCookies: boolean;
  /** The peer's address when served by node; undefined under `app.request()`. */
  clientAddress(c: Context<WebEnv>): string | undefined;
  /** The dashboard navigation for the viewer of this request. */
  nav(c: Context<WebEnv>): NonNullable<LayoutOptions['nav']>;
}

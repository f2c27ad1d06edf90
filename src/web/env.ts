/** The hono environment of the web app: node bindings when served, and the viewer's identity. */
import type { IncomingMessage } from 'node:http';

export interface Identity {
  id: string;
  /** Shown in the navigation and recorded by dashboard actions. */
  name: string;
  /** How they logged in: "none", "shared-secret", an identity provider's name. */
  method: string;
}

export interface WebEnv {
  /** Absent under `app.request()` in tests. */
  Bindings: { incoming?: IncomingMessage } | undefined;
  Variables: { identity: Identity | undefined };
}

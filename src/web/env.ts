/** The hono environment of the web app: node bindings when served, and the viewer's identity. */
import type { IncomingMessage } from 'node:http';

export interface Identity {
  id: string;
  /** Shown in the navigation and recorded by dashboard actions. */
  name: string;
  /** How they logged in: "none", "shared-secret", "oidc", "proxy". */
  method: string;
  /** The configured person this is (lowercase email), when the login names one: "waiting on me" and proofs need it. */
  email?: string;
}

export interface WebEnv {
  /** Absent under `app.request()` in tests. */
  Bindings: { incoming?: IncomingMessage } | undefined;
  Variables: { identity: Identity | undefined };
}

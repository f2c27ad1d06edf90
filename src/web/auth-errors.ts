/**
 * The web login's settings error and its one limit, apart from the login itself (hono, pages) so
 * that the start-up secret check (runtime/secrets.ts) can use them in a worker without loading the web app.
 */

/** Thrown when the web auth configuration cannot work; names the setting or variable. */
export class WebAuthConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebAuthConfigError';
  }
}

/** The shortest shared secret the login accepts, in characters. */
export const MIN_SHARED_SECRET_LENGTH = 16;

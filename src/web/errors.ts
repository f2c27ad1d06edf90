/**
 * The web app's one error type. Routes and gateways throw `WebError`; `app.onError` turns it into
 * a page with its status (src/web/app.ts), and anything else into a 500 page that says nothing
 * about the internals. Gateways signal "Temporal is unreachable, try again" with `unavailable`.
 */

export type WebErrorKind =
  | 'bad-request'
  | 'misdirected'
  | 'invalid-link'
  | 'expired-link'
  | 'form-expired'
  | 'forbidden'
  | 'too-large'
  | 'login-required'
  | 'login-throttled'
  | 'not-found'
  | 'unavailable'
  | 'internal';

const STATUS: Record<WebErrorKind, number> = {
  'bad-request': 400,
  misdirected: 421,
  'invalid-link': 400,
  'expired-link': 410,
  'form-expired': 403,
  forbidden: 403,
  'too-large': 413,
  'login-required': 401,
  'login-throttled': 429,
  'not-found': 404,
  unavailable: 503,
  internal: 500,
};

/** Thrown by routes and gateways for any request that ends in an error page; `cause` keeps the original error. */
export class WebError extends Error {
  readonly status: number;
  /** A way forward shown on the page (a local path): "Open the link again". */
  readonly link: { href: string; label: string } | undefined;
  constructor(
    readonly kind: WebErrorKind,
    /** The page's heading. */
    readonly title: string,
    /** What happened and what to do, in a sentence or two a person can act on. */
    readonly detail: string,
    options?: { cause?: unknown; link?: { href: string; label: string } },
  ) {
    super(`${title}: ${detail}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.link = options?.link;
    this.name = 'WebError';
    this.status = STATUS[kind];
  }

  static notFound(what: string): WebError {
    return new WebError('not-found', 'Not found', `${what} does not exist here.`);
  }

  static badRequest(detail: string): WebError {
    return new WebError('bad-request', 'Bad request', detail);
  }

  /** For gateways: the orchestrator (Temporal) cannot be reached; the person can simply try again. */
  static unavailable(detail: string, cause?: unknown): WebError {
    return new WebError('unavailable', 'Temporarily unavailable', detail, { cause });
  }
}

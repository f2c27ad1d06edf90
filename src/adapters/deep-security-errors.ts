/**
 * How a Deep Security manager call can fail, one class per kind, so activities can decide between
 * "retry later" and "a person must fix something". Messages name the manager URL and the
 * operation, never the API key; the original error is kept in `cause`.
 */

export interface ApiErrorContext {
  /** The manager's base URL from the configuration. */
  manager: string;
  /** What was attempted, e.g. "GET /computers/21". */
  operation: string;
}

export abstract class DeepSecurityApiError extends Error {
  abstract readonly retryable: boolean;
  readonly manager: string;
  readonly operation: string;

  constructor(message: string, context: ApiErrorContext, options?: { cause?: unknown }) {
    super(`${context.operation} on ${context.manager}: ${message}`, options);
    this.manager = context.manager;
    this.operation = context.operation;
  }
}

/**
 * Thrown when the manager keeps answering 429 "Too many API requests" after the adapter has backed
 * off exponentially and retried `attempts` times. Retryable: the rate window will pass.
 */
export class RateLimitedError extends DeepSecurityApiError {
  readonly retryable = true;
  override readonly name = 'RateLimitedError';

  constructor(
    readonly attempts: number,
    context: ApiErrorContext,
  ) {
    super(`rate limited (429 Too many API requests) after ${attempts} attempts`, context);
  }
}

/**
 * Thrown when the manager answered 5xx, did not answer within the request timeout, refused or
 * dropped the connection, or could not be resolved. Retryable: the manager may be back soon.
 */
export class TransientApiError extends DeepSecurityApiError {
  readonly retryable = true;
  override readonly name = 'TransientApiError';

  constructor(
    message: string,
    context: ApiErrorContext,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, context, options);
  }
}

/**
 * Thrown when the manager answered another 4xx (bad key, unknown id, invalid value…) or a 2xx
 * the adapter cannot understand. Not retryable: the same request would fail again. Carries the
 * HTTP status and the manager's own `message`.
 */
export class PermanentApiError extends DeepSecurityApiError {
  readonly retryable = false;
  override readonly name = 'PermanentApiError';

  constructor(
    readonly status: number,
    readonly managerMessage: string | undefined,
    context: ApiErrorContext,
    options?: { cause?: unknown },
  ) {
    super(`HTTP ${status}${managerMessage ? `: ${managerMessage}` : ''}`, context, options);
  }
}

/**
 * Thrown when the manager's TLS certificate cannot be verified against the configured caFile (or
 * the system CAs when none is configured). Not retryable: verification is never turned off; fix
 * caFile.
 */
export class UntrustedCertificateError extends DeepSecurityApiError {
  readonly retryable = false;
  override readonly name = 'UntrustedCertificateError';

  constructor(context: ApiErrorContext, code: string, options?: { cause?: unknown }) {
    super(
      `the manager's TLS certificate is not trusted (${code}); set caFile to the CA that signed it`,
      context,
      options,
    );
  }
}

/**
 * Thrown before any request when the adapter is misconfigured: the API key variable is unset or
 * the caFile cannot be read. Not retryable.
 */
export class ApiConfigurationError extends DeepSecurityApiError {
  readonly retryable = false;
  override readonly name = 'ApiConfigurationError';
}

/** True for errors worth retrying later (rate limits, 5xx, timeouts, connection failures). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof DeepSecurityApiError) return err.retryable;
  // Errors that crossed a serialisation boundary keep their name but not their class.
  return err instanceof Error && (err.name === 'RateLimitedError' || err.name === 'TransientApiError');
}

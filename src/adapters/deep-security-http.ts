/**
 * One JSON request to a Deep Security manager over node:https: the api-secret-key and api-version
 * headers, the configured CA (verification is never turned off), a deadline per request, and
 * exponential back-off on 429 as the vendor's samples do. Every failure becomes one of the error
 * classes in deep-security-errors.ts.
 */
import fs from 'node:fs';
import https from 'node:https';
import type { ManagerConfig } from '../domain/config';
import {
  ApiConfigurationError,
  PermanentApiError,
  RateLimitedError,
  TransientApiError,
  UntrustedCertificateError,
  type ApiErrorContext,
} from './deep-security-errors';

export interface DeepSecurityApiOptions {
  /** Retries after a 429 before RateLimitedError. Default 4. */
  rateLimitRetries?: number;
  /** First back-off delay after a 429; doubles each time. Default 1000 ms. */
  backoffBaseMs?: number;
  /** Longest single back-off delay. Default 30 000 ms. */
  backoffMaxMs?: number;
  /** Replaces the timer (tests). */
  sleep?: (ms: number) => Promise<void>;
}

type Normalised = Required<DeepSecurityApiOptions>;

function normalise(options: DeepSecurityApiOptions): Normalised {
  const out: Normalised = {
    rateLimitRetries: options.rateLimitRetries ?? 4,
    backoffBaseMs: options.backoffBaseMs ?? 1000,
    backoffMaxMs: options.backoffMaxMs ?? 30_000,
    sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
  };
  for (const name of ['rateLimitRetries', 'backoffBaseMs', 'backoffMaxMs'] as const) {
    const v = out[name];
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`option ${name} must be a non-negative integer, got ${String(v)}`);
  }
  return out;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'DELETE';
  /** Relative to the manager URL, e.g. /computers/21. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

// OpenSSL's verification failures and Node's host-name check: configuration problems, not outages.
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export type ManagerRequester = (spec: RequestSpec) => Promise<ApiResponse>;

export function createRequester(
  manager: ManagerConfig,
  /** The key `manager.apiKeyEnv` names, resolved at start (runtime/secrets.ts); undefined: every call fails saying so. */
  apiKey: string | undefined,
  options: DeepSecurityApiOptions = {},
): ManagerRequester {
  const opts = normalise(options);
  const base = new URL(manager.url);
  const basePath = base.pathname.replace(/\/+$/, '');
  let ca: Buffer | undefined;

  const trustedCa = (context: ApiErrorContext): Buffer | undefined => {
    if (!manager.caFile || ca) return ca;
    try {
      ca = fs.readFileSync(manager.caFile);
      return ca;
    } catch (err) {
      throw new ApiConfigurationError(`cannot read caFile ${manager.caFile}: ${(err as Error).message}`, context, {
        cause: err,
      });
    }
  };

  return async (spec) => {
    const url = new URL(basePath + spec.path, base);
    for (const [k, v] of Object.entries(spec.query ?? {})) url.searchParams.set(k, v);
    const context = { manager: manager.url, operation: `${spec.method} ${spec.path}` };
    const key = apiKey;
    if (!key) throw new ApiConfigurationError(`the API key variable ${manager.apiKeyEnv} is unset`, context);
    const caPem = trustedCa(context);
    for (let attempt = 0; ; attempt++) {
      const res = await send(url, spec, key, caPem, manager.requestTimeout, context);
      if (res.status !== 429) return check(res, context);
      if (attempt >= opts.rateLimitRetries) throw new RateLimitedError(attempt + 1, context);
      await opts.sleep(backoff(attempt, res, opts));
    }
  };
}

/** Doubling delays with a little jitter, so parallel workers do not retry in lockstep; Retry-After wins when longer. */
function backoff(attempt: number, res: ApiResponse, opts: Normalised): number {
  const exp = Math.min(opts.backoffMaxMs, opts.backoffBaseMs * 2 ** attempt);
  const retryAfter = Number(res.headers['retry-after']);
  const hinted = Number.isFinite(retryAfter) ? Math.min(opts.backoffMaxMs, retryAfter * 1000) : 0;
  return Math.max(hinted, Math.round(exp * (0.8 + Math.random() * 0.4)));
}

function check(res: ApiResponse, context: ApiErrorContext): ApiResponse {
  if (res.status >= 200 && res.status < 300) return res;
  const message = managerMessage(res.body);
  if (res.status >= 500)
    throw new TransientApiError(`HTTP ${res.status}${message ? `: ${message}` : ''}`, context, res.status);
  throw new PermanentApiError(res.status, message, context);
}

function managerMessage(body: unknown): string | undefined {
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  if (typeof body === 'string' && body.trim() !== '') return body.trim().slice(0, 300);
  return undefined;
}

function send(
  url: URL,
  spec: RequestSpec,
  key: string,
  ca: Buffer | undefined,
  timeoutMs: number,
  context: ApiErrorContext,
): Promise<ApiResponse> {
  const payload = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body));
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: spec.method,
        // Explicit, so NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment cannot switch it off.
        rejectUnauthorized: true,
        ...(ca ? { ca } : {}),
        headers: {
          'api-secret-key': key,
          'api-version': 'v1',
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => {
          clearTimeout(deadline);
          reject(failure(err, context));
        });
        res.on('end', () => {
          clearTimeout(deadline);
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          if (text.trim() === '') body = undefined;
          else if (/json/i.test(res.headers['content-type'] ?? '')) {
            try {
              body = JSON.parse(text);
            } catch (err) {
              if ((res.statusCode ?? 0) < 300) {
                reject(
                  new PermanentApiError(res.statusCode ?? 0, 'the response is not valid JSON', context, { cause: err }),
                );
                return;
              }
            }
          }
          resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        });
      },
    );
    const deadline = setTimeout(() => req.destroy(new RequestTimeout(timeoutMs)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(deadline);
      reject(failure(err, context));
    });
    req.end(payload);
  });
}

class RequestTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

function failure(err: Error, context: ApiErrorContext): Error {
  if (err instanceof RequestTimeout)
    return new TransientApiError(`timed out: ${err.message}`, context, undefined, { cause: err });
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (TLS_CODES.has(code)) return new UntrustedCertificateError(context, code, { cause: err });
  return new TransientApiError(`connection failed (${code || err.message})`, context, undefined, { cause: err });
}

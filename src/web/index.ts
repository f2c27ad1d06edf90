export { createApp, CONTENT_SECURITY_POLICY, WebConfigError } from './app';
export { serveApp, type RunningServer } from './serve';
export {
  authenticatorFromConfig,
  noAuth,
  sharedSecretAuth,
  WebAuthConfigError,
  type Authenticator,
  type AuthRuntime,
} from './auth';
export { WebError, type WebErrorKind } from './errors';
export type * from './deps';
export type { Identity, WebEnv } from './env';

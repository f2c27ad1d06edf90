// One ephemeral Temporal dev server serves the whole run (test/setup/global-setup.ts); workflow
// tests start real workers against it. Tests run one file at a time: the machine has two cores and the
// workflow tests share one server.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(ts|js)$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  // openid-client and the libraries it uses are ES modules only: compiled like our code so the
  // OIDC sign-in runs under jest's CommonJS loader (node loads them natively in production).
  transformIgnorePatterns: ['/node_modules/(?!(openid-client|oauth4webapi|jose)/)'],
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  setupFiles: ['<rootDir>/test/setup/quiet-runtime.ts'],
  testTimeout: 60_000,
  maxWorkers: 1,
  // Each test file runs in a fresh worker process (a limit every worker exceeds recycles it after
  // every file). A file that closes a Temporal client connection while one of its calls waits in
  // @temporalio/client's retry backoff leaves a timer that throws "Channel has been shut down" when
  // it fires; in one shared process that failed whichever file ran next (seen in CI once in three
  // full runs). Costs about half a second per file.
  workerIdleMemoryLimit: '1MB',
};

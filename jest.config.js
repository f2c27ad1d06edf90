// One ephemeral Temporal dev server serves the whole run (test/setup/global-setup.ts); workflow
// tests start real workers against it. Tests run in band: the machine has two cores and the
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
};

/** What global-setup shares with every test file. */
export const TEST_NAMESPACE = 'airgap-test';

export function testTemporalAddress(): string {
  const address = process.env.AIRGAP_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('AIRGAP_TEST_TEMPORAL_ADDRESS is unset: run the tests through jest (global setup)');
  return address;
}

export function testWorkflowBundlePath(): string {
  const p = process.env.AIRGAP_TEST_WORKFLOW_BUNDLE;
  if (!p) throw new Error('AIRGAP_TEST_WORKFLOW_BUNDLE is unset: run the tests through jest (global setup)');
  return p;
}

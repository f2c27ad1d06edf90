// Every workflow type the workers register, re-exported by name.
export { auditMaintenanceWorkflow } from './audit-maintenance';
export { cycleWorkflow } from './cycle';
export { siteLockWorkflow } from './site-lock';
export { upgradeRolloutWorkflow } from './upgrade-rollout';
export { upgradeVerifyWorkflow } from './upgrade-verify';
export { rulesTransferWorkflow } from './rules-transfer';
export { hardenWorkflow } from './harden';
export { isolatedDmzCycleWorkflow } from './isolated-dmz-cycle';
export { isolatedIntakeWorkflow } from './isolated-intake';

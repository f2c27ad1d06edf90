// Every workflow type the workers register, re-exported by name.
export { cycleWorkflow } from './cycle';
export { upgradeRolloutWorkflow } from './upgrade-rollout';
export { upgradeVerifyWorkflow } from './upgrade-verify';

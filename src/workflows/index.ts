// Every workflow type the workers register, re-exported by name.
export { cycleWorkflow } from './cycle';

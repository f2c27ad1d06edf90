// The Deep Security simulator, by name. See simulator.ts (start), control.ts (steering and the
// control endpoint), faults.ts (what can go wrong), courier.ts (the person carrying the zip).
export { startSimulator, SimulatorConfigError, type RunningSimulator, type SimulatorOptions } from './simulator';
export { ensureSimulatorKeys, MissingApiKeyError } from './keys';
export type { SimControl } from './control';
export type { SimFault } from './faults';
export type { ComponentSet } from './components';
export type { BundleRecord, RuleFileRecord, SimState, Side, UpdateStatus } from './state';
export type { RuleFileSummary } from './rule-files';
export { carryBundle, CourierError, type CarryInput, type CarryResult, type CourierMistake } from './courier';
export { SIM_OTHER_UPDATE_SOURCE_MODE, SIM_SMART_SCAN_OFF } from './manager-api';

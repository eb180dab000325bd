/** Public API of the simulated BS20 (tests, the no-charger demo, benchmarks). */
export type { CarOptions } from './car.js';
export type { ChargePhase } from './charge-point.js';
export { MIN_CURRENT_A, type SimConfig, type SimulatedBs20Options } from './options.js';
export type { SimSettings } from './requests.js';
export {
  type LoginPhase,
  type ReceivedFrame,
  SimulatedBs20,
  type SimulatedBs20Events,
  type SimulatorPeer,
} from './simulated-bs20.js';
export { createSimulatedTransport, SimulatedBleLink } from './simulated-link.js';
export type { SimulatedBs20State, SimulatedSessionState } from './state.js';

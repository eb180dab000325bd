/**
 * Builds one BS20 Charger from its config entry: the transport (Bluetooth or the built-in
 * simulator), the EVSE Master session on top, and the Charger the rest of the daemon sees, behind
 * the entry's switching rules (so Home Assistant, the planner and OCPP upstream all obey them).
 */
import type { BleConfig, Bs20ChargerConfig } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import { guardCharger } from '../core/switching-guard.js';
import { switchingRulesFrom } from '../core/switching-rules.js';
import type { Logger } from '../log.js';
import { Bs20Charger } from './charger.js';
import { EvseSession } from './session.js';
import { createSimulatedTransport, SimulatedBs20 } from './simulator/index.js';
import { BleTransport } from './transports/ble-transport.js';
import type { Transport } from './transports/transport.js';

export interface Bs20Build {
  /** Starts, stops and current changes go through the switching guard; the rest is the BS20's own. */
  charger: Bs20Charger;
  /** The simulated charger behind a `transport: simulated` entry, null for Bluetooth. */
  simulator: SimulatedBs20 | null;
}

export interface Bs20BuildDeps {
  ble: BleConfig;
  timeZone: string;
  clock: Clock;
  logger: Logger;
}

export function createBs20Charger(config: Bs20ChargerConfig, deps: Bs20BuildDeps): Bs20Build {
  const logger = deps.logger.child({ charger: config.id });
  let transport: Transport;
  let simulator: SimulatedBs20 | null = null;
  if (config.transport === 'simulated') {
    const sim = config.simulator;
    simulator = new SimulatedBs20({
      clock: deps.clock,
      timeZone: deps.timeZone,
      phases: sim.phases,
      hardwareMaxCurrentA: sim.hardwareMaxCurrent,
      pin: sim.pin ?? config.pin,
    });
    if (sim.car.pluggedAtStart)
      simulator.plugIn({ demandA: sim.car.demandA, batteryKwh: sim.car.batteryKwh });
    transport = createSimulatedTransport(simulator);
  } else {
    transport = new BleTransport({
      noblePackage: deps.ble.noblePackage,
      address: config.address,
      localName: config.bleName,
      scanTimeoutMs: deps.ble.scanTimeoutS * 1000,
      connectTimeoutMs: 30_000,
      rssiIntervalMs: 60_000,
      clock: deps.clock,
      logger,
    });
  }
  const session = new EvseSession({
    transport,
    pin: config.pin,
    clock: deps.clock,
    logger,
    timeZone: deps.timeZone,
    staleAfterMs: config.staleAfterS * 1000,
    reconnectMaxDelayMs: config.reconnectMaxDelayS * 1000,
  });
  const bs20 = new Bs20Charger({
    id: config.id,
    name: config.name ?? config.id,
    session,
    maxCurrentA: config.maxCurrent,
    phases: config.phases,
    timeZone: deps.timeZone,
    clock: deps.clock,
    logger: deps.logger,
  });
  const charger = guardCharger(bs20, switchingRulesFrom(config.switching), deps.clock, deps.logger);
  return { charger, simulator };
}

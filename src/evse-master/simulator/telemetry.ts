/**
 * Telemetry payloads of the simulated charger, built from the charge point's readings with the
 * codec's encoders: status 0x0004/0x000D (§4.4) and charging status 0x0005/0x0006 (§4.5).
 */
import { type ChargingStatusInput, encodeChargingStatus } from '../protocol/messages/charging-status.js';
import { encodeSingleAcStatus, type SingleAcStatusInput } from '../protocol/messages/status.js';
import type { ChargePoint } from './charge-point.js';
import type { SimConfig } from './options.js';

export function statusInput(cp: ChargePoint, config: SimConfig): SingleAcStatusInput {
  const currentA = cp.actualCurrentA();
  const voltageV = config.voltageV;
  const threePhase = config.phases === 3;
  const onePhaseW = voltageV * currentA;
  // Real 3-phase units put one phase's power in this field (§4.4); 'sum' is the tidy variant.
  const powerW = Math.round(threePhase && config.threePhasePowerField === 'sum' ? 3 * onePhaseW : onePhaseW);
  const errorWidthBits = config.statusPayloadBytes === 23 ? 16 : 32;
  const temperatureC = cp.temperatureC();
  return {
    lineId: 1,
    l1VoltageV: voltageV,
    l1CurrentA: currentA,
    l2VoltageV: threePhase ? voltageV : null,
    l2CurrentA: threePhase ? currentA : null,
    l3VoltageV: threePhase ? voltageV : null,
    l3CurrentA: threePhase ? currentA : null,
    powerW,
    energyTotalKwh: cp.energyRegister() / 100,
    innerTemperatureC: temperatureC,
    outerTemperatureC: temperatureC,
    emergencyButton: 1,
    plugState: cp.plugState(),
    outputState: cp.outputState(),
    currentState: cp.currentState(),
    // The 16-bit variant cannot carry codes 16–31.
    errorBits: errorWidthBits === 16 ? cp.errorBits & 0xffff : cp.errorBits,
    errorWidthBits,
  };
}

export const encodeStatusPayload = (cp: ChargePoint, config: SimConfig): Uint8Array =>
  encodeSingleAcStatus(statusInput(cp, config));

export function chargingStatusInput(cp: ChargePoint, nowMs: number): ChargingStatusInput {
  const s = cp.session;
  const register = cp.energyRegister();
  // Object literals without spread: this runs every few seconds for a week in the soak benchmark.
  if (!s) {
    return {
      lineId: 1,
      currentState: cp.currentState(),
      chargeId: '',
      startType: 0,
      chargeType: 0,
      maxDurationMinutes: null,
      maxEnergyKwh: null,
      param3: 0xffff,
      reservationTime: { raw: 0 },
      userId: '',
      currentLimitA: cp.configuredCurrentA,
      startTime: { raw: 0 },
      elapsedS: 0,
      // emproto: the start counter reads 0 once no session runs.
      energyCounterAtStartKwh: 0,
      energyCounterKwh: register / 100,
      sessionEnergyKwh: 0,
      price: 0,
      feeType: 0,
      fee: 0,
    };
  }
  const started = s.startedAtMs !== null;
  return {
    lineId: 1,
    currentState: cp.currentState(),
    chargeId: s.chargeId,
    startType: s.startType,
    chargeType: s.chargeType,
    maxDurationMinutes: s.maxDurationMinutes,
    maxEnergyKwh: s.maxEnergyKwh,
    param3: s.param3,
    reservationTime: { raw: s.reservationEm },
    userId: s.userId,
    currentLimitA: s.currentA,
    startTime: { raw: started ? s.startEm : 0 },
    elapsedS: s.startedAtMs === null ? 0 : Math.max(0, Math.floor((nowMs - s.startedAtMs) / 1000)),
    energyCounterAtStartKwh: started ? s.startRegister / 100 : 0,
    energyCounterKwh: register / 100,
    sessionEnergyKwh: started ? (register - s.startRegister) / 100 : 0,
    price: 0,
    feeType: 0,
    fee: 0,
  };
}

export const encodeChargingStatusPayload = (cp: ChargePoint, nowMs: number): Uint8Array =>
  encodeChargingStatus(chargingStatusInput(cp, nowMs));

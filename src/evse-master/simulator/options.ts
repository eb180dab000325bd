/**
 * Options of the simulated BS20 and their defaults. Defaults follow §3/§8 of the protocol notes
 * (UDP-measured cadences, BS20 device info from captures); every timing is configurable so tests and
 * the soak benchmark can use their own.
 */
import { type Clock, systemClock } from '../../core/clock.js';
import { pinToPassword, SERIAL_LENGTH, serialFromString } from '../protocol/frame.js';
import { NICKNAME_MAX_LENGTH, NICKNAME_PREFIX } from '../protocol/messages/settings.js';

export interface SimulatedBs20Options {
  /** 8 raw bytes, or the 16 digits users see (default "1122334455667788"). */
  serial?: Uint8Array | string;
  /** 6-digit PIN the client must send (default "123456"). */
  pin?: string;
  /** Advertised name, "ACP#" + nickname (default "ACP#EVSE0158"). */
  localName?: string;
  /** 1 → device type 1 (32 A), 3 → device type 12 (16 A), as in §4.3. */
  phases?: 1 | 3;
  /** Upper bound for set-current and charge start (default 32 for 1 phase, 16 for 3). */
  hardwareMaxCurrentA?: number;
  /** The configured max current (0x0107) at power-up (default the hardware max). */
  maxCurrentA?: number;
  /** Bytes per BLE notification; the outbound stream is cut at this size (default 100). */
  notificationSize?: number;
  /** First beacon after a client connects (default 700 ms, evseMQTT log). */
  firstBeaconDelayMs?: number;
  beaconIntervalMs?: number;
  headingIntervalMs?: number;
  statusIntervalMs?: number;
  chargingStatusIntervalMs?: number;
  /** No 0x8003 for this long → the session is dropped and beacons resume (default 30 s). */
  sessionDropAfterMs?: number;
  /** Q5: keep the app session when the BLE link drops (no beacon after reconnecting). */
  keepSessionAcrossReconnect?: boolean;
  /** Per-phase voltage (default 230 V). */
  voltageV?: number;
  clock?: Clock;
  /** IANA zone for EM timestamps (default the process's zone). */
  timeZone?: string;
  /** errorReason of a start refused after a finished session, until a stop is sent (default 8). */
  stopRefusalReason?: number;
  /** Status 0x0004 payload: 25 (1 phase, 32-bit errors), 23 (CDD board, 16-bit errors) or 33 (3 phase). */
  statusPayloadBytes?: 23 | 25 | 33;
  /** 3-phase power field holds one phase only on real units (§4.4); 'sum' reports Σ V·I. */
  threePhasePowerField?: 'one_phase' | 'sum';
  /** CDD boards may never answer 0x8106 (default true = answer). */
  answersVersion?: boolean;
  /** Push a 0x000A charge record after each session (default true). */
  chargeRecords?: boolean;
  /** Re-push an un-acked record this often; 0 = push once (default 3600 ms). */
  recordReplayIntervalMs?: number;
  /** A start whose param3 is not 0xFFFF stops by itself after this long (emproto4go; default 5 s). */
  param3StopAfterMs?: number;
  /** A nickname SET drops the link this long after the reply (Q12; default 500 ms). */
  nameChangeDropDelayMs?: number;
  /** Lifetime energy register at power-up (default 1234.56 kWh). */
  energyTotalKwh?: number;
  ambientTemperatureC?: number;
  /** The charger's own clock runs this far ahead of the injected clock (default 0). */
  deviceClockSkewMs?: number;
  /** Seed of the junk-byte generator, so fault injection is reproducible. */
  seed?: number;
  hardwareVersion?: string;
  softwareVersion?: string;
  /** How many received client frames `receivedFrames` keeps (default 1000). */
  receivedFramesLimit?: number;
}

export interface SimConfig {
  serial: Uint8Array;
  password: Uint8Array;
  localName: string;
  phases: 1 | 3;
  deviceType: number;
  hardwareMaxCurrentA: number;
  maxPowerW: number;
  maxCurrentA: number;
  notificationSize: number;
  firstBeaconDelayMs: number;
  beaconIntervalMs: number;
  headingIntervalMs: number;
  statusIntervalMs: number;
  chargingStatusIntervalMs: number;
  sessionDropAfterMs: number;
  keepSessionAcrossReconnect: boolean;
  voltageV: number;
  clock: Clock;
  timeZone: string | undefined;
  stopRefusalReason: number;
  statusPayloadBytes: 23 | 25 | 33;
  threePhasePowerField: 'one_phase' | 'sum';
  answersVersion: boolean;
  chargeRecords: boolean;
  recordReplayIntervalMs: number;
  param3StopAfterMs: number;
  nameChangeDropDelayMs: number;
  energyTotalKwh: number;
  ambientTemperatureC: number;
  deviceClockSkewMs: number;
  seed: number;
  hardwareVersion: string;
  softwareVersion: string;
  receivedFramesLimit: number;
}

/** Lowest current an EVSE may offer (IEC 61851). */
export const MIN_CURRENT_A = 6;

function positive(value: number, what: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${what} must be > 0, got ${value}`);
  return value;
}

function nonNegative(value: number, what: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${what} must be >= 0, got ${value}`);
  return value;
}

function integerIn(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer ${min}..${max}, got ${value}`);
  }
  return value;
}

/** Keeps the wire temperature (raw = °C × 100 + 20000, a u16) encodable with the charging rise on top. */
export function checkAmbientTemperature(celsius: number): number {
  if (!Number.isFinite(celsius) || celsius < -50 || celsius > 150) {
    throw new RangeError(`ambient temperature must be -50..150 °C, got ${celsius}`);
  }
  return celsius;
}

function toSerial(serial: Uint8Array | string): Uint8Array {
  if (typeof serial === 'string') return serialFromString(serial);
  if (serial.length !== SERIAL_LENGTH) throw new RangeError(`serial must be ${SERIAL_LENGTH} bytes`);
  return serial.slice();
}

/** Throws RangeError on options that make no sense, so a bad test setup fails loudly. */
export function resolveOptions(o: SimulatedBs20Options): SimConfig {
  const phases = o.phases ?? 1;
  if (phases !== 1 && phases !== 3) throw new RangeError(`phases must be 1 or 3, got ${phases}`);
  const hardwareMaxCurrentA = integerIn(
    o.hardwareMaxCurrentA ?? (phases === 3 ? 16 : 32),
    6,
    80,
    'hardwareMaxCurrentA',
  );
  const statusPayloadBytes = o.statusPayloadBytes ?? (phases === 3 ? 33 : 25);
  if (phases === 3 && statusPayloadBytes !== 33) throw new RangeError('a 3-phase status payload is 33 bytes');
  if (phases === 1 && statusPayloadBytes !== 23 && statusPayloadBytes !== 25) {
    throw new RangeError('a 1-phase status payload is 23 or 25 bytes');
  }
  const localName = o.localName ?? 'ACP#EVSE0158';
  const nickname = localName.slice(NICKNAME_PREFIX.length);
  if (!localName.startsWith(NICKNAME_PREFIX) || !/^[\x21-\x7e][\x20-\x7e]*$/.test(nickname)) {
    throw new RangeError(
      `localName must be ${NICKNAME_PREFIX} + a printable name, got ${JSON.stringify(localName)}`,
    );
  }
  if (nickname.length > NICKNAME_MAX_LENGTH) {
    throw new RangeError(
      `the name after ${NICKNAME_PREFIX} holds at most ${NICKNAME_MAX_LENGTH} characters (Q12)`,
    );
  }
  return {
    serial: toSerial(o.serial ?? '1122334455667788'),
    password: pinToPassword(o.pin ?? '123456'),
    localName,
    phases,
    deviceType: phases === 3 ? 12 : 1,
    hardwareMaxCurrentA,
    // 220 V × A × phases reproduces both captured values (7040 W, 10560 W).
    maxPowerW: 220 * hardwareMaxCurrentA * phases,
    maxCurrentA: integerIn(
      o.maxCurrentA ?? hardwareMaxCurrentA,
      MIN_CURRENT_A,
      hardwareMaxCurrentA,
      'maxCurrentA',
    ),
    notificationSize: integerIn(o.notificationSize ?? 100, 1, 512, 'notificationSize'),
    firstBeaconDelayMs: nonNegative(o.firstBeaconDelayMs ?? 700, 'firstBeaconDelayMs'),
    beaconIntervalMs: positive(o.beaconIntervalMs ?? 3000, 'beaconIntervalMs'),
    headingIntervalMs: positive(o.headingIntervalMs ?? 10_000, 'headingIntervalMs'),
    statusIntervalMs: positive(o.statusIntervalMs ?? 10_000, 'statusIntervalMs'),
    chargingStatusIntervalMs: positive(o.chargingStatusIntervalMs ?? 10_000, 'chargingStatusIntervalMs'),
    sessionDropAfterMs: positive(o.sessionDropAfterMs ?? 30_000, 'sessionDropAfterMs'),
    keepSessionAcrossReconnect: o.keepSessionAcrossReconnect ?? false,
    voltageV: positive(o.voltageV ?? 230, 'voltageV'),
    clock: o.clock ?? systemClock,
    timeZone: o.timeZone,
    stopRefusalReason: integerIn(o.stopRefusalReason ?? 8, 0, 255, 'stopRefusalReason'),
    statusPayloadBytes,
    threePhasePowerField: o.threePhasePowerField ?? 'one_phase',
    answersVersion: o.answersVersion ?? true,
    chargeRecords: o.chargeRecords ?? true,
    recordReplayIntervalMs: nonNegative(o.recordReplayIntervalMs ?? 3600, 'recordReplayIntervalMs'),
    param3StopAfterMs: nonNegative(o.param3StopAfterMs ?? 5000, 'param3StopAfterMs'),
    nameChangeDropDelayMs: nonNegative(o.nameChangeDropDelayMs ?? 500, 'nameChangeDropDelayMs'),
    energyTotalKwh: nonNegative(o.energyTotalKwh ?? 1234.56, 'energyTotalKwh'),
    ambientTemperatureC: checkAmbientTemperature(o.ambientTemperatureC ?? 25),
    deviceClockSkewMs: o.deviceClockSkewMs ?? 0,
    seed: o.seed ?? 1,
    hardwareVersion: o.hardwareVersion ?? 'C.3252.112A008',
    softwareVersion: o.softwareVersion ?? 'C.3252.112A008',
    receivedFramesLimit: integerIn(o.receivedFramesLimit ?? 1000, 0, 1_000_000, 'receivedFramesLimit'),
  };
}

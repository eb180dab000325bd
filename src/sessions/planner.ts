/**
 * The charge planner, pure: how many amps get a car from its current state of charge to a target by
 * a deadline, given the battery size, the phases, the voltage and the charging losses. Whole amps,
 * rounded up (the target must be met), within 6 A … the charger's ceiling; a target that even the
 * ceiling cannot reach is reported as such, with what it would reach.
 */
import { MIN_CHARGING_CURRENT_A } from '../core/charger.js';

export interface ChargePlanInput {
  /** Usable battery capacity. */
  batteryKwh: number;
  socNowPercent: number;
  socTargetPercent: number;
  deadlineMs: number;
  nowMs: number;
  phases: 1 | 3;
  /** Per phase (default 230 V). */
  voltageV?: number;
  /** Share of grid energy that ends up in the battery (default 0.9). */
  efficiency?: number;
  /** The charger's ceiling (min of hardware and configured limit). */
  maxCurrentA: number;
}

export type ChargePlanStatus = 'ok' | 'not_reachable' | 'already_reached' | 'deadline_passed';

export interface ChargePlan {
  status: ChargePlanStatus;
  /** Amps to set; null when there is nothing to do. At the ceiling when not reachable. */
  currentA: number | null;
  energyToBatteryKwh: number;
  energyFromGridKwh: number;
  hoursAvailable: number;
  /** Grid power at currentA. */
  powerW: number | null;
  /** When the target is reached at currentA (null: not by the deadline, or nothing to do). */
  finishesAt: number | null;
  /** State of charge at the deadline at currentA (capped at the target). */
  socAtDeadlinePercent: number;
  /** One sentence for a user. */
  message: string;
}

export const DEFAULT_VOLTAGE_V = 230;
export const DEFAULT_EFFICIENCY = 0.9;

function check(condition: boolean, message: string): void {
  if (!condition) throw new RangeError(message);
}

export function validatePlanInput(input: ChargePlanInput): void {
  const { batteryKwh, socNowPercent, socTargetPercent, phases, maxCurrentA } = input;
  const voltageV = input.voltageV ?? DEFAULT_VOLTAGE_V;
  const efficiency = input.efficiency ?? DEFAULT_EFFICIENCY;
  check(
    Number.isFinite(batteryKwh) && batteryKwh > 0 && batteryKwh <= 500,
    'battery capacity must be 0–500 kWh',
  );
  check(
    Number.isFinite(socNowPercent) && socNowPercent >= 0 && socNowPercent <= 100,
    'state of charge must be 0–100 %',
  );
  check(
    Number.isFinite(socTargetPercent) && socTargetPercent >= 0 && socTargetPercent <= 100,
    'target state of charge must be 0–100 %',
  );
  check(phases === 1 || phases === 3, 'phases must be 1 or 3');
  check(Number.isFinite(voltageV) && voltageV >= 100 && voltageV <= 480, 'voltage must be 100–480 V');
  check(
    Number.isFinite(efficiency) && efficiency > 0.5 && efficiency <= 1,
    'efficiency must be above 0.5 and at most 1',
  );
  check(
    Number.isFinite(maxCurrentA) && maxCurrentA >= MIN_CHARGING_CURRENT_A,
    `the charger ceiling must be at least ${MIN_CHARGING_CURRENT_A} A`,
  );
  check(Number.isFinite(input.deadlineMs) && Number.isFinite(input.nowMs), 'deadline must be a time');
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export function planCharge(input: ChargePlanInput): ChargePlan {
  validatePlanInput(input);
  const voltageV = input.voltageV ?? DEFAULT_VOLTAGE_V;
  const efficiency = input.efficiency ?? DEFAULT_EFFICIENCY;
  const ceilingA = Math.floor(input.maxCurrentA);
  const toBatteryKwh = Math.max(0, (input.batteryKwh * (input.socTargetPercent - input.socNowPercent)) / 100);
  const fromGridKwh = toBatteryKwh / efficiency;
  const hours = (input.deadlineMs - input.nowMs) / 3_600_000;
  const wattsPerAmp = input.phases * voltageV;
  const base = {
    energyToBatteryKwh: round(toBatteryKwh, 3),
    energyFromGridKwh: round(fromGridKwh, 3),
    hoursAvailable: round(Math.max(0, hours), 3),
  };
  if (toBatteryKwh === 0) {
    return {
      ...base,
      status: 'already_reached',
      currentA: null,
      powerW: null,
      finishesAt: null,
      socAtDeadlinePercent: input.socNowPercent,
      message: `the car is already at ${input.socNowPercent} %, at or above the ${input.socTargetPercent} % target`,
    };
  }
  if (hours <= 0) {
    return {
      ...base,
      status: 'deadline_passed',
      currentA: null,
      powerW: null,
      finishesAt: null,
      socAtDeadlinePercent: input.socNowPercent,
      message: 'the deadline has already passed',
    };
  }
  const neededA = (fromGridKwh * 1000) / hours / wattsPerAmp;
  // Whole amps, rounded up (a hair of float error must not add an amp).
  const wholeA = Math.ceil(neededA - 1e-9);
  const currentA = Math.min(ceilingA, Math.max(MIN_CHARGING_CURRENT_A, wholeA));
  const powerW = currentA * wattsPerAmp;
  const hoursToTarget = (fromGridKwh * 1000) / powerW;
  const reachable = wholeA <= ceilingA;
  const gainedPercent = ((powerW / 1000) * hours * efficiency * 100) / input.batteryKwh;
  const socAtDeadline = Math.min(input.socTargetPercent, input.socNowPercent + gainedPercent);
  return {
    ...base,
    status: reachable ? 'ok' : 'not_reachable',
    currentA,
    powerW,
    finishesAt: reachable ? Math.round(input.nowMs + hoursToTarget * 3_600_000) : null,
    socAtDeadlinePercent: round(socAtDeadline, 1),
    message: reachable
      ? `${currentA} A on ${input.phases} phase${input.phases === 1 ? '' : 's'} reaches ${input.socTargetPercent} % in time`
      : `not reachable: even ${ceilingA} A only reaches about ${round(socAtDeadline, 0)} % by the deadline (needs ${round(neededA, 1)} A)`,
  };
}

/**
 * The charge plan as Home Assistant sees it, pure: the inputs set in Home Assistant plus what the
 * charger itself says (phases, line voltage, current ceiling) go through the session planner, and
 * come out as the state keys the plan entities read. Incomplete inputs are a status, not an error.
 */
import type { Charger } from '../core/charger.js';
import {
  type ChargePlan,
  type ChargePlanStatus,
  DEFAULT_EFFICIENCY,
  DEFAULT_VOLTAGE_V,
  planCharge,
} from '../sessions/planner.js';

/** What the user set; null = not set yet. */
export interface ChargePlanInputs {
  batteryKwh: number | null;
  socNowPercent: number | null;
  socTargetPercent: number | null;
  /** Epoch ms. */
  deadlineAt: number | null;
}

export const EMPTY_PLAN_INPUTS: ChargePlanInputs = Object.freeze({
  batteryKwh: null,
  socNowPercent: null,
  socTargetPercent: null,
  deadlineAt: null,
});

/** What the plan takes from the charger. */
export interface PlanChargerFacts {
  phases: 1 | 3;
  /** Per phase. */
  voltageV: number;
  ceilingA: number;
}

export type PlanStatus = 'incomplete' | ChargePlanStatus;

export type PlanEvaluation =
  | { status: 'incomplete'; message: string; plan: null }
  | { status: ChargePlanStatus; message: string; plan: ChargePlan };

/** The plan's part of the charger state JSON (see state.ts). */
export interface PlanStateExtras {
  inputs: ChargePlanInputs;
  status: PlanStatus;
  message: string;
  currentA: number | null;
  energyToBatteryKwh: number | null;
  energyFromGridKwh: number | null;
  hoursAvailable: number | null;
  powerW: number | null;
  finishesAt: number | null;
  socAtDeadlinePercent: number | null;
}

/** Readings outside this band are a sensor glitch or a missing value, not the line voltage. */
const PLAUSIBLE_VOLTAGE_V = { min: 100, max: 480 };

/**
 * Phases from the charger's info; the voltage is the mean of what its state reports on those phases
 * (the planner's 230 V when it reports nothing usable, e.g. before the first status message).
 */
export function chargerFacts(
  charger: Pick<Charger, 'getInfo' | 'getState' | 'getCurrentCeilingA'>,
): PlanChargerFacts {
  const phases = charger.getInfo().phases;
  const readings = charger
    .getState()
    .phases.slice(0, phases)
    .map((p) => p.voltageV)
    .filter(
      (v): v is number =>
        v !== null && Number.isFinite(v) && v >= PLAUSIBLE_VOLTAGE_V.min && v <= PLAUSIBLE_VOLTAGE_V.max,
    );
  const voltageV =
    readings.length === 0 ? DEFAULT_VOLTAGE_V : readings.reduce((sum, v) => sum + v, 0) / readings.length;
  return { phases, voltageV, ceilingA: charger.getCurrentCeilingA() };
}

const INPUT_NAMES: Array<[keyof ChargePlanInputs, string]> = [
  ['batteryKwh', 'the battery capacity'],
  ['socNowPercent', 'the state of charge now'],
  ['socTargetPercent', 'the target state of charge'],
  ['deadlineAt', 'the deadline'],
];

export function missingInputs(inputs: ChargePlanInputs): string[] {
  return INPUT_NAMES.filter(([key]) => inputs[key] === null).map(([, name]) => name);
}

export function isComplete(inputs: ChargePlanInputs): boolean {
  return missingInputs(inputs).length === 0;
}

export function evaluatePlan(
  inputs: ChargePlanInputs,
  facts: PlanChargerFacts,
  nowMs: number,
): PlanEvaluation {
  const { batteryKwh, socNowPercent, socTargetPercent, deadlineAt } = inputs;
  if (batteryKwh === null || socNowPercent === null || socTargetPercent === null || deadlineAt === null) {
    return { status: 'incomplete', message: `set ${missingInputs(inputs).join(', ')}`, plan: null };
  }
  try {
    const plan = planCharge({
      batteryKwh,
      socNowPercent,
      socTargetPercent,
      deadlineMs: deadlineAt,
      nowMs,
      phases: facts.phases,
      voltageV: facts.voltageV,
      efficiency: DEFAULT_EFFICIENCY,
      maxCurrentA: facts.ceilingA,
    });
    return { status: plan.status, message: plan.message, plan };
  } catch (err) {
    // Inputs are validated on the way in, so this is the charger's side (e.g. no usable ceiling yet).
    return { status: 'incomplete', message: err instanceof Error ? err.message : String(err), plan: null };
  }
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export function planStateExtras(inputs: ChargePlanInputs, evaluation: PlanEvaluation): PlanStateExtras {
  const plan = evaluation.plan;
  return {
    inputs,
    status: evaluation.status,
    message: evaluation.message,
    currentA: plan?.currentA ?? null,
    energyToBatteryKwh: plan ? round(plan.energyToBatteryKwh, 2) : null,
    energyFromGridKwh: plan ? round(plan.energyFromGridKwh, 2) : null,
    // 0.01 h = 36 s: fine enough for a person, coarse enough not to change on every recomputation.
    hoursAvailable: plan ? round(plan.hoursAvailable, 2) : null,
    powerW: plan?.powerW ?? null,
    finishesAt: plan?.finishesAt ?? null,
    socAtDeadlinePercent: plan?.socAtDeadlinePercent ?? null,
  };
}

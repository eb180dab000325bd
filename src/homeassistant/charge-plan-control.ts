/**
 * One charger's charge plan while the daemon runs: takes the inputs from Home Assistant (kept in the
 * ChargePlanStore), evaluates the plan on demand against the charger as it is now, asks for a state
 * publish when the inputs change and, while the plan is complete, once a minute as the deadline
 * approaches (the publisher sends only what changed), and hands out the current to apply.
 */
import { type Charger, ChargerCommandError } from '../core/charger.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import {
  type ChargePlanInputs,
  chargerFacts,
  evaluatePlan,
  isComplete,
  type PlanEvaluation,
  type PlanStateExtras,
  planStateExtras,
} from './charge-plan.js';
import type { ChargePlanStore } from './charge-plan-store.js';

/** What the command runner needs from a charge plan. */
export interface PlanTarget {
  set(patch: Partial<ChargePlanInputs>): void;
  /** The whole amps an `ok` plan asks for; a ChargerCommandError with the reason otherwise. */
  plannedCurrentA(): number;
}

export interface ChargePlanControlOptions {
  charger: Charger;
  store: ChargePlanStore;
  clock: Clock;
  /** The plan's state may have changed: publish the charger state (only changes go out). */
  changed: () => void;
  /** Re-evaluation period while the plan is complete (default one minute). */
  tickMs?: number;
}

export class ChargePlanControl implements PlanTarget {
  private readonly o: ChargePlanControlOptions;
  private readonly tickMs: number;
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(options: ChargePlanControlOptions) {
    this.o = options;
    this.tickMs = options.tickMs ?? 60_000;
  }

  inputs(): ChargePlanInputs {
    return this.o.store.get(this.o.charger.id);
  }

  set(patch: Partial<ChargePlanInputs>): void {
    this.o.store.set(this.o.charger.id, { ...this.inputs(), ...patch });
    this.arm();
    this.o.changed();
  }

  evaluate(): PlanEvaluation {
    return evaluatePlan(this.inputs(), chargerFacts(this.o.charger), this.o.clock.now());
  }

  stateExtras(): PlanStateExtras {
    return planStateExtras(this.inputs(), this.evaluate());
  }

  plannedCurrentA(): number {
    const evaluation = this.evaluate();
    if (evaluation.status === 'ok' && evaluation.plan.currentA !== null) return evaluation.plan.currentA;
    const code = evaluation.status === 'incomplete' ? 'invalid' : 'rejected';
    throw new ChargerCommandError(code, `the charge plan cannot be applied: ${evaluation.message}`);
  }

  /** Start following time (after the store is loaded). */
  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Next re-evaluation: every tick while the deadline is ahead, the last one right at the deadline
   * (the status turns to deadline_passed). Nothing changes with time after that, or while incomplete.
   */
  private arm(): void {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running) return;
    const inputs = this.inputs();
    if (!isComplete(inputs) || inputs.deadlineAt === null) return;
    const untilDeadlineMs = inputs.deadlineAt - this.o.clock.now();
    // At the deadline itself the plan already reads deadline_passed: nothing left to follow.
    if (untilDeadlineMs <= 0) return;
    this.timer = this.o.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.o.changed();
        this.arm();
      },
      Math.min(this.tickMs, untilDeadlineMs),
    );
  }
}

/**
 * Carries out one validated command from Home Assistant on a Charger. Anything the charger cannot do
 * ends in a ChargerCommandError with a reason a user can read. Starts, stops and current changes go
 * through the charger's switching guard, whose outcome (done now, or held until a time) is returned.
 */
import {
  type Charger,
  ChargerCommandError,
  isClocked,
  isConfigurable,
  isRestartable,
} from '../core/charger.js';
import { requestCurrent, requestStart, requestStop } from '../core/switching-guard.js';
import type { SwitchOutcome } from '../core/switching-rules.js';
import type { PlanTarget } from './charge-plan-control.js';
import type { ChargerCommand } from './commands.js';
import type { NextSession } from './next-session.js';

function notSupported(charger: Charger, what: string): ChargerCommandError {
  return new ChargerCommandError('not_supported', `charger ${charger.id} cannot ${what}`);
}

/**
 * `plan` is null for chargers without a charge planner (no session tracker). Resolves with the
 * switching outcome for commands that start, stop or change the current, null for the others.
 */
export async function runCommand(
  charger: Charger,
  command: ChargerCommand,
  next: NextSession,
  nowMs: number,
  plan: PlanTarget | null = null,
): Promise<SwitchOutcome | null> {
  const planner = (): PlanTarget => {
    if (plan === null) throw notSupported(charger, 'plan a charge (the session tracker is not running)');
    return plan;
  };
  switch (command.key) {
    case 'charging':
      if (command.on) return requestStart(charger, next.startOptions());
      next.stopRequested();
      return requestStop(charger);
    case 'max_current':
      return requestCurrent(charger, command.amps);
    case 'user':
      next.selectUser(command.user);
      return null;
    case 'session_limit_energy':
      next.limitEnergyKwh = command.kwh;
      return null;
    case 'session_limit_minutes':
      next.limitMinutes = command.minutes;
      return null;
    case 'scheduled_start':
      if (command.at !== null && command.at <= nowMs) {
        // parseCommand lets a time up to a minute ago through (clock skew): that means "now".
        return requestStart(charger, next.startOptions());
      }
      if (command.at !== null) return requestStart(charger, { ...next.startOptions(), startAt: command.at });
      if (charger.getState().status === 'scheduled') {
        // Clearing the field cancels a pending reservation; with none pending there is nothing to do.
        next.stopRequested();
        return requestStop(charger);
      }
      return null;
    case 'name':
      if (!isConfigurable(charger)) throw notSupported(charger, 'be renamed');
      await charger.setName(command.name);
      return null;
    case 'language':
      if (!isConfigurable(charger)) throw notSupported(charger, 'change its language');
      await charger.setLanguage(command.language);
      return null;
    case 'temperature_unit':
      if (!isConfigurable(charger)) throw notSupported(charger, 'change its temperature unit');
      await charger.setTemperatureUnit(command.unit);
      return null;
    case 'sync_time':
      if (!isClocked(charger)) throw notSupported(charger, 'set its clock');
      await charger.syncClock();
      return null;
    case 'restart':
      if (!isRestartable(charger)) throw notSupported(charger, 'be restarted from here');
      await charger.restart();
      return null;
    case 'plan_battery_kwh':
      planner().set({ batteryKwh: command.kwh });
      return null;
    case 'plan_soc_now':
      planner().set({ socNowPercent: command.percent });
      return null;
    case 'plan_soc_target':
      planner().set({ socTargetPercent: command.percent });
      return null;
    case 'plan_deadline':
      planner().set({ deadlineAt: command.at });
      return null;
    case 'plan_apply':
      // The charger's own validation (6 A … ceiling) still applies: this is a normal current change.
      return requestCurrent(charger, planner().plannedCurrentA());
  }
}

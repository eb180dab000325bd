/**
 * Carries out one validated command from Home Assistant on a Charger. Anything the charger cannot do
 * ends in a ChargerCommandError with a reason a user can read.
 */
import {
  type Charger,
  ChargerCommandError,
  isClocked,
  isConfigurable,
  isRestartable,
} from '../core/charger.js';
import type { PlanTarget } from './charge-plan-control.js';
import type { ChargerCommand } from './commands.js';
import type { NextSession } from './next-session.js';

function notSupported(charger: Charger, what: string): ChargerCommandError {
  return new ChargerCommandError('not_supported', `charger ${charger.id} cannot ${what}`);
}

/** `plan` is null for chargers without a charge planner (no session tracker). */
export async function runCommand(
  charger: Charger,
  command: ChargerCommand,
  next: NextSession,
  nowMs: number,
  plan: PlanTarget | null = null,
): Promise<void> {
  const planner = (): PlanTarget => {
    if (plan === null) throw notSupported(charger, 'plan a charge (the session tracker is not running)');
    return plan;
  };
  switch (command.key) {
    case 'charging':
      if (command.on) {
        await charger.startCharging(next.startOptions());
      } else {
        next.stopRequested();
        await charger.stopCharging();
      }
      return;
    case 'max_current':
      await charger.setMaxCurrent(command.amps);
      return;
    case 'user':
      next.selectUser(command.user);
      return;
    case 'session_limit_energy':
      next.limitEnergyKwh = command.kwh;
      return;
    case 'session_limit_minutes':
      next.limitMinutes = command.minutes;
      return;
    case 'scheduled_start':
      if (command.at !== null && command.at <= nowMs) {
        // parseCommand lets a time up to a minute ago through (clock skew): that means "now".
        await charger.startCharging(next.startOptions());
      } else if (command.at !== null) {
        await charger.startCharging({ ...next.startOptions(), startAt: command.at });
      } else if (charger.getState().status === 'scheduled') {
        // Clearing the field cancels a pending reservation; with none pending there is nothing to do.
        next.stopRequested();
        await charger.stopCharging();
      }
      return;
    case 'name':
      if (!isConfigurable(charger)) throw notSupported(charger, 'be renamed');
      await charger.setName(command.name);
      return;
    case 'language':
      if (!isConfigurable(charger)) throw notSupported(charger, 'change its language');
      await charger.setLanguage(command.language);
      return;
    case 'temperature_unit':
      if (!isConfigurable(charger)) throw notSupported(charger, 'change its temperature unit');
      await charger.setTemperatureUnit(command.unit);
      return;
    case 'sync_time':
      if (!isClocked(charger)) throw notSupported(charger, 'set its clock');
      await charger.syncClock();
      return;
    case 'restart':
      if (!isRestartable(charger)) throw notSupported(charger, 'be restarted from here');
      await charger.restart();
      return;
    case 'plan_battery_kwh':
      planner().set({ batteryKwh: command.kwh });
      return;
    case 'plan_soc_now':
      planner().set({ socNowPercent: command.percent });
      return;
    case 'plan_soc_target':
      planner().set({ socTargetPercent: command.percent });
      return;
    case 'plan_deadline':
      planner().set({ deadlineAt: command.at });
      return;
    case 'plan_apply':
      // The charger's own validation (6 A … ceiling) still applies: this is a normal current change.
      await charger.setMaxCurrent(planner().plannedCurrentA());
      return;
  }
}

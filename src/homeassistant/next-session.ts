/**
 * What the next charging session of one charger starts with, as chosen in Home Assistant: the user it
 * is attributed to and the BS20's energy / time limits. The charger only learns them at the start
 * (0x8007 carries them), so until then they live here and in the state JSON the selects read.
 */
import type { StartChargingOptions } from '../core/charger.js';
import type { ChargerStateExtras } from './state.js';

export class NextSession {
  user: string | null = null;
  limitEnergyKwh: number | null = null;
  limitMinutes: number | null = null;

  /** Options for Charger.startCharging; unset values are left out so the charger's defaults apply. */
  startOptions(): StartChargingOptions {
    return {
      ...(this.user !== null ? { userId: this.user } : {}),
      ...(this.limitEnergyKwh !== null ? { limitEnergyKwh: this.limitEnergyKwh } : {}),
      ...(this.limitMinutes !== null ? { limitMinutes: this.limitMinutes } : {}),
    };
  }

  /** The state JSON keys the user select and the limit numbers read. */
  stateExtras(options: { users: readonly string[] | null; limits: boolean }): ChargerStateExtras {
    return {
      ...(options.users !== null ? { user: this.user, users: options.users } : {}),
      ...(options.limits ? { limits: { energyKwh: this.limitEnergyKwh, minutes: this.limitMinutes } } : {}),
    };
  }
}

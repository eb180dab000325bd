/**
 * What the next charging session of one charger starts with, as chosen in Home Assistant: the user it
 * is attributed to and the BS20's energy / time limits. The charger only learns them at the start
 * (0x8007 carries them), so until then they live here and in the state JSON the selects read.
 */
import type { StartChargingOptions } from '../core/charger.js';
import type { ChargerStateExtras } from './state.js';

/** How the session tracker follows what is chosen here (absent when sessions are not recorded). */
export interface SessionHooks {
  /** Who the next session is attributed to. */
  userSelected(user: string | null): void;
  /** A stop is on its way from Home Assistant: the session's stop reason is `remote`. */
  stopRequested(): void;
  /** What the charger's own user field gets for this user (BS20 `bs20_user_id`), or null for the name. */
  chargerUserId(user: string): string | null;
}

export class NextSession {
  user: string | null = null;
  limitEnergyKwh: number | null = null;
  limitMinutes: number | null = null;

  constructor(private readonly hooks: SessionHooks | null = null) {}

  selectUser(user: string | null): void {
    this.user = user;
    this.hooks?.userSelected(user);
  }

  stopRequested(): void {
    this.hooks?.stopRequested();
  }

  /** Options for Charger.startCharging; unset values are left out so the charger's defaults apply. */
  startOptions(): StartChargingOptions {
    const userId = this.user === null ? null : (this.hooks?.chargerUserId(this.user) ?? this.user);
    return {
      ...(userId !== null ? { userId } : {}),
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

/**
 * The contactor rules every charger obeys, whoever asks (Home Assistant, an automation, OCPP, the
 * planner): how soon a charger may switch on again, and how often its current may change. This
 * file holds the rules and their arithmetic; switching-guard.ts applies them to a Charger.
 *
 * Why these rules: each start and stop closes or opens the charger's contactor (and the car's own
 * relays and on-board charger follow). Contactors are rated for a finite number of operations and
 * wear most when switched in quick succession; cars also dislike a pilot signal that flaps. A stop
 * is the safe direction, and the car can end a charge by itself at any moment anyway, so a stop is
 * never held back. What is limited is the next start: that alone bounds the cycles.
 */

export interface SwitchingRules {
  /** After the charger switched off, a start waits at least this long. 0 turns the rule off. */
  minOffMs: number;
  /**
   * A session stopped sooner than this after it began adds the missing time to the pause that
   * follows: one start per min_on + min_off at most, without ever delaying a stop. 0 turns it off.
   */
  minOnMs: number;
  /** setMaxCurrent calls closer together than this become one command with the last value. 0: none. */
  currentSettleMs: number;
}

/**
 * 60 s off: long enough that an automation flapping on a threshold gives the contactor a rest and
 * the car time to settle its own relays, short enough that a user who turns charging back on waits
 * one minute (two right after a short session). 60 s on: a cycle (start to next start) takes at
 * least two minutes, 30 an hour at worst instead of the hundreds a loop can send. evcc used to hold
 * its loadpoints to a `guardduration` ("switch charger contactor not more often than this") of
 * 10 minutes by default; chargebridge also serves explicit user commands, hence shorter.
 * 2 s for the current: one frame per slider drag or per solar-controller burst; the BS20 needs a
 * Bluetooth round trip per change and OCPP stations a SetChargingProfile each.
 */
export const DEFAULT_SWITCHING_RULES: Readonly<SwitchingRules> = {
  minOffMs: 60_000,
  minOnMs: 60_000,
  currentSettleMs: 2_000,
};

/** The configuration's `switching:` block (camelCase), every key optional. */
export interface SwitchingSettings {
  minOffS?: number;
  minOnS?: number;
  currentSettleMs?: number;
}

export function switchingRulesFrom(settings: SwitchingSettings | undefined): SwitchingRules {
  return {
    minOffMs: (settings?.minOffS ?? DEFAULT_SWITCHING_RULES.minOffMs / 1000) * 1000,
    minOnMs: (settings?.minOnS ?? DEFAULT_SWITCHING_RULES.minOnMs / 1000) * 1000,
    currentSettleMs: settings?.currentSettleMs ?? DEFAULT_SWITCHING_RULES.currentSettleMs,
  };
}

/** When the charger last switched on and off (observed or commanded), epoch ms; null = not seen. */
export interface SwitchHistory {
  onAt: number | null;
  offAt: number | null;
}

/**
 * The earliest moment a start may reach the charger: min_off after the last stop, and
 * min_on + min_off after the start before it. null: at once (no stop seen yet).
 */
export function startAllowedAt(history: SwitchHistory, rules: SwitchingRules): number | null {
  const { onAt, offAt } = history;
  if (offAt === null) return null;
  const afterStop = offAt + rules.minOffMs;
  // Only the start that this stop ended counts; a newer start means the charger is on again.
  if (onAt === null || onAt > offAt) return afterStop;
  return Math.max(afterStop, onAt + rules.minOnMs + rules.minOffMs);
}

/** Why a start is held, in words a user reads next to the time it will happen. */
export function startHoldReason(rules: SwitchingRules): string {
  const s = (ms: number) => `${Math.round(ms / 1000)} s`;
  const cycle =
    rules.minOnMs > 0 ? ` and ${s(rules.minOnMs + rules.minOffMs)} after it last switched on` : '';
  return `contactor protection: a start waits ${s(rules.minOffMs)} after the charger switched off${cycle}; the latest ON/OFF wins`;
}

export function currentHoldReason(rules: SwitchingRules): string {
  return `current changes are merged: at most one every ${rules.currentSettleMs / 1000} s, the latest value wins`;
}

/** What became of a command the guard held, once its window opened. */
export type HeldResult =
  /** Carried out when the window opened. */
  | { kind: 'applied' }
  /** Nothing to do by then: the charger was already as asked (it started by itself, or same current). */
  | { kind: 'unneeded' }
  /** A newer command of the same kind took its place; that one reports. */
  | { kind: 'replaced' }
  /** A stop came after it, or the charger was closed. */
  | { kind: 'cancelled'; reason: string }
  /** The charger refused or could not be reached when the window opened. */
  | { kind: 'failed'; error: string };

/** What a start, stop or current command did now. Errors still reject (ChargerCommandError). */
export type SwitchOutcome =
  /** Sent to the charger, which accepted it. */
  | { kind: 'applied' }
  /** Held; the latest intent of its kind is carried out at `until` (epoch ms). */
  | { kind: 'deferred'; until: number; reason: string; settled: Promise<HeldResult> }
  /** A stop that only withdrew a held start: the charger is off, nothing was sent. */
  | { kind: 'withdrawn'; reason: string };

export const APPLIED: SwitchOutcome = { kind: 'applied' };

/**
 * What one charger can do, as far as Home Assistant entities are concerned. The entity table picks
 * its rows with these flags, so an OCPP station or a single-phase unit only gets what it supports.
 */
import type { ChargerKind } from '../core/charger.js';

export interface ChargerCapabilities {
  kind: ChargerKind;
  phases: 1 | 3;
  /** Upper bound of the max-current control: min(hardware limit, configured ceiling), amps. */
  maxCurrentA: number;
  /** Name, language and temperature unit can be set (BS20). */
  configurable: boolean;
  /** The charger's clock can be set (sync_time button). */
  clock: boolean;
  /** The charger can be restarted from here (OCPP Reset). */
  restart: boolean;
  /** Delayed / scheduled start (BS20 reservation). */
  scheduling: boolean;
  /** Per-session energy and time limits at start (BS20). */
  sessionLimits: boolean;
  /** Inner / outer temperature readings. */
  temperatures: boolean;
  /** Radio link quality (BLE RSSI). */
  rssi: boolean;
  /** BS20 plug / output / current-state codes. */
  bs20Codes: boolean;
  /** OCPP connector status. */
  ocppStatus: boolean;
  /** The session tracker runs for this charger (session_* sensors, totals, events). */
  sessions: boolean;
  /** Configured users; a `user` select appears when there is at least one and sessions run. */
  users: string[];
  /** Tariff currency (ISO 4217); cost sensors appear only when set and sessions run. */
  currency: string | null;
}

export interface CapabilityInput {
  kind: ChargerKind;
  phases: 1 | 3;
  maxCurrentA: number;
  /** From `isConfigurable(charger)`. */
  configurable: boolean;
  /** From `isClocked(charger)`. */
  clock: boolean;
  restart?: boolean;
  sessions?: boolean;
  users?: readonly string[];
  currency?: string | null;
}

/** Fills in what follows from the kind of charger; callers only pass what they know at run time. */
export function describeCapabilities(input: CapabilityInput): ChargerCapabilities {
  const bs20 = input.kind === 'bs20';
  return {
    kind: input.kind,
    phases: input.phases,
    maxCurrentA: input.maxCurrentA,
    configurable: input.configurable,
    clock: input.clock,
    restart: input.restart ?? !bs20,
    scheduling: bs20,
    sessionLimits: bs20,
    temperatures: bs20,
    rssi: bs20,
    bs20Codes: bs20,
    ocppStatus: !bs20,
    sessions: input.sessions ?? false,
    users: [...(input.users ?? [])],
    currency: input.currency ?? null,
  };
}

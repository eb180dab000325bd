/**
 * Charger happenings for Home Assistant's event entity and device triggers, published (not
 * retained) on `<base>/<charger>/event` as `{"event_type": …, "at": …, …data}`.
 */
import type { ChargerEvent } from '../core/charger.js';
import type { ChargerCapabilities } from './capabilities.js';
import { formatLocalIso } from './local-time.js';

/** Event types from the charger itself, with the device-trigger subtype they are grouped under. */
export const CHARGER_EVENT_TYPES = {
  plugged: 'plug',
  unplugged: 'plug',
  charging_started: 'charging',
  charging_stopped: 'charging',
  error_raised: 'error',
  error_cleared: 'error',
  rfid: 'rfid',
} as const;

/** Event types the session tracker publishes. */
export const SESSION_EVENT_TYPES = {
  session_started: 'session',
  session_completed: 'session',
} as const;

export type HaEventType = keyof typeof CHARGER_EVENT_TYPES | keyof typeof SESSION_EVENT_TYPES;

/** The event types (and their trigger subtypes) one charger publishes, in a fixed order. */
export function eventTypesFor(caps: ChargerCapabilities): Array<{ type: HaEventType; subtype: string }> {
  const all: Array<[HaEventType, string]> = [
    ...Object.entries(CHARGER_EVENT_TYPES),
    ...(caps.sessions ? Object.entries(SESSION_EVENT_TYPES) : []),
  ] as Array<[HaEventType, string]>;
  return all.map(([type, subtype]) => ({ type, subtype }));
}

function isHaEventType(type: string): type is HaEventType {
  return Object.hasOwn(CHARGER_EVENT_TYPES, type) || Object.hasOwn(SESSION_EVENT_TYPES, type);
}

/**
 * The payload for a charger or session event, or null for types HA does not show as events
 * (link changes are availability, not events).
 */
export function eventToJson(
  event: Pick<ChargerEvent, 'at' | 'data'> & { type: string },
): Record<string, unknown> | null {
  if (!isHaEventType(event.type)) return null;
  const payload: Record<string, unknown> = { event_type: event.type, at: formatLocalIso(event.at) };
  for (const key of Object.keys(event.data ?? {}).sort()) {
    if (key !== 'event_type' && key !== 'at') payload[key] = event.data?.[key];
  }
  return payload;
}

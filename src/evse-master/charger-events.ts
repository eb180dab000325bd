/**
 * Discrete events (plugged, charging started, error raised…) derived from two consecutive states,
 * so every kind of charger reports them the same way. Pure.
 */
import type { ChargerEvent, ChargerState } from '../core/charger.js';

export function diffEvents(previous: ChargerState, next: ChargerState, at: number): ChargerEvent[] {
  const events: ChargerEvent[] = [];
  if (previous.link !== next.link) {
    if (next.link === 'online') events.push({ type: 'link_up', at });
    else if (previous.link === 'online') events.push({ type: 'link_lost', at, data: { link: next.link } });
    if (next.link === 'auth_failed') events.push({ type: 'auth_failed', at });
  }
  // Telemetry is only meaningful while the link is up; a drop must not look like an unplug.
  if (next.link !== 'online') return events;
  if (!previous.plugged && next.plugged) events.push({ type: 'plugged', at });
  if (previous.plugged && !next.plugged) events.push({ type: 'unplugged', at });
  if (!previous.charging && next.charging) events.push({ type: 'charging_started', at });
  if (previous.charging && !next.charging) events.push({ type: 'charging_stopped', at });
  for (const error of next.errors) {
    if (!previous.errors.includes(error)) events.push({ type: 'error_raised', at, data: { error } });
  }
  for (const error of previous.errors) {
    if (!next.errors.includes(error)) events.push({ type: 'error_cleared', at, data: { error } });
  }
  return events;
}

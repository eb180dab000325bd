/**
 * The outside view of a session: snake_case JSON with local times (configured zone, with offset), as
 * used by bridge responses, the JSON export and the session events Home Assistant automations read.
 */

import { formatZonedIso } from '../core/zoned-time.js';
import type { SessionRecord } from './record.js';

export function durationSOf(record: SessionRecord, nowMs?: number): number | null {
  const end = record.endedAt ?? nowMs;
  return end === undefined ? null : Math.max(0, Math.round((end - record.startedAt) / 1000));
}

export function sessionToJson(
  record: SessionRecord,
  timeZone: string,
  nowMs?: number,
): Record<string, unknown> {
  const cost = record.cost;
  return {
    id: record.id,
    charger: record.chargerId,
    charger_session_id: record.chargerSessionId,
    open: record.endedAt === null,
    started_at: formatZonedIso(record.startedAt, timeZone),
    ended_at: record.endedAt === null ? null : formatZonedIso(record.endedAt, timeZone),
    duration_s: durationSOf(record, nowMs),
    energy_kwh: record.energyKwh,
    meter_start_kwh: record.meterStartKwh,
    meter_stop_kwh: record.meterStopKwh,
    peak_power_w: record.peakPowerW,
    max_current_a: record.maxCurrentA,
    user: record.user,
    user_source: record.userSource,
    id_tag: record.idTag,
    id_tag_known: record.idTagKnown,
    stop_reason: record.stopReason,
    cost: cost?.total ?? null,
    currency: cost?.currency ?? null,
    fee: cost?.fee ?? null,
    cost_by_window:
      cost?.byWindow.map((w) => ({
        window: w.window,
        energy_kwh: w.energyKwh,
        price_per_kwh: w.pricePerKwh,
        cost: w.cost,
      })) ?? [],
    notes: record.notes.map((n) => ({ at: formatZonedIso(n.at, timeZone), text: n.text })),
    pauses: pausesToJson(record, timeZone),
  };
}

/** Spells without energy inside the session; `to` null for one still going on. */
function pausesToJson(record: SessionRecord, timeZone: string): Array<Record<string, unknown>> {
  return (record.pauses ?? []).map((p) => ({
    from: formatZonedIso(p.from, timeZone),
    to: p.to === null ? null : formatZonedIso(p.to, timeZone),
    reason: p.reason,
  }));
}

/** Data of the `session_started` / `session_completed` events (bridge/event and the HA event entity). */
export function sessionEventData(
  record: SessionRecord,
  timeZone: string,
  nowMs?: number,
  liveCost?: number | null,
): Record<string, unknown> {
  return {
    session_id: record.id,
    user: record.user,
    id_tag: record.idTag,
    id_tag_known: record.idTagKnown,
    started_at: formatZonedIso(record.startedAt, timeZone),
    ended_at: record.endedAt === null ? null : formatZonedIso(record.endedAt, timeZone),
    duration_s: durationSOf(record, nowMs),
    energy_kwh: record.energyKwh,
    cost: record.cost?.total ?? liveCost ?? null,
    currency: record.cost?.currency ?? null,
    stop_reason: record.stopReason,
    pauses: pausesToJson(record, timeZone),
  };
}

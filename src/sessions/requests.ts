/**
 * Bridge requests for sessions (`<base>/bridge/request/<name>`): `sessions/list`, `sessions/export`,
 * `session/note` and `charge_plan`. Payloads are validated with strict zod schemas (BridgeApi turns
 * a rejection into an error response); handlers throw readable errors and never touch the charger
 * unless asked to (`charge_plan` with `apply: true`).
 */
import { z } from 'zod';
import type { Charger } from '../core/charger.js';
import { type Clock, systemClock } from '../core/clock.js';
import { requestCurrent } from '../core/switching-guard.js';
import { formatZonedIso, parseLocalDateTime } from '../core/zoned-time.js';
import type { BridgeApi } from '../mqtt/bridge-api.js';
import { sessionsToCsv, sessionsToJson } from './export.js';
import { type ChargePlan, DEFAULT_EFFICIENCY, DEFAULT_VOLTAGE_V, planCharge } from './planner.js';
import type { SessionRecord } from './record.js';
import { sessionToJson } from './session-json.js';
import { NOTE_MAX_LENGTH, type SessionFilter, type SessionStore } from './store.js';

export const LIST_LIMIT_MAX = 1000;

export interface SessionRequestDeps {
  store: SessionStore;
  /** The configured zone (months, local times, `HH:MM` deadlines). */
  timeZone: string;
  /** For charge_plan (phases, ceiling, apply). */
  chargers?: readonly Charger[];
  /** Live view of open sessions (energy so far); without it the store's last saved copy is used. */
  currentSession?: (chargerId: string) => SessionRecord | null;
  clock?: Clock;
}

const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, { error: 'month must be YYYY-MM, e.g. 2026-01' });
const name = (what: string) =>
  z
    .string()
    .min(1, { error: `${what} must not be empty` })
    .max(64);

const filterShape = {
  charger: name('charger').optional(),
  /** null = sessions without a user. */
  user: name('user').nullable().optional(),
  month: month.optional(),
};

export const listRequestSchema = z.strictObject({
  ...filterShape,
  limit: z.int().min(1).max(LIST_LIMIT_MAX).default(100),
  offset: z.int().min(0).default(0),
  include_open: z.boolean().default(true),
});

export const exportRequestSchema = z.strictObject({
  ...filterShape,
  format: z.enum(['csv', 'json']).default('csv'),
});

export const noteRequestSchema = z.strictObject({
  id: z.string().min(1).max(128),
  text: z
    .string()
    .min(1, { error: 'text must not be empty' })
    .max(NOTE_MAX_LENGTH, { error: `text is at most ${NOTE_MAX_LENGTH} characters` }),
});

export const chargePlanRequestSchema = z.strictObject({
  charger: name('charger'),
  battery_kwh: z.number().positive().max(500),
  soc_percent: z.number().min(0).max(100),
  target_soc_percent: z.number().min(0).max(100),
  /** ISO 8601 with offset, `YYYY-MM-DD HH:MM` (local) or `HH:MM` (next occurrence). */
  deadline: z.string().min(4).max(40),
  phases: z.union([z.literal(1), z.literal(3)]).optional(),
  voltage_v: z.number().min(100).max(480).default(DEFAULT_VOLTAGE_V),
  efficiency: z.number().gt(0.5).max(1).default(DEFAULT_EFFICIENCY),
  apply: z.boolean().default(false),
});

function filterOf(payload: { charger?: string; user?: string | null; month?: string }): SessionFilter {
  return {
    ...(payload.charger !== undefined ? { chargerId: payload.charger } : {}),
    ...(payload.user !== undefined ? { user: payload.user } : {}),
    ...(payload.month !== undefined ? { month: payload.month } : {}),
  };
}

function shownFilters(payload: {
  charger?: string;
  user?: string | null;
  month?: string;
}): Record<string, string> {
  const out: Record<string, string> = {};
  if (payload.charger !== undefined) out.charger = payload.charger;
  if (payload.user !== undefined) out.user = payload.user ?? '(unassigned)';
  if (payload.month !== undefined) out.month = payload.month;
  return out;
}

/** The JSON of a charge plan, snake_case with local times. */
export function chargePlanToJson(plan: ChargePlan, timeZone: string): Record<string, unknown> {
  return {
    status: plan.status,
    current_a: plan.currentA,
    energy_to_battery_kwh: plan.energyToBatteryKwh,
    energy_from_grid_kwh: plan.energyFromGridKwh,
    hours_available: plan.hoursAvailable,
    power_w: plan.powerW,
    finishes_at: plan.finishesAt === null ? null : formatZonedIso(plan.finishesAt, timeZone),
    soc_at_deadline_percent: plan.socAtDeadlinePercent,
    message: plan.message,
  };
}

export function registerSessionRequests(api: Pick<BridgeApi, 'register'>, deps: SessionRequestDeps): void {
  const { store, timeZone } = deps;
  const clock = deps.clock ?? systemClock;
  // Looked up on each request: chargers can join while running (OCPP stations accepted by policy).
  const chargers = deps.chargers ?? [];
  const openSessions = (filter: SessionFilter): SessionRecord[] =>
    store
      .openSessions()
      .map((r) => deps.currentSession?.(r.chargerId) ?? r)
      .filter(
        (r) =>
          (filter.chargerId === undefined || r.chargerId === filter.chargerId) &&
          (filter.user === undefined || r.user === filter.user) &&
          (filter.month === undefined || formatZonedIso(r.startedAt, timeZone).slice(0, 7) === filter.month),
      );

  api.register('sessions/list', listRequestSchema, (payload) => {
    const filter = filterOf(payload);
    const closed = store.query(filter);
    // Newest first: what a user looking at a list wants to see.
    const page = closed
      .slice(
        Math.max(0, closed.length - payload.offset - payload.limit),
        Math.max(0, closed.length - payload.offset),
      )
      .reverse();
    const now = clock.now();
    return {
      total: closed.length,
      offset: payload.offset,
      limit: payload.limit,
      sessions: page.map((r) => sessionToJson(r, timeZone)),
      open: payload.include_open ? openSessions(filter).map((r) => sessionToJson(r, timeZone, now)) : [],
    };
  });

  api.register('sessions/export', exportRequestSchema, (payload) => {
    const records = store.query(filterOf(payload));
    const suffix = [payload.month, payload.charger, payload.user ?? undefined].filter(Boolean).join('-');
    const filename = `chargebridge-sessions${suffix ? `-${suffix.replace(/[^A-Za-z0-9_.-]/g, '_')}` : ''}.${payload.format}`;
    if (payload.format === 'csv') {
      return { format: 'csv', filename, sessions: records.length, content: sessionsToCsv(records, timeZone) };
    }
    return {
      format: 'json',
      filename,
      sessions: records.length,
      content: sessionsToJson(records, { timeZone, nowMs: clock.now(), filters: shownFilters(payload) }),
    };
  });

  api.register('session/note', noteRequestSchema, async (payload) => {
    const { note, result } = await store.addNote(payload.id, payload.text, clock.now());
    return {
      id: payload.id,
      note: { at: formatZonedIso(note.at, timeZone), text: note.text },
      saved: result.saved,
      ...(result.saved ? {} : { warning: `kept in memory only: ${result.error}` }),
    };
  });

  api.register('charge_plan', chargePlanRequestSchema, async (payload) => {
    const charger = chargers.find((c) => c.id === payload.charger);
    if (!charger) {
      throw new Error(
        `unknown charger ${JSON.stringify(payload.charger)}; known: ${chargers.map((c) => c.id).join(', ') || 'none'}`,
      );
    }
    const now = clock.now();
    const deadlineMs = parseLocalDateTime(payload.deadline, now, timeZone);
    if (deadlineMs === null) {
      throw new Error(
        `deadline must be a time like "07:30", "2026-01-16 07:30" or "2026-01-16T07:30:00+01:00"; got ${JSON.stringify(payload.deadline)}`,
      );
    }
    const plan = planCharge({
      batteryKwh: payload.battery_kwh,
      socNowPercent: payload.soc_percent,
      socTargetPercent: payload.target_soc_percent,
      deadlineMs,
      nowMs: now,
      phases: payload.phases ?? charger.getInfo().phases,
      voltageV: payload.voltage_v,
      efficiency: payload.efficiency,
      maxCurrentA: charger.getCurrentCeilingA(),
    });
    let applied = false;
    let deferredUntil: number | null = null;
    if (payload.apply && plan.currentA !== null) {
      // The switching rules may merge it with a change made just before: then it is sent a bit later.
      const outcome = await requestCurrent(charger, plan.currentA);
      applied = outcome.kind === 'applied';
      if (outcome.kind === 'deferred') deferredUntil = outcome.until;
    }
    return {
      charger: charger.id,
      deadline: formatZonedIso(deadlineMs, timeZone),
      ...chargePlanToJson(plan, timeZone),
      applied,
      ...(deferredUntil === null ? {} : { deferred_until: formatZonedIso(deferredUntil, timeZone) }),
    };
  });
}

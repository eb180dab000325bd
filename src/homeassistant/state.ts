/**
 * The retained JSON on `<base>/<charger>` that every entity's value_template reads. Flat snake_case
 * keys with units in the names, every key always present (null when unknown) so a template never
 * hits an undefined key, and a fixed key order so unchanged state gives an identical string.
 */
import type { ChargerState, ChargerStatus } from '../core/charger.js';
import type { PlanStateExtras } from './charge-plan.js';
import {
  type MappedCode,
  mapChargerState,
  mapOcppStatus,
  mapOutputState,
  mapPlugState,
  normaliseLanguage,
  RAW_KEYS,
} from './enums.js';
import { formatLocalIso } from './local-time.js';

/** What the session tracker and store know that the charger itself does not. */
export interface ChargerStateExtras {
  /** The tracker's view of the current (or last) session; wins over the charger's own counters. */
  session?: {
    energyKwh: number | null;
    durationS: number | null;
    startedAt: number | null;
    userId: string | null;
    cost: number | null;
  } | null;
  /** Who the next session will be attributed to. */
  user?: string | null;
  /** Configured users; a `user` outside this list is published as null (the select rejects it). */
  users?: readonly string[];
  /** Limits the next session will start with (null = no limit). */
  limits?: { energyKwh: number | null; minutes: number | null };
  totals?: { energyTodayKwh: number | null; energyMonthKwh: number | null; costMonth: number | null };
  /** The charge plan's inputs and result (absent: no planner for this charger, all keys null). */
  plan?: PlanStateExtras;
}

/** HA's state string limit. */
const MAX_STATE_LENGTH = 255;

/** Statuses in which the charging switch reads ON: a session is open or about to start. */
const SWITCH_ON_STATUSES: readonly ChargerStatus[] = ['charging', 'suspended', 'scheduled'];

function round(value: number | null | undefined, decimals: number): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const factor = 10 ** decimals;
  const rounded = Math.round(value * factor) / factor;
  return Object.is(rounded, -0) ? 0 : rounded;
}

/** Lifetime register: unknown stays null (never 0, which would be a huge negative step in Energy). */
function lifetimeKwh(value: number | null): number | null {
  const rounded = round(value, 3);
  return rounded !== null && rounded >= 0 ? rounded : null;
}

function errorText(errors: readonly string[]): string {
  if (errors.length === 0) return 'none';
  const joined = errors.join(', ');
  return joined.length <= MAX_STATE_LENGTH ? joined : `${joined.slice(0, MAX_STATE_LENGTH - 1)}…`;
}

function sortedRaw(raw: ChargerState['raw']): Record<string, number | string | null> {
  const out: Record<string, number | string | null> = {};
  for (const key of Object.keys(raw).sort()) out[key] = raw[key] ?? null;
  return out;
}

function selectedUser(extras: ChargerStateExtras): string | null {
  const user = extras.user ?? null;
  if (user === null || extras.users === undefined) return user;
  return extras.users.includes(user) ? user : null;
}

const nameOf = <T extends string>(m: MappedCode<T> | null) => m?.name ?? null;
const codeOf = <T extends string>(m: MappedCode<T> | null) => m?.code ?? null;

export function chargerStateToJson(
  state: ChargerState,
  extras: ChargerStateExtras = {},
): Record<string, unknown> {
  const phase = (i: number) => state.phases[i] ?? null;
  const plug = mapPlugState(state.raw[RAW_KEYS.plugState]);
  const output = mapOutputState(state.raw[RAW_KEYS.outputState]);
  const chargerState = mapChargerState(state.raw[RAW_KEYS.chargerState]);
  const ocpp = mapOcppStatus(state.raw[RAW_KEYS.ocppStatus]);
  const own = state.session;
  const tracked = extras.session ?? null;
  const limits = extras.limits ?? {
    energyKwh: own?.limitEnergyKwh ?? null,
    minutes: own?.limitMinutes ?? null,
  };

  return {
    status: state.status,
    link: state.link,
    plugged: state.plugged,
    charging_active: state.charging,
    charging_enabled: state.charging || SWITCH_ON_STATUSES.includes(state.status),
    problem: state.errors.length > 0,
    error: errorText(state.errors),
    errors: [...state.errors],
    power_w: round(state.powerW, 1),
    energy_total_kwh: lifetimeKwh(state.energyTotalKwh),
    voltage_l1_v: round(phase(0)?.voltageV, 1),
    voltage_l2_v: round(phase(1)?.voltageV, 1),
    voltage_l3_v: round(phase(2)?.voltageV, 1),
    current_l1_a: round(phase(0)?.currentA, 2),
    current_l2_a: round(phase(1)?.currentA, 2),
    current_l3_a: round(phase(2)?.currentA, 2),
    temperature_inner_c: round(state.temperatureInnerC, 1),
    temperature_outer_c: round(state.temperatureOuterC, 1),
    max_current_a: round(state.maxCurrentA, 0),
    rssi_dbm: round(state.rssiDbm, 0),
    plug_state: nameOf(plug),
    plug_state_code: codeOf(plug),
    output_state: nameOf(output),
    output_state_code: codeOf(output),
    charger_state: nameOf(chargerState),
    charger_state_code: codeOf(chargerState),
    ocpp_status: nameOf(ocpp),
    ocpp_status_code: codeOf(ocpp),
    session_id: own?.chargerSessionId ?? null,
    session_energy_kwh: round(tracked ? tracked.energyKwh : (own?.energyKwh ?? null), 3),
    session_duration_s: round(tracked ? tracked.durationS : (own?.durationS ?? null), 0),
    session_start: formatLocalIso(tracked ? tracked.startedAt : (own?.startedAt ?? null)),
    session_user: (tracked ? tracked.userId : null) ?? own?.userId ?? null,
    session_id_tag: own?.idTag ?? null,
    session_cost: round(tracked?.cost ?? null, 2),
    // 0 means "no limit" in the number entities.
    session_limit_energy_kwh: round(limits.energyKwh, 2) ?? 0,
    session_limit_minutes: round(limits.minutes, 0) ?? 0,
    user: selectedUser(extras),
    energy_today_kwh: round(extras.totals?.energyTodayKwh ?? null, 3),
    energy_month_kwh: round(extras.totals?.energyMonthKwh ?? null, 3),
    cost_month: round(extras.totals?.costMonth ?? null, 2),
    scheduled_start: formatLocalIso(state.scheduledStartAt),
    ...planKeys(extras.plan ?? null),
    name: state.settings.name,
    language: normaliseLanguage(state.settings.language),
    temperature_unit: state.settings.temperatureUnit,
    raw: sortedRaw(state.raw),
    last_seen: formatLocalIso(state.updatedAt),
  };
}

function planKeys(plan: PlanStateExtras | null): Record<string, unknown> {
  return {
    plan_battery_kwh: plan?.inputs.batteryKwh ?? null,
    plan_soc_now_percent: plan?.inputs.socNowPercent ?? null,
    plan_soc_target_percent: plan?.inputs.socTargetPercent ?? null,
    plan_deadline: formatLocalIso(plan?.inputs.deadlineAt ?? null),
    plan_status: plan?.status ?? null,
    plan_message: plan?.message ?? null,
    plan_current_a: plan?.currentA ?? null,
    plan_energy_to_battery_kwh: plan?.energyToBatteryKwh ?? null,
    plan_energy_from_grid_kwh: plan?.energyFromGridKwh ?? null,
    plan_hours_available: plan?.hoursAvailable ?? null,
    plan_power_w: plan?.powerW ?? null,
    plan_finishes_at: formatLocalIso(plan?.finishesAt ?? null),
    plan_soc_at_deadline_percent: plan?.socAtDeadlinePercent ?? null,
  };
}

/** The availability payload for `<base>/<charger>/availability`. */
export function chargerAvailability(state: Pick<ChargerState, 'link'>): 'online' | 'offline' {
  return state.link === 'online' ? 'online' : 'offline';
}

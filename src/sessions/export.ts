/**
 * Session exports for expense reports: CSV (RFC 4180, one row a session, then totals per user and
 * month) and JSON. Times are local to the configured zone with their offset. Cells a spreadsheet
 * would run as a formula (= + - @, tab, CR) are prefixed with a quote, since user names, notes and
 * tags come from outside.
 */

import { formatZonedIso, monthKey } from '../core/zoned-time.js';
import type { SessionRecord } from './record.js';
import { sessionToJson } from './session-json.js';
import type { SessionFilter, SessionStore } from './store.js';
import { currencyDigits } from './tariff.js';

export const CSV_COLUMNS = [
  'row_type',
  'month',
  'user',
  'charger',
  'session_id',
  'started_at',
  'ended_at',
  'duration_min',
  'energy_kwh',
  'cost',
  'currency',
  'fee',
  'cost_by_window',
  'id_tag',
  'stop_reason',
  'meter_start_kwh',
  'meter_stop_kwh',
  'peak_power_kw',
  'max_current_a',
  'notes',
  'sessions',
] as const;

type Column = (typeof CSV_COLUMNS)[number];

/** Label of sessions without a user in the totals. */
export const UNASSIGNED = '(unassigned)';
/** Label of a month's total over every user. */
export const ALL_USERS = '(all users)';

export interface TotalRow {
  month: string;
  /** A user name, UNASSIGNED or ALL_USERS. */
  user: string;
  /** null for sessions without a cost (no tariff). */
  currency: string | null;
  sessions: number;
  energyKwh: number;
  cost: number | null;
  fee: number | null;
}

const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: formula-safe, quoted when it holds a comma, quote or line break. */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined || !Number.isFinite(value) ? '' : value.toFixed(digits);

function moneyDigits(currency: string | null | undefined): number {
  return currency ? currencyDigits(currency) : 2;
}

/** Totals per (month, user, currency), then per month over all users; months in order, users by name. */
export function totalsByUserAndMonth(records: readonly SessionRecord[], timeZone: string): TotalRow[] {
  const groups = new Map<string, TotalRow>();
  const addTo = (month: string, user: string, r: SessionRecord) => {
    const currency = r.cost?.currency ?? null;
    const key = JSON.stringify([month, user, currency]);
    let row = groups.get(key);
    if (!row) {
      row = { month, user, currency, sessions: 0, energyKwh: 0, cost: null, fee: null };
      groups.set(key, row);
    }
    row.sessions++;
    row.energyKwh += r.energyKwh ?? 0;
    if (r.cost) {
      row.cost = (row.cost ?? 0) + r.cost.total;
      row.fee = (row.fee ?? 0) + r.cost.fee;
    }
  };
  for (const r of records) {
    const month = monthKey(r.startedAt, timeZone);
    addTo(month, r.user ?? UNASSIGNED, r);
    addTo(month, ALL_USERS, r);
  }
  const userOrder = (user: string) => (user === ALL_USERS ? 2 : user === UNASSIGNED ? 1 : 0);
  const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;
  return [...groups.values()]
    .map((row) => ({
      ...row,
      energyKwh: round(row.energyKwh, 3),
      cost: row.cost === null ? null : round(row.cost, moneyDigits(row.currency)),
      fee: row.fee === null ? null : round(row.fee, moneyDigits(row.currency)),
    }))
    .sort(
      (a, b) =>
        a.month.localeCompare(b.month) ||
        userOrder(a.user) - userOrder(b.user) ||
        a.user.localeCompare(b.user) ||
        (a.currency ?? '').localeCompare(b.currency ?? ''),
    );
}

function sessionRow(r: SessionRecord, timeZone: string): Record<Column, string | number | null> {
  const digits = moneyDigits(r.cost?.currency);
  return {
    row_type: 'session',
    month: monthKey(r.startedAt, timeZone),
    user: r.user,
    charger: r.chargerId,
    session_id: r.id,
    started_at: formatZonedIso(r.startedAt, timeZone),
    ended_at: r.endedAt === null ? null : formatZonedIso(r.endedAt, timeZone),
    duration_min: r.endedAt === null ? null : fixed((r.endedAt - r.startedAt) / 60_000, 0),
    energy_kwh: fixed(r.energyKwh, 3),
    cost: fixed(r.cost?.total, digits),
    currency: r.cost?.currency ?? null,
    fee: fixed(r.cost?.fee, digits),
    cost_by_window:
      r.cost?.byWindow
        .map((w) => `${w.window} ${w.energyKwh.toFixed(3)} kWh ${w.cost.toFixed(digits)}`)
        .join('; ') ?? null,
    id_tag: r.idTag === null ? null : r.idTagKnown === false ? `${r.idTag} (unknown)` : r.idTag,
    stop_reason: r.stopReason,
    meter_start_kwh: fixed(r.meterStartKwh, 3),
    meter_stop_kwh: fixed(r.meterStopKwh, 3),
    peak_power_kw: r.peakPowerW === null ? null : fixed(r.peakPowerW / 1000, 2),
    max_current_a: fixed(r.maxCurrentA, 1),
    notes: r.notes.map((n) => n.text).join(' | ') || null,
    sessions: 1,
  };
}

function totalRow(t: TotalRow): Record<Column, string | number | null> {
  const digits = moneyDigits(t.currency);
  const empty = Object.fromEntries(CSV_COLUMNS.map((c) => [c, null])) as Record<Column, null>;
  return {
    ...empty,
    row_type: 'total',
    month: t.month,
    user: t.user,
    energy_kwh: fixed(t.energyKwh, 3),
    cost: fixed(t.cost, digits),
    currency: t.currency,
    fee: fixed(t.fee, digits),
    sessions: t.sessions,
  };
}

/** Header, one row a session (oldest first), then the totals. CRLF line ends (RFC 4180). */
export function sessionsToCsv(records: readonly SessionRecord[], timeZone: string): string {
  const sorted = [...records].sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
  const lines = [CSV_COLUMNS.join(',')];
  const emit = (row: Record<Column, string | number | null>) =>
    lines.push(CSV_COLUMNS.map((c) => csvCell(row[c])).join(','));
  for (const r of sorted) emit(sessionRow(r, timeZone));
  for (const t of totalsByUserAndMonth(sorted, timeZone)) emit(totalRow(t));
  return `${lines.join('\r\n')}\r\n`;
}

export interface JsonExport {
  generated_at: string;
  time_zone: string;
  filters: Record<string, string>;
  sessions: Record<string, unknown>[];
  totals: Array<{
    month: string;
    user: string;
    currency: string | null;
    sessions: number;
    energy_kwh: number;
    cost: number | null;
    fee: number | null;
  }>;
}

export function sessionsToJson(
  records: readonly SessionRecord[],
  options: { timeZone: string; nowMs: number; filters?: Record<string, string> },
): JsonExport {
  const sorted = [...records].sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
  return {
    generated_at: formatZonedIso(options.nowMs, options.timeZone),
    time_zone: options.timeZone,
    filters: options.filters ?? {},
    sessions: sorted.map((r) => sessionToJson(r, options.timeZone)),
    totals: totalsByUserAndMonth(sorted, options.timeZone).map((t) => ({
      month: t.month,
      user: t.user,
      currency: t.currency,
      sessions: t.sessions,
      energy_kwh: t.energyKwh,
      cost: t.cost,
      fee: t.fee,
    })),
  };
}

export interface ExportQuery {
  format: 'csv' | 'json';
  /** `YYYY-MM`; null = every month. */
  month: string | null;
  /** null = every user. */
  user: string | null;
  /** null = every charger. */
  charger: string | null;
}

/** The export as text (CSV, or pretty JSON) for a query where null means "no filter" (HTTP export). */
export function exportText(store: SessionStore, query: ExportQuery, timeZone: string, nowMs: number): string {
  const filter: SessionFilter = {
    ...(query.month !== null ? { month: query.month } : {}),
    ...(query.user !== null ? { user: query.user } : {}),
    ...(query.charger !== null ? { chargerId: query.charger } : {}),
  };
  const records = store.query(filter);
  if (query.format === 'csv') return sessionsToCsv(records, timeZone);
  const filters: Record<string, string> = {};
  if (query.month !== null) filters.month = query.month;
  if (query.user !== null) filters.user = query.user;
  if (query.charger !== null) filters.charger = query.charger;
  return `${JSON.stringify(sessionsToJson(records, { timeZone, nowMs, filters }), null, 2)}\n`;
}

/**
 * The `/sessions/export` query string: checked strictly (a typo in a filter would otherwise export
 * everything without a word), and turned into a download file name that is safe in a header.
 */
import type { SessionExportFormat, SessionExportQuery } from './providers.js';

export const EXPORT_PARAMETERS = ['format', 'month', 'user', 'charger'] as const;

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const FILTER_MAX_LENGTH = 64;
// Any printable character (names may be non-ASCII), nothing that could split a line or a header.
const FILTER_TEXT = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;

export type ExportQueryResult = { ok: true; query: SessionExportQuery } | { ok: false; error: string };

export function parseExportQuery(params: URLSearchParams): ExportQueryResult {
  const allowed = new Set<string>(EXPORT_PARAMETERS);
  const seen = new Set<string>();
  for (const name of params.keys()) {
    // The name is not echoed: it is whatever the client sent.
    if (!allowed.has(name)) {
      return { ok: false, error: `unknown query parameter; allowed: ${EXPORT_PARAMETERS.join(', ')}` };
    }
    if (seen.has(name)) return { ok: false, error: `${name} is given more than once` };
    seen.add(name);
  }

  const format = params.get('format') ?? 'csv';
  if (format !== 'csv' && format !== 'json') return { ok: false, error: 'format must be csv or json' };

  const month = params.get('month');
  if (month !== null && !MONTH.test(month)) {
    return { ok: false, error: 'month must be a month like 2026-03 (YYYY-MM)' };
  }

  const filters: { user: string | null; charger: string | null } = { user: null, charger: null };
  for (const name of ['user', 'charger'] as const) {
    const value = params.get(name);
    if (value === null) continue;
    if (value.length === 0 || value.length > FILTER_MAX_LENGTH || !FILTER_TEXT.test(value)) {
      return { ok: false, error: `${name} must be 1 to ${FILTER_MAX_LENGTH} printable characters` };
    }
    filters[name] = value;
  }

  return { ok: true, query: { format: format as SessionExportFormat, month, ...filters } };
}

/** `chargebridge-sessions[-month][-charger][-user].csv`, in characters every browser keeps. */
export function exportFileName(query: SessionExportQuery): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  const parts = ['chargebridge-sessions', query.month, query.charger, query.user]
    .filter((p): p is string => p !== null)
    .map(safe)
    .filter((p) => p.length > 0);
  return `${parts.join('-')}.${query.format}`;
}

export const EXPORT_CONTENT_TYPES: Record<SessionExportFormat, string> = {
  csv: 'text/csv; charset=utf-8; header=present',
  json: 'application/json; charset=utf-8',
};

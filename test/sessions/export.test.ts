import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CSV_COLUMNS,
  csvCell,
  exportText,
  sessionsToCsv,
  sessionsToJson,
} from '../../src/sessions/export.js';
import type { SessionRecord } from '../../src/sessions/record.js';
import { SessionStore } from '../../src/sessions/store.js';
import { berlin, TARIFF, TZ } from './bs20-rig.js';
import { makeRecord } from './records.js';

/** RFC 4180 reader for the test: quoted cells, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  expect(cell).toBe('');
  expect(row).toEqual([]);
  return rows;
}

function sessions(): SessionRecord[] {
  const first = makeRecord({
    startedAt: berlin('2026-01-15T21:30:00'),
    minutes: 60,
    kw: 7.2,
    user: 'alice',
    tariff: TARIFF,
    notes: ['=HYPERLINK("http://evil")', 'client visit, "Munich"'],
  });
  const second = makeRecord({
    chargerId: 'drive',
    startedAt: berlin('2026-01-20T08:00:00'),
    minutes: 60,
    kw: 3.6,
    user: 'bob',
    tariff: TARIFF,
    stopReason: 'unplugged',
  });
  const unknownTag = makeRecord({
    startedAt: berlin('2026-02-01T10:00:00'),
    minutes: 30,
    kw: 11,
    idTag: '-DEADBEEF',
    idTagKnown: false,
    tariff: TARIFF,
  });
  // 23:30 UTC on 31 January is already February in Berlin.
  const lateJanuaryUtc = makeRecord({
    startedAt: Date.UTC(2026, 0, 31, 23, 30),
    minutes: 60,
    kw: 6,
    user: 'alice',
    tariff: TARIFF,
  });
  return [unknownTag, second, lateJanuaryUtc, first];
}

describe('csvCell', () => {
  it('quotes and neutralises formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=1+2')).toBe("'=1+2");
    expect(csvCell('+49 170')).toBe("'+49 170");
    expect(csvCell('-5')).toBe("'-5");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('=a,b')).toBe(`"'=a,b"`);
    expect(csvCell(null)).toBe('');
    expect(csvCell(3)).toBe('3');
  });
});

describe('sessionsToCsv', () => {
  it('writes one row a session, oldest first, then totals per user and month', () => {
    const csv = sessionsToCsv(sessions(), TZ);
    expect(csv.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    const asObjects = rows.slice(1).map((r) => Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, r[i]])));
    expect(rows.every((r) => r.length === CSV_COLUMNS.length)).toBe(true);
    expect(asObjects).toEqual([
      {
        row_type: 'session',
        month: '2026-01',
        user: 'alice',
        charger: 'garage',
        session_id: 'garage-20260115T203000Z',
        started_at: '2026-01-15T21:30:00+01:00',
        ended_at: '2026-01-15T22:30:00+01:00',
        duration_min: '60',
        energy_kwh: '7.200',
        cost: '2.66',
        currency: 'EUR',
        fee: '0.50',
        cost_by_window: 'night 3.600 kWh 0.72; standard 3.600 kWh 1.44',
        id_tag: '',
        stop_reason: 'finished',
        meter_start_kwh: '1000.000',
        meter_stop_kwh: '1007.200',
        peak_power_kw: '7.20',
        max_current_a: '31.0',
        notes: `'=HYPERLINK("http://evil") | client visit, "Munich"`,
        sessions: '1',
      },
      {
        row_type: 'session',
        month: '2026-01',
        user: 'bob',
        charger: 'drive',
        session_id: 'drive-20260120T070000Z',
        started_at: '2026-01-20T08:00:00+01:00',
        ended_at: '2026-01-20T09:00:00+01:00',
        duration_min: '60',
        energy_kwh: '3.600',
        cost: '1.94',
        currency: 'EUR',
        fee: '0.50',
        cost_by_window: 'standard 3.600 kWh 1.44',
        id_tag: '',
        stop_reason: 'unplugged',
        meter_start_kwh: '1000.000',
        meter_stop_kwh: '1003.600',
        peak_power_kw: '3.60',
        max_current_a: '16.0',
        notes: '',
        sessions: '1',
      },
      {
        row_type: 'session',
        month: '2026-02',
        user: 'alice',
        charger: 'garage',
        session_id: 'garage-20260131T233000Z',
        started_at: '2026-02-01T00:30:00+01:00',
        ended_at: '2026-02-01T01:30:00+01:00',
        duration_min: '60',
        energy_kwh: '6.000',
        cost: '2.90',
        currency: 'EUR',
        fee: '0.50',
        cost_by_window: 'standard 6.000 kWh 2.40',
        id_tag: '',
        stop_reason: 'finished',
        meter_start_kwh: '1000.000',
        meter_stop_kwh: '1006.000',
        peak_power_kw: '6.00',
        max_current_a: '26.0',
        notes: '',
        sessions: '1',
      },
      {
        row_type: 'session',
        month: '2026-02',
        user: '',
        charger: 'garage',
        session_id: 'garage-20260201T090000Z',
        started_at: '2026-02-01T10:00:00+01:00',
        ended_at: '2026-02-01T10:30:00+01:00',
        duration_min: '30',
        energy_kwh: '5.500',
        cost: '2.70',
        currency: 'EUR',
        fee: '0.50',
        cost_by_window: 'standard 5.500 kWh 2.20',
        // A tag starting with "-" is neutralised like a formula.
        id_tag: "'-DEADBEEF (unknown)",
        stop_reason: 'finished',
        meter_start_kwh: '1000.000',
        meter_stop_kwh: '1005.500',
        peak_power_kw: '11.00',
        max_current_a: '48.0',
        notes: '',
        sessions: '1',
      },
      ...[
        ['2026-01', 'alice', '7.200', '2.66', '0.50', '1'],
        ['2026-01', 'bob', '3.600', '1.94', '0.50', '1'],
        ['2026-01', '(all users)', '10.800', '4.60', '1.00', '2'],
        ['2026-02', 'alice', '6.000', '2.90', '0.50', '1'],
        ['2026-02', '(unassigned)', '5.500', '2.70', '0.50', '1'],
        ['2026-02', '(all users)', '11.500', '5.60', '1.00', '2'],
      ].map(([month, user, energy, cost, fee, count]) => ({
        ...Object.fromEntries(CSV_COLUMNS.map((c) => [c, ''])),
        row_type: 'total',
        month,
        user,
        energy_kwh: energy,
        cost,
        currency: 'EUR',
        fee,
        sessions: count,
      })),
    ]);
    // A note starting with a formula gets a leading quote, inside a quoted cell.
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"") | client visit, ""Munich"""`);
  });

  it('still writes totals without a tariff, with empty cost cells', () => {
    const record = makeRecord({ startedAt: berlin('2026-03-01T12:00:00'), minutes: 30, kw: 2, user: 'bob' });
    const rows = parseCsv(sessionsToCsv([record], TZ));
    expect(rows.map((r) => [r[0], r[2], r[8], r[9], r[10]])).toEqual([
      ['row_type', 'user', 'energy_kwh', 'cost', 'currency'],
      ['session', 'bob', '1.000', '', ''],
      ['total', 'bob', '1.000', '', ''],
      ['total', '(all users)', '1.000', '', ''],
    ]);
  });
});

describe('sessionsToJson', () => {
  it('lists sessions in the outside shape and the same totals', () => {
    const json = sessionsToJson(sessions(), {
      timeZone: TZ,
      nowMs: berlin('2026-03-01T09:00:00'),
      filters: { user: 'alice' },
    });
    expect(json.generated_at).toBe('2026-03-01T09:00:00+01:00');
    expect(json.filters).toEqual({ user: 'alice' });
    expect(json.sessions.map((s) => s.id)).toEqual([
      'garage-20260115T203000Z',
      'drive-20260120T070000Z',
      'garage-20260131T233000Z',
      'garage-20260201T090000Z',
    ]);
    expect(json.sessions[0]).toMatchObject({
      charger: 'garage',
      user: 'alice',
      energy_kwh: 7.2,
      cost: 2.66,
      currency: 'EUR',
      cost_by_window: [
        { window: 'night', energy_kwh: 3.6, price_per_kwh: 0.2, cost: 0.72 },
        { window: 'standard', energy_kwh: 3.6, price_per_kwh: 0.4, cost: 1.44 },
      ],
      notes: [
        { at: '2026-01-15T22:30:00+01:00', text: '=HYPERLINK("http://evil")' },
        { at: '2026-01-15T22:30:00+01:00', text: 'client visit, "Munich"' },
      ],
    });
    expect(json.totals.at(-1)).toEqual({
      month: '2026-02',
      user: '(all users)',
      currency: 'EUR',
      sessions: 2,
      energy_kwh: 11.5,
      cost: 5.6,
      fee: 1,
    });
  });
});

describe('exportText', () => {
  it('reads the store with null meaning "no filter" and writes CSV or JSON text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-export-'));
    try {
      const store = await SessionStore.open({ dataDir: dir, timeZone: TZ });
      for (const r of sessions()) await store.complete(r);
      const all = { format: 'csv' as const, month: null, user: null, charger: null };
      expect(exportText(store, all, TZ, 0)).toBe(sessionsToCsv(sessions(), TZ));
      const janAlice = exportText(store, { ...all, format: 'json', month: '2026-01', user: 'alice' }, TZ, 0);
      const parsed = JSON.parse(janAlice) as { filters: unknown; sessions: Array<{ id: string }> };
      expect(parsed.filters).toEqual({ month: '2026-01', user: 'alice' });
      expect(parsed.sessions.map((s) => s.id)).toEqual(['garage-20260115T203000Z']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

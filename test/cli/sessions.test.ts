import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSessions } from '../../src/cli/sessions.js';
import { SessionStore } from '../../src/sessions/store.js';
import { berlin, TARIFF, TZ } from '../sessions/bs20-rig.js';
import { makeRecord } from '../sessions/records.js';

let dir: string;

const CONFIG = `timezone: Europe/Berlin
users:
  - name: alice
  - name: bob
tariff:
  currency: EUR
  price_per_kwh: 0.4
  session_fee: 0.5
  windows:
    - { name: night, days: [mon, tue, wed, thu, fri], from: "22:00", to: "06:00", price_per_kwh: 0.2 }
`;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cb-cli-sessions-'));
  writeFileSync(join(dir, 'configuration.yaml'), CONFIG);
  const store = await SessionStore.open({ dataDir: dir, timeZone: TZ });
  for (const record of [
    makeRecord({
      startedAt: berlin('2026-01-15T21:30:00'),
      minutes: 60,
      kw: 7.2,
      user: 'alice',
      tariff: TARIFF,
    }),
    makeRecord({
      startedAt: berlin('2026-01-20T08:00:00'),
      minutes: 60,
      kw: 3.6,
      user: 'bob',
      tariff: TARIFF,
      chargerId: 'drive',
    }),
    makeRecord({
      startedAt: berlin('2026-02-03T08:00:00'),
      minutes: 30,
      kw: 7.2,
      user: 'alice',
      tariff: TARIFF,
    }),
  ]) {
    await store.complete(record);
  }
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSessions(
    args,
    { write: (t) => out.push(t) },
    { CHARGEBRIDGE_CONFIG: join(dir, 'configuration.yaml') },
    { write: (t) => err.push(t) },
  );
  return { code, out: out.join(''), err: err.join('') };
}

/** Every file in the data folder and its sessions folder, with its bytes and modification time. */
function snapshot(): Record<string, { text: string; mtimeMs: number }> {
  const files = [
    ...readdirSync(dir).map((f) => join(dir, f)),
    ...readdirSync(join(dir, 'sessions')).map((f) => join(dir, 'sessions', f)),
  ].filter((path) => statSync(path).isFile());
  return Object.fromEntries(
    files.map((path) => [path, { text: readFileSync(path, 'utf8'), mtimeMs: statSync(path).mtimeMs }]),
  );
}

describe('chargebridge sessions', () => {
  it('exports one month of one user as CSV, with that user and month totalled', async () => {
    const { code, out, err } = await run('export', '--month', '2026-01', '--user=alice');
    expect(code).toBe(0);
    expect(err).toBe('');
    const rows = out
      .trimEnd()
      .split('\r\n')
      .map((line) => line.split(','));
    expect(rows.map((r) => [r[0], r[1], r[2], r[3], r[8], r[9], r[10], r.at(-1)])).toEqual([
      ['row_type', 'month', 'user', 'charger', 'energy_kwh', 'cost', 'currency', 'sessions'],
      ['session', '2026-01', 'alice', 'garage', '7.200', '2.66', 'EUR', '1'],
      ['total', '2026-01', 'alice', '', '7.200', '2.66', 'EUR', '1'],
      ['total', '2026-01', '(all users)', '', '7.200', '2.66', 'EUR', '1'],
    ]);
  });

  it('filters by charger and writes JSON', async () => {
    const { code, out } = await run('export', '--charger', 'drive', '--format', 'json');
    expect(code).toBe(0);
    const json = JSON.parse(out) as { filters: unknown; sessions: Array<{ charger: string; user: string }> };
    expect(json.filters).toEqual({ charger: 'drive' });
    expect(json.sessions.map((s) => [s.charger, s.user])).toEqual([['drive', 'bob']]);
  });

  it('lists sessions as a table with totals', async () => {
    const { code, out } = await run('list');
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^start\s+charger\s+user\s+energy kWh\s+minutes\s+cost\s+stop reason$/);
    expect(lines[1]).toMatch(/^2026-01-15 21:30\s+garage\s+alice\s+7\.200\s+60\s+2\.66 EUR\s+finished$/);
    expect(lines).toContain('Totals');
    expect(out).toMatch(/2026-02\s+alice\s+1\s+3\.600\s+1\.94 EUR/);
  });

  it('never writes: a corrupt store is reported, the backup shown, and nothing on disk changes', async () => {
    // One more February session so that sessions/2026-02.json.bak exists, then a torn main file.
    const store = await SessionStore.open({ dataDir: dir, timeZone: TZ });
    await store.complete(
      makeRecord({
        startedAt: berlin('2026-02-10T08:00:00'),
        minutes: 30,
        kw: 7.2,
        user: 'bob',
        tariff: TARIFF,
      }),
    );
    writeFileSync(
      join(dir, 'sessions', '2026-02.json'),
      '{"format":"chargebridge-sessions","version":1,"sessions":[{"id"',
    );
    const before = snapshot();
    const { code, out, err } = await run('export', '--month', '2026-02');
    expect(code).toBe(0);
    expect(err).toMatch(
      /warning: .*sessions\/2026-02\.json: not valid JSON.*showing the last good copy .*2026-02\.json\.bak/,
    );
    expect(out).toContain('garage-20260203T070000Z');
    expect(snapshot()).toEqual(before);
  });

  it('explains bad arguments and configuration errors', async () => {
    expect((await run('delete')).code).toBe(2);
    const month = await run('export', '--month', '2026-13');
    expect(month.code).toBe(2);
    expect(month.err).toMatch(/--month must be YYYY-MM/);
    expect((await run('export', '--format', 'xml')).err).toMatch(/--format must be csv or json/);
    expect((await run('list', '--user')).err).toMatch(/--user needs a value/);
    writeFileSync(join(dir, 'configuration.yaml'), 'tariff:\n  currency: EURO\n');
    const bad = await run('list');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/tariff\.currency/);
  });
});

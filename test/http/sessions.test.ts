/**
 * The endpoint with the real session code plugged in, as the daemon will wire it: the tracker as
 * the metrics provider and `exportText` over the store as the export provider, fed by charging
 * sessions on the simulated BS20.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionExportProvider, SessionMetricsProvider } from '../../src/http/providers.js';
import { type RunningHttpServer, startHttpServer } from '../../src/http/server.js';
import { exportText } from '../../src/sessions/export.js';
import { Bs20World, type Daemon, MINUTE, TZ } from '../sessions/bs20-rig.js';
import { parseExposition, sampleValue } from './exposition-parser.js';
import { get } from './rig.js';

const TOKEN = 'sessions-token-0123456789';
let world: Bs20World;
let server: RunningHttpServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
  await world.close();
});

async function serve(d: Daemon): Promise<string> {
  // Typed as the provider interfaces: this is the wiring the daemon needs, checked by tsc.
  const sessions: SessionMetricsProvider = d.tracker;
  const sessionExport: SessionExportProvider = {
    exportSessions: (query) => exportText(d.store, query, TZ, world.clock.now()),
  };
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    chargers: [d.charger],
    mqtt: null,
    sessions,
    sessionExport,
    version: 't',
    clock: world.clock,
    processMetrics: false,
  });
  return `http://127.0.0.1:${server.port}`;
}

async function chargeFor(d: Daemon, minutes: number, userId?: string): Promise<void> {
  await d.charger.startCharging({ currentA: 16, ...(userId ? { userId } : {}) });
  await world.advance(minutes * MINUTE);
  await d.charger.stopCharging();
  await world.advance(MINUTE);
}

describe('sessions through the HTTP endpoint', () => {
  it('counts completed sessions and their energy, and shows the open one', async () => {
    world = new Bs20World('2026-01-15T18:00:00');
    const d = await world.startDaemon();
    const base = await serve(d);
    world.sim.plugIn({ demandA: 16 });
    await world.advance(MINUTE);
    await chargeFor(d, 30, 'alice01');
    const [done] = d.store.query();
    expect(done?.energyKwh).toBeGreaterThan(1);

    await d.charger.startCharging({ currentA: 16 });
    await world.advance(10 * MINUTE);
    const families = parseExposition((await get(`${base}/metrics`, { token: TOKEN })).body);
    const garage = { charger: 'garage' };
    expect(sampleValue(families, 'chargebridge_sessions_completed_total', garage)).toBe(1);
    expect(sampleValue(families, 'chargebridge_sessions_energy_kwh_total', garage)).toBe(done?.energyKwh);
    expect(sampleValue(families, 'chargebridge_session_active', garage)).toBe(1);
    const live = d.tracker.currentSession('garage');
    expect(sampleValue(families, 'chargebridge_session_energy_kwh', garage)).toBe(live?.energyKwh);
  });

  it('exports the stored sessions as CSV and JSON, filtered by month and user', async () => {
    world = new Bs20World('2026-01-31T20:00:00');
    const d = await world.startDaemon();
    const base = await serve(d);
    world.sim.plugIn({ demandA: 16 });
    await world.advance(MINUTE);
    await chargeFor(d, 20, 'alice01'); // January, alice
    await world.advance(5 * 60 * MINUTE); // past midnight: February in Berlin
    await chargeFor(d, 20); // February, no user
    expect(d.store.query()).toHaveLength(2);

    const all = await get(`${base}/sessions/export`, { token: TOKEN });
    expect(all.status).toBe(200);
    expect(all.headers.get('content-disposition')).toBe('attachment; filename="chargebridge-sessions.csv"');
    const rows = all.body.trimEnd().split('\r\n');
    expect(rows[0]?.startsWith('row_type,month,user,charger,')).toBe(true);
    expect(rows.filter((r) => r.startsWith('session,'))).toHaveLength(2);

    const january = await get(`${base}/sessions/export?month=2026-01&user=alice`, { token: TOKEN });
    const januaryRows = january.body.trimEnd().split('\r\n');
    expect(januaryRows.filter((r) => r.startsWith('session,'))).toEqual([
      expect.stringMatching(/^session,2026-01,alice,garage,/),
    ]);
    expect(january.headers.get('content-disposition')).toContain('chargebridge-sessions-2026-01-alice.csv');

    const february = await get(`${base}/sessions/export?format=json&month=2026-02`, { token: TOKEN });
    expect(february.status).toBe(200);
    const body = JSON.parse(february.body);
    expect(body.filters).toEqual({ month: '2026-02' });
    expect(body.sessions).toHaveLength(1);
    expect(body.sessions[0]).toMatchObject({ charger: 'garage', user: null });
  });
});

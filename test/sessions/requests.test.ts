import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { BridgeApi, type BridgeConnection, type BridgeResponse } from '../../src/mqtt/bridge-api.js';
import { registerSessionRequests } from '../../src/sessions/requests.js';
import { Bs20World, berlin, MINUTE, TARIFF } from './bs20-rig.js';
import { makeRecord } from './records.js';

let world: Bs20World;

afterEach(async () => {
  await world.close();
});

/** BridgeApi as the daemon builds it; requests go through handle() (no broker needed). */
async function setUp() {
  world = new Bs20World('2026-02-10T09:00:00');
  const d = await world.startDaemon();
  const records = [
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
    }),
    makeRecord({ startedAt: berlin('2026-02-01T08:00:00'), minutes: 60, kw: 3.6, tariff: TARIFF }),
  ];
  for (const r of records) await d.store.complete(r);
  const unused = () => {
    throw new Error('not used');
  };
  const connection = { publish: unused, subscribe: unused, on: unused } as unknown as BridgeConnection;
  const api = new BridgeApi({ connection, baseTopic: 'chargebridge', logger: silentLogger() });
  registerSessionRequests(api, {
    store: d.store,
    timeZone: 'Europe/Berlin',
    chargers: [d.charger],
    currentSession: (id) => d.tracker.currentSession(id),
    clock: world.clock,
  });
  const ask = async (name: string, body: unknown): Promise<BridgeResponse> =>
    api.handle(name, Buffer.from(JSON.stringify(body)));
  return { d, ask, records };
}

describe('session bridge requests', () => {
  it('sessions/list filters, pages newest first and shows the open session live', async () => {
    const { d, ask, records } = await setUp();
    world.sim.plugIn({ demandA: 16 });
    await d.charger.startCharging({ currentA: 16 });
    await world.advance(30 * MINUTE);

    const all = await ask('sessions/list', { limit: 2 });
    expect(all.status).toBe('ok');
    const data = all.data as {
      total: number;
      sessions: Array<{ id: string }>;
      open: Array<{ energy_kwh: number }>;
    };
    expect(data.total).toBe(3);
    expect(data.sessions.map((s) => s.id)).toEqual([records[2]!.id, records[1]!.id]);
    expect(data.open).toHaveLength(1);
    expect(data.open[0]!.energy_kwh).toBeGreaterThan(1.7);

    const page2 = (await ask('sessions/list', { limit: 2, offset: 2, include_open: false }))
      .data as typeof data;
    expect(page2.sessions.map((s) => s.id)).toEqual([records[0]!.id]);
    expect(page2.open).toEqual([]);

    const alice = (await ask('sessions/list', { user: 'alice', month: '2026-01' })).data as typeof data;
    expect(alice.sessions.map((s) => s.id)).toEqual([records[0]!.id]);
    const nobody = (await ask('sessions/list', { user: null })).data as typeof data;
    expect(nobody.sessions.map((s) => s.id)).toEqual([records[2]!.id]);

    const bad = await ask('sessions/list', { month: '2026-1', limit: 5000, colour: 'red' });
    expect(bad.status).toBe('error');
    expect(bad.error).toMatch(/month must be YYYY-MM/);
  });

  it('sessions/export returns CSV or JSON with a file name', async () => {
    const { ask } = await setUp();
    const csv = await ask('sessions/export', { month: '2026-01' });
    expect(csv.data).toMatchObject({
      format: 'csv',
      filename: 'chargebridge-sessions-2026-01.csv',
      sessions: 2,
    });
    const lines = (csv.data as { content: string }).content.trimEnd().split('\r\n');
    expect(lines.map((l) => l.split(',')[0])).toEqual([
      'row_type',
      'session',
      'session',
      'total',
      'total',
      'total',
    ]);
    const json = await ask('sessions/export', { format: 'json', user: 'bob' });
    const content = (json.data as { content: { sessions: Array<{ user: string }>; filters: unknown } })
      .content;
    expect(content.sessions.map((s) => s.user)).toEqual(['bob']);
    expect(content.filters).toEqual({ user: 'bob' });
    expect((await ask('sessions/export', { format: 'xlsx' })).status).toBe('error');
  });

  it('session/note validates, stores and reports', async () => {
    const { d, ask, records } = await setUp();
    const ok = await ask('session/note', { id: records[0]!.id, text: 'trip to Munich' });
    expect(ok).toMatchObject({
      status: 'ok',
      data: {
        id: records[0]!.id,
        note: { text: 'trip to Munich', at: '2026-02-10T09:00:05+01:00' },
        saved: true,
      },
    });
    expect(d.store.get(records[0]!.id)?.notes.map((n) => n.text)).toEqual(['trip to Munich']);
    expect((await ask('session/note', { id: 'nope', text: 'x' })).error).toMatch(/no session with id "nope"/);
    expect((await ask('session/note', { id: records[0]!.id, text: 'x'.repeat(501) })).error).toMatch(
      /at most 500/,
    );
    expect((await ask('session/note', { id: records[0]!.id })).status).toBe('error');
  });

  it('charge_plan computes the current and applies it to the charger when asked', async () => {
    const { ask } = await setUp();
    const plan = await ask('charge_plan', {
      charger: 'garage',
      battery_kwh: 40,
      soc_percent: 30,
      target_soc_percent: 80,
      deadline: '17:00',
    });
    // 20 kWh / 0.9 = 22.2 kWh in 8 h on one phase: 2.78 kW / 230 V = 12.1 A → 13 A.
    expect(plan).toMatchObject({
      status: 'ok',
      data: {
        charger: 'garage',
        status: 'ok',
        current_a: 13,
        deadline: '2026-02-10T17:00:00+01:00',
        applied: false,
      },
    });
    expect(world.sim.state.configuredCurrentA).toBe(16);

    const applied = await ask('charge_plan', {
      charger: 'garage',
      battery_kwh: 40,
      soc_percent: 30,
      target_soc_percent: 80,
      deadline: '2026-02-10 17:00',
      apply: true,
    });
    expect(applied.data).toMatchObject({ current_a: 13, applied: true });
    await world.advance(1000);
    expect(world.sim.state.configuredCurrentA).toBe(13);

    expect(
      (
        await ask('charge_plan', {
          charger: 'roof',
          battery_kwh: 40,
          soc_percent: 1,
          target_soc_percent: 2,
          deadline: '17:00',
        })
      ).error,
    ).toMatch(/unknown charger "roof"/);
    expect(
      (
        await ask('charge_plan', {
          charger: 'garage',
          battery_kwh: 40,
          soc_percent: 1,
          target_soc_percent: 2,
          deadline: 'soon',
        })
      ).error,
    ).toMatch(/deadline must be a time/);
  });
});

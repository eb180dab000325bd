/**
 * Three wallboxes on bad links charge at chargebridge's own central system (inside the real daemon)
 * while their connections drop, lose answers in flight, and get replaced by a second connection with
 * the same identity, at seeded random moments. The stations queue and re-send like real ones
 * (flapping-station.ts). Every transaction must be recorded exactly once with its energy and user,
 * a re-sent StartTransaction must get its id back, a re-sent StopTransaction must change nothing,
 * Home Assistant must see each station go offline and come back, and the lifetime energy it sees
 * must never go down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/mosquitto.js';
import { type DaemonRig, parseJson, startDaemonRig } from './daemon-rig.js';
import { FlappingStation } from './flapping-station.js';
import { runSeed, type SeededRandom, seededRandom } from './seeded-random.js';

const MINUTE = 60_000;
const SESSIONS = 8;
const STEP_MS = 5_000;
const SAMPLE_MS = 60_000;
const USERS = [
  { name: 'alice', tag: '04A1B2C3' },
  { name: 'bob', tag: 'BOBCARD' },
];
const STATIONS = [
  { id: 'carport', identity: 'CARPORT' },
  { id: 'driveway', identity: 'DRIVEWAY' },
  { id: 'barn', identity: 'BARN-7' },
];

type FaultKind = 'drop' | 'lose_answer' | 'replace' | 'repeat_start' | 'repeat_stop';
const FAULT_KINDS: readonly FaultKind[] = [
  'drop',
  'drop',
  'lose_answer',
  'lose_answer',
  'lose_answer',
  'replace',
  'replace',
  'repeat_start',
  'repeat_stop',
];

interface Fault {
  at: number;
  kind: FaultKind;
  /** How long the link stays down after a drop (drop, lose_answer). */
  downMs: number;
}

interface PlannedSession {
  plugAt: number;
  startAt: number;
  stopAt: number;
  reason: 'Local' | 'EVDisconnected';
  unplugAt: number;
  user: (typeof USERS)[number];
  powerW: number;
}

interface Flapper {
  id: string;
  station: FlappingStation;
  plan: PlannedSession[];
  faults: Fault[];
  /** Down time to use for the drop in progress. */
  downMs: number;
  downSince: number | null;
  faultCount: Record<string, number>;
}

function planSessions(random: SeededRandom, t0: number): PlannedSession[] {
  const sessions: PlannedSession[] = [];
  let cursor = t0;
  for (let k = 0; k < SESSIONS; k++) {
    const plugAt = cursor + random.between(2, 20) * MINUTE;
    const startAt = plugAt + 30_000;
    const stopAt = startAt + random.between(10, 60) * MINUTE;
    const reason = random.chance(0.5) ? 'Local' : 'EVDisconnected';
    const unplugAt = reason === 'Local' ? stopAt + random.between(1, 5) * MINUTE : stopAt;
    sessions.push({
      plugAt,
      startAt,
      stopAt,
      reason,
      unplugAt,
      user: random.pick(USERS),
      powerW: random.pick([3_700, 7_400, 11_000]),
    });
    cursor = unplugAt;
  }
  return sessions;
}

/** A fault every 1–10 min; most outages are short, some outlast a whole session. */
function planFaults(random: SeededRandom, t0: number, end: number): Fault[] {
  const faults: Fault[] = [];
  for (let at = t0 + random.between(1, 5) * MINUTE; at < end; at += random.between(1, 10) * MINUTE) {
    const downMs = random.chance(0.75) ? random.between(5, 180) * 1000 : random.between(10, 60) * MINUTE;
    faults.push({ at: at + random.int(MINUTE), kind: random.pick(FAULT_KINDS), downMs });
  }
  return faults;
}

/** Users with their cards, and the central system with these stations (no password: profile 0). */
function serverYaml(port: number, stations: ReadonlyArray<{ id: string; identity: string }>): string {
  return [
    'users:',
    ...USERS.flatMap((u) => [`  - name: ${u.name}`, `    id_tags: ["${u.tag}"]`]),
    'ocpp_server:',
    '  enabled: true',
    '  host: 127.0.0.1',
    `  port: ${port}`,
    '  unknown_stations: reject',
    '  ping_interval_s: 0',
    '  stations:',
    ...stations.flatMap((s) => [
      `    - id: ${s.id}`,
      `      identity: ${s.identity}`,
      '      max_current: 32',
    ]),
  ].join('\n');
}

async function sessionsOf(rig: DaemonRig, chargerId: string) {
  const ha = rig.ha!;
  await ha.publish(
    'chargebridge/bridge/request/sessions/list',
    JSON.stringify({ charger: chargerId, limit: 100, transaction: chargerId }),
  );
  const answer = parseJson(
    (
      await ha.waitFor(
        'chargebridge/bridge/response/sessions/list',
        (m) => parseJson(m.text).transaction === chargerId,
      )
    ).text,
  ) as { status: string; data: { sessions: Array<Record<string, unknown>>; open: unknown[] } };
  expect(answer.status).toBe('ok');
  return { closed: [...answer.data.sessions].reverse(), open: answer.data.open };
}

/**
 * Lets every connected station finish what it has on the wire before simulated time moves on (a
 * slow disk under the central system must not turn into minutes of simulated delay); bounded.
 */
async function settle(stations: FlappingStation[]): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!stations.every((s) => s.settled) && Date.now() < deadline) {
    for (const s of stations) s.kick();
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
}

const availability = (rig: DaemonRig, id: string): string[] =>
  rig.ha!.on(`chargebridge/${id}/availability`).map((m) => m.text);

let rig: DaemonRig | undefined;
const flappers: Flapper[] = [];
const local = new Map<string, Array<Record<string, unknown>>>();
const open = new Map<string, unknown[]>();

afterAll(async () => {
  for (const f of flappers) await f.station.close();
  await rig?.stop();
});

describe('stations dropping and reconnecting at the local central system', () => {
  beforeAll(async () => {
    const seed = runSeed('ocpp-station-flapping');
    const random = seededRandom(seed);
    const port = await freePort();
    rig = await startDaemonRig({
      chargersYaml: '  []',
      extraYaml: serverYaml(port, STATIONS),
    });
    const { clock } = rig;
    const ha = rig.ha!;
    const url = `ws://127.0.0.1:${port}/ocpp`;
    const t0 = clock.now();
    for (const s of STATIONS) {
      const plan = planSessions(random, t0);
      flappers.push({
        id: s.id,
        station: new FlappingStation(s.identity, url, clock, SAMPLE_MS, random.between(100_000, 9_000_000)),
        plan,
        faults: planFaults(random, t0, plan.at(-1)!.unplugAt),
        downMs: 0,
        downSince: null,
        faultCount: {},
      });
    }
    for (const f of flappers) {
      await ha.waitFor(`chargebridge/${f.id}/availability`, (m) => m.text === 'offline');
      await f.station.connect();
    }

    const events: Array<{ at: number; run: () => Promise<void> | void }> = [];
    for (const f of flappers) {
      const { station } = f;
      for (const s of f.plan) {
        events.push(
          { at: s.plugAt, run: () => station.plugIn() },
          { at: s.startAt, run: () => station.start(s.user.tag, s.powerW) },
          { at: s.stopAt, run: () => station.stop(s.reason) },
        );
        if (s.reason === 'Local') events.push({ at: s.unplugAt, run: () => station.unplug() });
      }
      for (const fault of f.faults) {
        events.push({
          at: fault.at,
          run: async () => {
            // A station already offline has nothing to lose.
            if (!station.online) return;
            f.faultCount[fault.kind] = (f.faultCount[fault.kind] ?? 0) + 1;
            f.downMs = fault.downMs;
            if (fault.kind === 'drop') station.drop();
            else if (fault.kind === 'lose_answer') station.loseAnswer();
            else if (fault.kind === 'replace') await station.connect();
            else
              station.repeatAnswered(fault.kind === 'repeat_start' ? 'StartTransaction' : 'StopTransaction');
          },
        });
      }
    }
    events.sort((a, b) => a.at - b.at);

    /** Reconnects a station once its time is up and Home Assistant has seen it go. */
    const tend = async (f: Flapper, reconnectNow = false) => {
      const { station } = f;
      station.kick();
      if (station.online) {
        f.downSince = null;
        return;
      }
      f.downSince ??= clock.now();
      const seenOffline = availability(rig!, f.id).filter((a) => a === 'offline').length >= 1 + station.drops;
      if (seenOffline && (reconnectNow || clock.now() >= f.downSince + f.downMs)) await station.connect();
    };
    const step = async () => {
      await clock.advance(STEP_MS);
      await settle(flappers.map((f) => f.station));
      for (const f of flappers) await tend(f);
    };

    const wallStart = Date.now();
    for (const event of events) {
      while (clock.now() + STEP_MS <= event.at) await step();
      await event.run();
    }
    // The links settle: everyone back, every queue empty.
    const deadline = Date.now() + 20_000;
    while (flappers.some((f) => !f.station.online || f.station.pending > 0)) {
      if (Date.now() > deadline) {
        const stuck = flappers
          .filter((f) => !f.station.online || f.station.pending > 0)
          .map(
            (f) =>
              `${f.id} (online ${f.station.online}, ${f.station.pending} queued, drops ${f.station.drops}, HA ${availability(rig!, f.id).join('/')})`,
          );
        throw new Error(`the stations never got everything through: ${stuck.join('; ')}`);
      }
      await clock.advance(STEP_MS);
      await settle(flappers.map((f) => f.station));
      for (const f of flappers) await tend(f, true);
    }
    for (let i = 0; i < 12; i++) await step();
    console.info(
      `[ocpp-station-flapping] ${((clock.now() - t0) / 3_600_000).toFixed(1)} simulated h in ${((Date.now() - wallStart) / 1000).toFixed(1)} s; ` +
        flappers
          .map(
            (f) =>
              `${f.id}: faults ${JSON.stringify(f.faultCount)}, drops ${f.station.drops}, replaced ${f.station.replacements}, ` +
              `unanswered ${JSON.stringify(f.station.unanswered)}, repeated ${JSON.stringify(f.station.repeated)}`,
          )
          .join('; '),
    );

    for (const f of flappers) {
      const { closed, open: running } = await sessionsOf(rig, f.id);
      local.set(f.id, closed);
      open.set(f.id, running);
    }
  }, 90_000);

  it.each(STATIONS)('$id: every transaction is recorded once, with its energy and user', ({ id }) => {
    const f = flappers.find((x) => x.id === id)!;
    const { transactions } = f.station;
    expect(transactions).toHaveLength(SESSIONS);
    expect(open.get(id)).toEqual([]);
    expect(local.get(id)!.map((s) => s.charger_session_id)).toEqual(
      transactions.map((t) => String(t.ids[0])),
    );
    local.get(id)!.forEach((s, k) => {
      const t = transactions[k]!;
      expect(s).toMatchObject({
        meter_start_kwh: t.meterStart / 1000,
        meter_stop_kwh: t.meterStop! / 1000,
        user: f.plan[k]!.user.name,
        id_tag: t.idTag,
      });
      expect(s.energy_kwh).toBeCloseTo((t.meterStop! - t.meterStart) / 1000, 3);
    });
  });

  it.each(STATIONS)(
    '$id: a re-sent StartTransaction got its id back, a re-sent StopTransaction was answered',
    ({ id }) => {
      const { transactions } = flappers.find((x) => x.id === id)!.station;
      for (const t of transactions) {
        expect(t.ids.length).toBeGreaterThanOrEqual(1);
        expect(new Set(t.ids).size).toBe(1);
        expect(t.stopAnswers).toBeGreaterThanOrEqual(1);
      }
      // Ids are the central system's: strictly increasing, never shared between stations.
      const all = flappers.flatMap((x) => x.station.transactions.map((t) => t.ids[0]!));
      expect(new Set(all).size).toBe(all.length);
    },
  );

  it.each(STATIONS)(
    '$id: Home Assistant saw every drop and every return, and the energy never went down',
    ({ id }) => {
      const f = flappers.find((x) => x.id === id)!;
      const seen = availability(rig!, id);
      // Retained offline from the start, then online/offline per real drop; a replacement is no drop.
      const expected = ['offline'];
      for (let i = 0; i <= f.station.drops; i++) expected.push('online', 'offline');
      expected.pop();
      expect(seen).toEqual(expected);
      const totals = rig!
        .ha!.on(`chargebridge/${id}`)
        .map((m) => parseJson(m.text).energy_total_kwh)
        .filter((v): v is number => typeof v === 'number');
      expect(totals.length).toBeGreaterThan(0);
      expect(totals).toEqual([...totals].sort((a, b) => a - b));
      const last = f.station.transactions.at(-1)!;
      expect(totals.at(-1)).toBe(last.meterStop! / 1000);
    },
  );
});

describe('a station back from offline: its status first, its queued transaction messages after', () => {
  let single: DaemonRig | undefined;
  let station: FlappingStation | undefined;
  afterAll(async () => {
    await station?.close();
    await single?.stop();
  });

  it('records each transaction once, with its own energy and idTag', async () => {
    const port = await freePort();
    single = await startDaemonRig({ chargersYaml: '  []', extraYaml: serverYaml(port, [STATIONS[0]!]) });
    const { clock } = single;
    const rig = single;
    const cp = new FlappingStation('CARPORT', `ws://127.0.0.1:${port}/ocpp`, clock, SAMPLE_MS, 1_000_000);
    station = cp;
    const run = async (ms: number) => {
      for (let t = 0; t < ms; t += STEP_MS) {
        await clock.advance(STEP_MS);
        await settle([cp]);
      }
    };
    /** Everything queued goes through (real I/O, bounded), a second a step. */
    const drain = async () => {
      const deadline = Date.now() + 10_000;
      while (cp.pending > 0) {
        if (Date.now() > deadline) throw new Error('the queue never drained');
        await clock.advance(1_000);
        await settle([cp]);
      }
    };
    // Status first; a few seconds later, what was queued.
    const online = async () => {
      await cp.connect({ holdQueue: true });
      await run(STEP_MS);
      cp.release();
      await drain();
    };
    const offline = async () => {
      cp.drop();
      await rig.ha!.waitFor(
        'chargebridge/carport/availability',
        () => availability(rig, 'carport').filter((a) => a === 'offline').length === 1 + cp.drops,
      );
    };
    const [alice, bob] = USERS as [(typeof USERS)[number], (typeof USERS)[number]];
    await online();

    // An ordinary session, online throughout.
    cp.plugIn();
    await run(30_000);
    cp.start(alice.tag, 7_400);
    await run(10 * MINUTE);
    cp.stop('Local');
    await run(MINUTE);
    cp.unplug();
    await run(MINUTE);
    // Unplugged while offline: back with Available, its StopTransaction still queued.
    cp.plugIn();
    await run(30_000);
    cp.start(bob.tag, 11_000);
    await run(5 * MINUTE);
    await offline();
    await run(5 * MINUTE);
    cp.stop('EVDisconnected');
    await run(5 * MINUTE);
    await online();
    // A whole session while offline: back with Available.
    await offline();
    cp.plugIn();
    await run(30_000);
    cp.start(alice.tag, 3_700);
    await run(10 * MINUTE);
    cp.stop('EVDisconnected');
    await run(2 * MINUTE);
    await online();
    // Started while offline, twice within minutes: back with Charging, its StartTransaction queued.
    for (const user of [bob, alice]) {
      await offline();
      cp.plugIn();
      await run(30_000);
      cp.start(user.tag, 7_400);
      await run(2 * MINUTE);
      await online();
      await run(2 * MINUTE);
      cp.stop('EVDisconnected');
      await drain();
    }

    const { closed, open: running } = await sessionsOf(rig, 'carport');
    expect(running).toEqual([]);
    expect(closed.map((s) => [s.charger_session_id, s.id_tag, s.meter_start_kwh, s.meter_stop_kwh])).toEqual(
      cp.transactions.map((t) => [String(t.ids[0]), t.idTag, t.meterStart / 1000, t.meterStop! / 1000]),
    );
  });
});

/**
 * The upstream OCPP backend goes away for hours at a time — its server closed, or its socket left
 * open while it answers nothing — while the BS20 behind chargebridge's charge point charges several
 * cars, one of them entirely while the backend is away. Once it is back, the backend must have
 * received every transaction message exactly once, in order, under the transaction ids it assigned,
 * with meter readings that match the BS20's lifetime register and the sessions chargebridge
 * recorded itself.
 *
 * One daemon runs two simulated BS20s through one simulated day, each presented to its own
 * independent backend from npm (peers.ts), each backend with its own seeded outages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Charger } from '../../src/core/charger.js';
import type { ManualClock } from '../../src/core/clock.js';
import type { SimulatedBs20 } from '../../src/evse-master/simulator/index.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';
import { freePort, OcppTsCentralSystem, type Received, VoltbrasCentralSystem } from '../ocpp/client/peers.js';
import { type DaemonRig, ioTurn, parseJson, startDaemonRig } from './daemon-rig.js';
import { runSeed, type SeededRandom, seededRandom } from './seeded-random.js';

const MINUTE = 60_000;
const SESSIONS = 5;
/** Simulated time per step; real I/O gets a few event-loop turns after each. */
const STEP_MS = 10_000;
const SAMPLE_INTERVAL_S = 120;
const CALL_TIMEOUT_S = 30;
const TRANSACTION_ACTIONS = ['StartTransaction', 'MeterValues', 'StopTransaction'];

/** A backend that can also hang: the socket stays open, calls arrive and are never processed or answered. */
interface Backend {
  readonly url: string;
  readonly received: Received[];
  /** Calls that arrived while it hung, with the simulated time they came. */
  readonly unanswered: Array<Received & { at: number }>;
  silent: boolean;
  of(action: string): Array<Record<string, unknown>>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

class HangingVoltbras extends VoltbrasCentralSystem implements Backend {
  silent = false;
  readonly unanswered: Array<Received & { at: number }> = [];
  protected override held(action: string, payload: Record<string, unknown>): boolean {
    if (!this.silent) return super.held(action, payload);
    this.unanswered.push({ action, payload, at: this.clock.now() });
    return true;
  }
}

class HangingOcppTs extends OcppTsCentralSystem implements Backend {
  silent = false;
  readonly unanswered: Array<Received & { at: number }> = [];
  protected override held(action: string, payload: Record<string, unknown>): boolean {
    if (!this.silent) return super.held(action, payload);
    this.unanswered.push({ action, payload, at: this.clock.now() });
    return true;
  }
}

interface PlannedSession {
  plugAt: number;
  startAt: number;
  stopAt: number;
  /** 'local': stopped from Home Assistant, unplugged later; 'unplug': the car is unplugged mid-charge. */
  endBy: 'local' | 'unplug';
  unplugAt: number;
}

interface Outage {
  from: number;
  to: number;
  how: 'closed' | 'hung';
}

/** One BS20 and the backend it is presented to. */
interface Upstream {
  peer: string;
  chargerId: string;
  port: number;
  make: (port: number, clock: ManualClock) => Backend;
  backend?: Backend;
  plan: PlannedSession[];
  outages: Outage[];
  /** The BS20's lifetime register (Wh) at each session's start and after its end. */
  register: Array<{ start: number; stop: number }>;
  /** The sessions chargebridge recorded for this charger, oldest first (sessions/list). */
  local: Array<Record<string, unknown>>;
}

/** Sessions back to back with idle gaps, from `t0`. */
function planSessions(random: SeededRandom, t0: number): PlannedSession[] {
  const sessions: PlannedSession[] = [];
  let cursor = t0;
  for (let k = 0; k < SESSIONS; k++) {
    const plugAt = cursor + random.between(10, 60) * MINUTE;
    const startAt = plugAt + MINUTE;
    const stopAt = startAt + random.between(20, 180) * MINUTE;
    const endBy = random.chance(0.5) ? 'local' : 'unplug';
    const unplugAt = endBy === 'local' ? stopAt + random.between(2, 10) * MINUTE : stopAt;
    sessions.push({ plugAt, startAt, stopAt, endBy, unplugAt });
    cursor = unplugAt;
  }
  return sessions;
}

/**
 * Outages of 10 min to 6 h with up-time between them; one spans a whole session from plug to
 * unplug, so that transaction starts and ends while the backend is away.
 */
function planOutages(random: SeededRandom, sessions: PlannedSession[], t0: number, end: number): Outage[] {
  const how = (): Outage['how'] => (random.chance(0.5) ? 'closed' : 'hung');
  const spanned = sessions[random.int(sessions.length)]!;
  const whole: Outage = {
    from: spanned.plugAt - random.between(2, 20) * MINUTE,
    to: spanned.unplugAt + random.between(2, 30) * MINUTE,
    how: how(),
  };
  const outages: Outage[] = [whole];
  let cursor = t0 + random.between(5, 60) * MINUTE;
  while (cursor + 10 * MINUTE < end) {
    // Back by the end of the plan, so the run stays bounded.
    const to = Math.min(end, cursor + random.between(10, 360) * MINUTE);
    if (to + 5 * MINUTE > whole.from && cursor < whole.to + 5 * MINUTE) {
      cursor = whole.to + random.between(10, 60) * MINUTE;
      continue;
    }
    outages.push({ from: cursor, to, how: how() });
    cursor = to + random.between(15, 120) * MINUTE;
  }
  outages.sort((a, b) => a.from - b.from);
  // Both ways of going away, in every run.
  if (!outages.some((o) => o.how === 'closed')) outages[0]!.how = 'closed';
  if (!outages.some((o) => o.how === 'hung')) outages.at(-1)!.how = 'hung';
  return outages;
}

function chargerYaml(chargerId: string, port: number): string {
  return [
    `  - id: ${chargerId}`,
    '    type: bs20',
    '    transport: simulated',
    '    max_current: 16',
    '    ocpp_upstream:',
    `      url: ws://127.0.0.1:${port}/ocpp`,
    `      station_id: BS20-${chargerId.toUpperCase()}`,
    '      id_tag: HOME',
    `      meter_value_sample_interval_s: ${SAMPLE_INTERVAL_S}`,
    `      call_timeout_s: ${CALL_TIMEOUT_S}`,
    '      ping_interval_s: 0',
    '      reconnect_max_delay_s: 60',
  ].join('\n');
}

async function ioTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await ioTurn();
}

/** Lets frames already on the wire arrive before the backend goes away (an answer lost in flight is re-sent by design). */
async function quiesce(backend: Backend): Promise<void> {
  let seen = -1;
  let quiet = 0;
  const deadline = Date.now() + 2_000;
  while (quiet < 5 && Date.now() < deadline) {
    const now = backend.received.length + backend.unanswered.length;
    quiet = now === seen ? quiet + 1 : 0;
    seen = now;
    await ioTurn();
  }
}

const sampledEnergy = (request: Record<string, unknown>): number => {
  const [meterValue] = request.meterValue as Array<{
    sampledValue: Array<{ value: string; measurand?: string }>;
  }>;
  const energy = meterValue?.sampledValue.find(
    (v) => v.measurand === undefined || v.measurand === 'Energy.Active.Import.Register',
  );
  return Number(energy?.value);
};
const sampledAt = (request: Record<string, unknown>): number =>
  Date.parse((request.meterValue as Array<{ timestamp: string }>)[0]!.timestamp);

const upstreams: Upstream[] = [
  {
    peer: '@voltbras/ts-ocpp',
    chargerId: 'garage',
    port: 0,
    make: (port, clock) => new HangingVoltbras(port, clock),
    plan: [],
    outages: [],
    register: [],
    local: [],
  },
  {
    peer: 'ocpp-ts',
    chargerId: 'carport',
    port: 0,
    make: (port, clock) => new HangingOcppTs(port, clock),
    plan: [],
    outages: [],
    register: [],
    local: [],
  },
];

let rig: DaemonRig | undefined;
afterAll(async () => {
  await rig?.stop();
  for (const u of upstreams) await u.backend?.stop();
});

describe('upstream backends down for hours', () => {
  beforeAll(async () => {
    const seed = runSeed('ocpp-upstream-outage');
    const random = seededRandom(seed);
    for (const u of upstreams) u.port = await freePort();
    rig = await startDaemonRig({
      chargersYaml: upstreams.map((u) => chargerYaml(u.chargerId, u.port)).join('\n'),
      // Home Assistant is asked for the recorded sessions at the end only.
      probe: null,
    });
    const { clock } = rig;
    // Hung backends that recover once the charge point is waiting for an answer (or after 5 min).
    const recovering: Array<{ cs: Backend; latest: number }> = [];
    const step = async (ms = STEP_MS) => {
      await clock.advance(ms);
      await ioTurns(3);
      for (const r of [...recovering]) {
        const waiting = r.cs.unanswered.at(-1)!.at > clock.now() - (CALL_TIMEOUT_S - 10) * 1000;
        if (!waiting && clock.now() < r.latest) continue;
        r.cs.silent = false;
        recovering.splice(recovering.indexOf(r), 1);
      }
    };
    const until = async (condition: () => boolean, what: string, maxSimulatedMs: number, stepMs: number) => {
      const deadline = Date.now() + 20_000;
      const last = clock.now() + maxSimulatedMs;
      while (!condition()) {
        if (Date.now() > deadline || clock.now() > last) throw new Error(`gave up waiting for ${what}`);
        await step(stepMs);
      }
    };
    for (const u of upstreams) {
      u.backend = u.make(u.port, clock);
      await u.backend.start();
    }
    const backends = upstreams.map((u) => u.backend!);
    await until(() => backends.every((b) => b.of('Heartbeat').length > 0), 'boot', 5 * MINUTE, 1_000);

    const t0 = clock.now();
    const events: Array<{ at: number; run: () => Promise<void> | void }> = [];
    for (const u of upstreams) {
      const cs = u.backend!;
      const sim: SimulatedBs20 = rig.sim(u.chargerId);
      const charger: Charger = rig.daemon.chargers.find((c) => c.id === u.chargerId)!;
      const registerWh = () => Math.round((charger.getState().energyTotalKwh ?? Number.NaN) * 1000);
      u.plan = planSessions(random, t0);
      u.outages = planOutages(random, u.plan, t0, u.plan.at(-1)!.unplugAt + 30 * MINUTE);
      const minutes = u.outages.map((o) => `${o.how} ${Math.round((o.to - o.from) / MINUTE)}`);
      console.info(`[ocpp-upstream-outage] ${u.peer} outages (min): ${minutes.join(', ')}`);

      u.plan.forEach((s, k) => {
        events.push(
          { at: s.plugAt, run: () => sim.plugIn({ demandA: 16 }) },
          {
            at: s.startAt,
            run: async () => {
              u.register[k] = { start: registerWh(), stop: Number.NaN };
              await charger.startCharging({ currentA: 16 });
            },
          },
          { at: s.stopAt, run: () => (s.endBy === 'local' ? charger.stopCharging() : sim.unplug()) },
          {
            // The register no longer moves once the charge has ended.
            at: s.stopAt + MINUTE,
            run: () => {
              u.register[k]!.stop = registerWh();
            },
          },
        );
        if (s.endBy === 'local') events.push({ at: s.unplugAt, run: () => sim.unplug() });
      });
      for (const o of u.outages) {
        events.push(
          {
            at: o.from,
            run: async () => {
              await quiesce(cs);
              if (o.how === 'closed') await cs.stop();
              else cs.silent = true;
            },
          },
          {
            at: o.to,
            run: async () => {
              if (o.how === 'closed') await cs.start();
              // A hung backend recovers while the charge point still waits for an answer it will never get.
              else recovering.push({ cs, latest: clock.now() + 5 * MINUTE });
            },
          },
        );
      }
    }
    events.sort((a, b) => a.at - b.at);

    const wallStart = Date.now();
    for (const event of events) {
      while (clock.now() < event.at) await step(Math.min(STEP_MS, event.at - clock.now()));
      await event.run();
    }
    // Back for good: the queues drain.
    await until(
      () => recovering.length === 0 && backends.every((b) => b.of('StopTransaction').length >= SESSIONS),
      'the last StopTransaction',
      3 * 60 * MINUTE,
      STEP_MS,
    );
    // Anything sent twice would show up now.
    for (let i = 0; i < 60; i++) await step();
    const simulatedH = (clock.now() - t0) / 3_600_000;
    console.info(
      `[ocpp-upstream-outage] ${simulatedH.toFixed(1)} simulated h in ${((Date.now() - wallStart) / 1000).toFixed(1)} s; ` +
        upstreams
          .map(
            (u) =>
              `${u.peer}: ${u.backend!.of('MeterValues').length} MeterValues, ${u.backend!.unanswered.length} calls left unanswered while hung`,
          )
          .join('; '),
    );

    // The sessions chargebridge recorded itself.
    const ha = await MqttProbe.connect(rig.daemon.mqttUrl, rig.login);
    await ha.subscribe('chargebridge/bridge/response/#');
    for (const u of upstreams) {
      await ha.publish(
        'chargebridge/bridge/request/sessions/list',
        JSON.stringify({ charger: u.chargerId, limit: 100, transaction: u.chargerId }),
      );
      const answer = parseJson(
        (
          await ha.waitFor(
            'chargebridge/bridge/response/sessions/list',
            (m) => parseJson(m.text).transaction === u.chargerId,
          )
        ).text,
      ) as { status: string; data: { sessions: Array<Record<string, unknown>>; open: unknown[] } };
      expect(answer.status).toBe('ok');
      expect(answer.data.open).toEqual([]);
      u.local = [...answer.data.sessions].reverse();
    }
    await ha.close();
  }, 90_000);

  it.each(upstreams)('$peer got every transaction message exactly once, in order, under its own ids', (u) => {
    const cs = u.backend!;
    // Transaction messages as the backend processed them, in arrival order.
    const traffic = cs.received.filter((r) => TRANSACTION_ACTIONS.includes(r.action));
    expect(cs.of('StartTransaction')).toHaveLength(SESSIONS);
    expect(cs.of('StopTransaction')).toHaveLength(SESSIONS);

    let position = 0;
    for (let k = 0; k < SESSIONS; k++) {
      // These backends number transactions 1, 2, … in the order they process StartTransaction.
      const id = k + 1;
      const session = u.plan[k]!;
      // Start, then its MeterValues, then its Stop; then the next transaction.
      expect(traffic[position]?.action).toBe('StartTransaction');
      const start = traffic[position]!.payload;
      position++;
      const samples: Array<Record<string, unknown>> = [];
      while (traffic[position]?.action === 'MeterValues') samples.push(traffic[position++]!.payload);
      expect(traffic[position]?.action).toBe('StopTransaction');
      const stop = traffic[position]!.payload;
      position++;

      expect(start).toMatchObject({ connectorId: 1, idTag: 'HOME', meterStart: u.register[k]!.start });
      expect(stop).toMatchObject({
        transactionId: id,
        meterStop: u.register[k]!.stop,
        reason: session.endBy === 'local' ? 'Local' : 'EVDisconnected',
      });
      const startedAt = Date.parse(String(start.timestamp));
      const stoppedAt = Date.parse(String(stop.timestamp));
      expect(startedAt).toBeGreaterThanOrEqual(session.startAt);
      expect(startedAt).toBeLessThan(session.startAt + 20_000);
      expect(stoppedAt).toBeGreaterThanOrEqual(session.stopAt);
      expect(stoppedAt).toBeLessThan(session.stopAt + 20_000);

      // One sample per interval from the start to the stop: none lost, none repeated.
      expect(samples.every((m) => m.transactionId === id && m.connectorId === 1)).toBe(true);
      const times = samples.map(sampledAt);
      expect(times[0]).toBe(startedAt + SAMPLE_INTERVAL_S * 1000);
      expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual(
        times.slice(1).map(() => SAMPLE_INTERVAL_S * 1000),
      );
      expect(stoppedAt - times.at(-1)!).toBeLessThanOrEqual(SAMPLE_INTERVAL_S * 1000);
      const energies = samples.map(sampledEnergy);
      expect(energies).toEqual([...energies].sort((a, b) => a - b));
      expect(energies[0]!).toBeGreaterThanOrEqual(u.register[k]!.start);
      expect(energies.at(-1)!).toBeLessThanOrEqual(u.register[k]!.stop);
    }
    expect(position).toBe(traffic.length);
  });

  it.each(upstreams)('the sessions recorded for the BS20 behind $peer match what it was told', (u) => {
    expect(u.local.map((s) => [s.meter_start_kwh, s.meter_stop_kwh])).toEqual(
      u.register.map((r) => [r.start / 1000, r.stop / 1000]),
    );
    const starts = u.backend!.of('StartTransaction');
    const stops = u.backend!.of('StopTransaction');
    expect(u.local.map((s) => [s.meter_start_kwh, s.meter_stop_kwh])).toEqual(
      starts.map((start, k) => [Number(start.meterStart) / 1000, Number(stops[k]?.meterStop) / 1000]),
    );
  });
});

describe('a hung backend that recovers while the charge point waits for an answer', () => {
  let single: DaemonRig | undefined;
  let cs: HangingVoltbras | undefined;
  afterAll(async () => {
    await single?.stop();
    await cs?.stop();
  });

  it('gets the transaction message queued behind that call once', async () => {
    const port = await freePort();
    single = await startDaemonRig({ chargersYaml: chargerYaml('garage', port), probe: null });
    const { clock } = single;
    cs = new HangingVoltbras(port, clock);
    await cs.start();
    const backend = cs;
    const sim = single.sim();
    const charger = single.daemon.chargers[0]!;
    const runUntil = async (condition: () => boolean, what: string) => {
      const deadline = Date.now() + 10_000;
      for (let turn = 0; !condition(); turn++) {
        if (Date.now() > deadline || turn > 1_800) throw new Error(`gave up waiting for ${what}`);
        await clock.advance(1_000);
        await ioTurns(3);
      }
    };
    await runUntil(() => backend.of('Heartbeat').length > 0, 'boot');
    sim.plugIn({ demandA: 16 });
    await clock.advance(MINUTE);
    await charger.startCharging({ currentA: 16 });
    await runUntil(() => backend.of('MeterValues').length === 1, 'the first MeterValues');

    // The backend hangs: the next MeterValues goes unanswered, the charge point gives up on it,
    // reconnects, and reports its connector status first.
    backend.silent = true;
    await runUntil(
      () => backend.unanswered.some((u) => u.action === 'StatusNotification'),
      'a StatusNotification left unanswered',
    );
    const statusAt = clock.now();
    // While it waits for that answer, the car is unplugged (a StopTransaction joins the queue) …
    sim.unplug();
    await runUntil(() => clock.now() >= statusAt + 15_000, 'the unplug to be seen');
    // … and the backend recovers before the charge point gives up on the status.
    backend.silent = false;
    await runUntil(() => backend.of('StopTransaction').length > 0, 'the StopTransaction');
    await runUntil(() => clock.now() >= statusAt + 10 * MINUTE, 'ten more minutes');

    expect(backend.of('StartTransaction')).toHaveLength(1);
    expect(backend.of('StopTransaction')).toHaveLength(1);
    const times = backend.of('MeterValues').map(sampledAt);
    expect(times).toEqual([...new Set(times)]);
  }, 30_000);
});

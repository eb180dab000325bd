/**
 * Hostile payloads on every `chargebridge/<charger>/set/<key>` topic through a live broker into the
 * real daemon, with the embedded broker and with Mosquitto. Whatever arrives, the simulated charger
 * never sees a current outside 6 A…ceiling (every 0x8107 SET and 0x8007 start is checked at the
 * charger), every payload the parser refuses is answered by `command_rejected` without echoing
 * a megabyte back, and the daemon still obeys a plain command afterwards.
 */
import { afterEach, expect, it } from 'vitest';
import { SettingAction } from '../../src/evse-master/protocol/commands.js';
import { COMMAND_KEYS, type CommandContext, parseCommand } from '../../src/homeassistant/commands.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { describeEach, type SystemProgram } from '../helpers/system-programs.js';
import {
  type DaemonRig,
  embeddedBrokerYaml,
  parseJson,
  runFor,
  startDaemonRig,
  waitUntil,
} from '../reliability/daemon-rig.js';
import { runSeed, seededRandom } from '../reliability/seeded-random.js';
import { HOSTILE_PAYLOADS, randomPayload } from './hostile-payloads.js';

const CEILING_A = 16;
const RANDOM_PER_KEY = 15;
const CHARGER_YAML = [
  '  - id: garage',
  '    type: bs20',
  '    transport: simulated',
  `    max_current: ${CEILING_A}`,
  '    simulator:',
  '      hardware_max_current: 32',
  '      car: { plugged_at_start: true, demand_a: 32, battery_kwh: 200 }',
].join('\n');

const HOSTILE_TOPICS = [
  'chargebridge/garage/set/',
  'chargebridge/garage/set/max_current/extra',
  'chargebridge/nobody/set/max_current',
  'chargebridge/GARAGE/set/max_current',
  'chargebridge/garage/SET/max_current',
  'chargebridge/garage/set/max_current ',
  'chargebridge//set/max_current',
  'chargebridge/bridge/set/max_current',
  'chargebridge/garage/set/__proto__',
  'chargebridge/garäge/set/max_current',
];

interface Setup {
  name: string;
  needs?: SystemProgram;
  mqttYaml(): Promise<{ yaml: string; cleanup: () => Promise<void> }>;
}

const setups: Setup[] = [
  {
    name: 'embedded broker',
    mqttYaml: async () => ({ yaml: await embeddedBrokerYaml(), cleanup: async () => undefined }),
  },
  {
    name: 'Mosquitto',
    needs: 'mosquitto',
    async mqttYaml() {
      const mosquitto = await startMosquitto();
      return {
        yaml: `  url: ${mosquitto.url}\n  reconnect_period_ms: 200`,
        cleanup: () => mosquitto.dispose(),
      };
    },
  },
];

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describeEach(setups)('fuzz: command topics through $name', (setup) => {
  it('never lets a payload put an out-of-range current on the wire, and keeps working', async () => {
    const seed = runSeed(`command topics (${setup.name})`);
    const random = seededRandom(seed);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    cleanups.push(async () => void process.off('unhandledRejection', onUnhandled));

    const broker = await setup.mqttYaml();
    cleanups.push(broker.cleanup);
    const rig: DaemonRig = await startDaemonRig({
      mqttYaml: broker.yaml,
      chargersYaml: CHARGER_YAML,
      extraYaml: 'users:\n  - name: alice\n  - name: bob',
    });
    cleanups.push(() => rig.stop());
    const { clock } = rig;
    const ha = rig.ha!;
    const sim = rig.sim();
    const charger = rig.daemon.chargers[0]!;
    await waitUntil(
      () => charger.getState().link === 'online' && charger.getState().maxCurrentA === CEILING_A,
      clock,
      {
        what: 'login and the ceiling enforced',
      },
    );

    const outOfRange: string[] = [];
    const writes = { set: 0, start: 0, logins: 0 };
    sim.events.on('login', (phase) => {
      if (phase === 'logged_in') writes.logins++;
    });
    sim.events.on('received', ({ message }) => {
      if (message.type === 'max_current_request' && message.action === SettingAction.Set) {
        writes.set++;
        if (message.currentA === null || message.currentA < 6 || message.currentA > CEILING_A) {
          outOfRange.push(`0x8107 SET ${message.currentA} A`);
        }
      }
      if (message.type === 'charge_start') {
        writes.start++;
        if (message.maxCurrentA < 6 || message.maxCurrentA > CEILING_A)
          outOfRange.push(`0x8007 ${message.maxCurrentA} A`);
      }
    });

    // What the parser alone refuses is a lower bound for the rejections the daemon must publish.
    const context: CommandContext = { ceilingA: CEILING_A, users: ['alice', 'bob'], nowMs: clock.now() };
    const refusedByParser = new Map<string, number>();
    const accepted = { max_current: 0, starts: 0 };
    const keys = [...COMMAND_KEYS, 'bogus'];
    let sent = 0;
    for (const key of keys) {
      const payloads = [...HOSTILE_PAYLOADS];
      for (let i = 0; i < RANDOM_PER_KEY; i++) payloads.push(randomPayload(random));
      for (const payload of payloads) {
        const parsed = parseCommand(key, payload, context);
        if (!parsed.ok && key !== 'scheduled_start')
          refusedByParser.set(key, (refusedByParser.get(key) ?? 0) + 1);
        // A set of the current comes from max_current or from applying the charge plan.
        if (parsed.ok && (parsed.command.key === 'max_current' || parsed.command.key === 'plan_apply'))
          accepted.max_current++;
        // The daemon parses later than this loop (the clock moves meanwhile), so a schedule just past
        // the 24-hour limit here can be inside it there: count a start if either moment accepts it.
        const later = parseCommand(key, payload, { ...context, nowMs: context.nowMs + 5 * 60_000 });
        const startAt = (r: typeof parsed) =>
          r.ok && (r.command.key === 'charging' || r.command.key === 'scheduled_start');
        if (startAt(parsed) || startAt(later)) accepted.starts++;
        await ha.publish(`chargebridge/garage/set/${key}`, payload, { qos: random.chance(0.5) ? 1 : 0 });
        sent++;
      }
    }
    for (const topic of HOSTILE_TOPICS) await ha.publish(topic, '16');

    const rejections = () =>
      ha
        .on('chargebridge/bridge/event')
        .map((m) => ({ size: m.payload.length, event: parseJson(m.text) }))
        .filter((e) => e.event.type === 'command_rejected');
    const rejectedFor = (key: string) =>
      rejections().filter((e) => (e.event.data as { key?: string } | undefined)?.key === key).length;
    const context_ = `seed ${seed}, ${sent} payloads`;
    await waitUntil(() => [...refusedByParser].every(([key, count]) => rejectedFor(key) >= count), clock, {
      what: `every refused payload answered (${context_})`,
      timeoutMs: 30_000,
      stepMs: 200,
    });
    await runFor(clock, 60_000, 500);

    expect(outOfRange, context_).toEqual([]);
    // No write the commands did not ask for: one ceiling SET per login at most, starts only from ON/schedules.
    expect(writes.set, context_).toBeLessThanOrEqual(accepted.max_current + writes.logins + 1);
    expect(writes.start, context_).toBeLessThanOrEqual(accepted.starts);
    // Rejections quote a short, printable payload: a megabyte is never echoed.
    const biggest = Math.max(...rejections().map((e) => e.size));
    expect(biggest, context_).toBeLessThan(2_000);
    for (const topic of ['chargebridge/nobody/set/max_current', 'chargebridge/garage/set/__proto__']) {
      const [, charger_, , key] = topic.split('/');
      expect(
        rejections().some(
          (e) => e.event.charger === charger_ && (e.event.data as { key?: string }).key === key,
        ),
        topic,
      ).toBe(true);
    }

    // Still alive and obeying: a plain command after the barrage reaches the charger.
    await waitUntil(() => charger.getState().link === 'online', clock, {
      what: 'link online',
      stepMs: 1_000,
      timeoutMs: 15_000,
    });
    const before = writes.set;
    await ha.publish('chargebridge/garage/set/max_current', '11');
    await waitUntil(
      () =>
        sim.receivedFrames.some((f) => f.message.type === 'max_current_request' && f.message.currentA === 11),
      clock,
      { what: 'the 11 A frame after the barrage' },
    );
    expect(writes.set).toBeGreaterThan(before);
    await waitUntil(
      () => parseJson(ha.on('chargebridge/garage').at(-1)?.text ?? '{}').max_current_a === 11,
      clock,
      {
        what: 'the 11 A state',
        stepMs: 500,
      },
    );
    expect(unhandled, context_).toEqual([]);
  }, 90_000);
});

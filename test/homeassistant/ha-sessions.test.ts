import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Cmd } from '../../src/evse-master/protocol/commands.js';
import type { ChargerStateExtras } from '../../src/homeassistant/state.js';
import { brokers, type TestBroker } from '../helpers/brokers.js';
import type { ReceivedMessage } from '../helpers/mqtt-probe.js';
import { describeEach } from '../helpers/system-programs.js';
import { HaRig } from './ha-rig.js';

type Json = Record<string, unknown>;
const json = (m: ReceivedMessage) => JSON.parse(m.text) as Json;

describeEach(brokers)('Home Assistant with the session tracker against $name', (kind) => {
  let broker: TestBroker;
  let rig: HaRig | undefined;
  let extras: ChargerStateExtras = {};

  beforeAll(async () => {
    broker = await kind.start();
  });
  afterAll(() => broker.stop());
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  async function sessionRig(): Promise<HaRig> {
    extras = {};
    const r = await HaRig.create(broker, {
      extension: {
        sessionFeatures: (id) => (id === 'garage' ? { users: ['alice', 'bob'], currency: 'EUR' } : null),
        stateExtras: () => extras,
      },
    });
    rig = r;
    await r.ext.start();
    await r.chargerOnline();
    await r.probe.waitFor(r.stateTopic, (m) => json(m).link === 'online');
    return r;
  }

  async function command(r: HaRig, key: string, payload: string): Promise<void> {
    const mark = r.probe.received.length;
    await r.probe.publish(`${r.base}/garage/set/${key}`, payload);
    await r.clock.advance(1000);
    await r.barrier();
    const rejections = r.probe.received.slice(mark).filter((m) => m.topic === r.bridgeEventTopic);
    expect(rejections.map((m) => m.text)).toEqual([]);
  }

  it('the user select and session limits go into the next start (0x8007 carries them)', async () => {
    const r = await sessionRig();
    const components = (json(await r.probe.waitFor(r.deviceTopic)).components ?? {}) as Record<string, Json>;
    expect(components.user).toMatchObject({
      p: 'select',
      options: ['alice', 'bob'],
      command_topic: `${r.base}/garage/set/user`,
    });
    expect(components.session_cost).toMatchObject({ unit_of_measurement: 'EUR' });

    await command(r, 'user', 'Bob');
    await command(r, 'session_limit_energy', '12.5');
    await command(r, 'session_limit_minutes', '90');
    expect(r.lastState()).toMatchObject({
      user: 'bob',
      session_limit_energy_kwh: 12.5,
      session_limit_minutes: 90,
    });

    r.sim.plugIn();
    await r.clock.advance(10_000);
    const start = r.nextFrame(Cmd.ChargeStart);
    await r.probe.publish(`${r.base}/garage/set/charging`, 'ON');
    expect((await start).message).toMatchObject({
      userId: 'bob',
      maxEnergyKwh: 12.5,
      maxDurationMinutes: 90,
    });

    const mark = r.probe.received.length;
    await r.probe.publish(`${r.base}/garage/set/user`, 'carol');
    const rejected = json(
      await r.waitAfter(mark, r.bridgeEventTopic, (m) => json(m).type === 'command_rejected'),
    );
    expect(rejected).toMatchObject({
      type: 'command_rejected',
      data: { key: 'user', error: /not a configured user/ },
    });
    expect(r.lastState().user).toBe('bob');
  });

  it('refreshState publishes the tracker extras; publishSessionEvent reaches the event entity and bridge/event', async () => {
    const r = await sessionRig();
    let mark = r.probe.received.length;
    extras = {
      session: { energyKwh: 3.25, durationS: 600, startedAt: r.clock.now(), userId: 'alice', cost: 1.1 },
    };
    r.ext.refreshState('garage');
    await r.clock.advance(1000);
    const state = json(await r.waitAfter(mark, r.stateTopic, (m) => json(m).session_energy_kwh === 3.25));
    expect(state).toMatchObject({ session_duration_s: 600, session_user: 'alice', session_cost: 1.1 });

    mark = r.probe.received.length;
    await r.ext.publishSessionEvent('garage', 'session_started', r.clock.now(), { session_id: 's1' });
    expect(json(await r.waitAfter(mark, `${r.base}/garage/event`))).toMatchObject({
      event_type: 'session_started',
      session_id: 's1',
    });
    expect(json(await r.waitAfter(mark, r.bridgeEventTopic))).toEqual({
      type: 'session_started',
      charger: 'garage',
      data: { session_id: 's1' },
    });
  });
});

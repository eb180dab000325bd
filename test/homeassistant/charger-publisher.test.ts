import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { ChargerPublisher } from '../../src/homeassistant/charger-publisher.js';
import { createTopics } from '../../src/homeassistant/topics.js';
import { silentLogger } from '../../src/log.js';
import { FakeCharger, RecordingConnection } from './fakes.js';

const topics = createTopics({ baseTopic: 'cb', discoveryPrefix: 'homeassistant' });

describe('ChargerPublisher', () => {
  let clock: ManualClock;
  let charger: FakeCharger;
  let connection: RecordingConnection;
  let bridgeEvents: Array<{ type: string; charger: string; data: Record<string, unknown> }>;
  let publisher: ChargerPublisher;

  beforeEach(() => {
    clock = new ManualClock();
    charger = new FakeCharger('garage', 'Garage', 'bs20', clock.now());
    connection = new RecordingConnection();
    bridgeEvents = [];
    publisher = new ChargerPublisher({
      charger,
      topics,
      connection,
      clock,
      logger: silentLogger(),
      throttleMs: 1000,
      refreshMs: 30_000,
      extras: () => ({}),
      bridgeEvent: async (type, id, data) => {
        bridgeEvents.push({ type, charger: id, data });
      },
    });
    publisher.start();
  });

  const states = () =>
    connection.on('cb/garage').map((p) => JSON.parse(p.payload) as Record<string, unknown>);

  it('turns a burst of state changes into one publish now and one with the latest values a second later', async () => {
    for (let w = 100; w <= 1000; w += 100) charger.update({ powerW: w });
    await clock.advance(0);
    expect(states().map((s) => s.power_w)).toEqual([100]);
    await clock.advance(999);
    expect(states()).toHaveLength(1);
    await clock.advance(1);
    expect(states().map((s) => s.power_w)).toEqual([100, 1000]);
    expect(connection.on('cb/garage').every((p) => p.retain && p.qos === 1)).toBe(true);
    // Quiet for longer than the throttle: the next change goes out at once.
    await clock.advance(5000);
    charger.update({ powerW: 7 });
    await clock.advance(0);
    expect(states().map((s) => s.power_w)).toEqual([100, 1000, 7]);
  });

  it('does not publish a state that did not change', async () => {
    charger.update({ powerW: 5 });
    await clock.advance(2000);
    charger.update({});
    await clock.advance(2000);
    expect(states()).toHaveLength(1);
  });

  it('publishes availability and state at once when the link changes, even inside the throttle window', async () => {
    charger.update({ powerW: 1 });
    await clock.advance(0);
    charger.update({ link: 'offline', status: 'offline' });
    await clock.advance(0);
    expect(states().map((s) => s.link)).toEqual(['online', 'offline']);
    expect(connection.on('cb/garage/availability').map((p) => [p.payload, p.retain])).toEqual([
      ['offline', true],
    ]);
    charger.update({ link: 'connecting' });
    await clock.advance(0);
    // Still "offline" for Home Assistant: not sent twice.
    expect(connection.on('cb/garage/availability')).toHaveLength(1);
  });

  it('re-publishes an unchanged state every refresh period while online, and not while offline', async () => {
    await publisher.publishAll();
    expect(states()).toHaveLength(1);
    await clock.advance(30_000);
    expect(states()).toHaveLength(2);
    expect(states()[1]).toEqual(states()[0]);
    await clock.advance(30_000);
    expect(states()).toHaveLength(3);
    charger.update({ link: 'offline', status: 'offline' });
    await clock.advance(0);
    const count = states().length;
    await clock.advance(120_000);
    expect(states()).toHaveLength(count);
  });

  it('publishes charger events on the event topic and, renamed, on bridge/event', async () => {
    charger.emitEvent({ type: 'plugged', at: clock.now() });
    charger.emitEvent({ type: 'error_raised', at: clock.now(), data: { error: 'over_temperature_inner' } });
    charger.emitEvent({ type: 'link_up', at: clock.now() });
    charger.emitEvent({ type: 'link_lost', at: clock.now(), data: { link: 'offline' } });
    await clock.advance(0);
    const events = connection.on('cb/garage/event');
    expect(events.map((e) => JSON.parse(e.payload).event_type)).toEqual(['plugged', 'error_raised']);
    expect(events.every((e) => !e.retain && e.qos === 1)).toBe(true);
    expect(JSON.parse(events[1]?.payload ?? '{}')).toMatchObject({ error: 'over_temperature_inner' });
    expect(bridgeEvents).toEqual([
      { type: 'plugged', charger: 'garage', data: {} },
      { type: 'error_raised', charger: 'garage', data: { error: 'over_temperature_inner' } },
      { type: 'charger_connected', charger: 'garage', data: {} },
      { type: 'charger_lost', charger: 'garage', data: { link: 'offline' } },
    ]);
  });

  it('forces a publish of an unchanged state (snap back) and after a reconnect', async () => {
    await publisher.publishState(false);
    await publisher.publishState(false);
    expect(states()).toHaveLength(1);
    await publisher.publishState(true);
    expect(states()).toHaveLength(2);
    connection.generation++;
    await publisher.publishState(false);
    expect(states()).toHaveLength(3);
  });

  it('survives a failing connection and tries again next time', async () => {
    connection.fail = true;
    await publisher.publishState(false);
    await publisher.publishAll();
    connection.fail = false;
    await publisher.publishState(false);
    expect(states()).toHaveLength(1);
  });

  it('leaves no timer behind after stop and ignores the charger from then on', async () => {
    charger.update({ powerW: 1 });
    charger.update({ powerW: 2 });
    await clock.advance(0);
    publisher.stop();
    expect(clock.pendingTimers()).toBe(0);
    charger.update({ powerW: 3 });
    charger.emitEvent({ type: 'plugged', at: clock.now() });
    await clock.advance(60_000);
    expect(states().map((s) => s.power_w)).toEqual([1]);
    expect(bridgeEvents).toEqual([]);
  });
});

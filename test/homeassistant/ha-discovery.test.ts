import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { REGISTRY_FILE_NAME } from '../../src/homeassistant/discovery-registry.js';
import { brokers, type TestBroker } from '../helpers/brokers.js';
import { nextEvent } from '../helpers/mqtt-probe.js';
import { describeEach } from '../helpers/system-programs.js';
import { HaRig } from './ha-rig.js';

type Component = Record<string, unknown>;

function componentsOf(text: string): Record<string, Component> {
  return (JSON.parse(text) as { components: Record<string, Component> }).components;
}

describeEach(brokers)('Home Assistant discovery against $name', (kind) => {
  let broker: TestBroker;
  const rigs: HaRig[] = [];

  beforeAll(async () => {
    broker = await kind.start();
  });
  afterAll(() => broker.stop());
  afterEach(async () => {
    for (const rig of rigs.splice(0)) await rig.close();
  });

  async function rig(options: Parameters<typeof HaRig.create>[1] = {}): Promise<HaRig> {
    const r = await HaRig.create(broker, options);
    rigs.push(r);
    return r;
  }

  it('publishes retained device-based discovery for the charger and the bridge, with availability on both', async () => {
    const r = await rig();
    await r.ext.start();
    await r.chargerOnline();
    // Published again once the charger told us its firmware at login.
    const config = await r.probe.waitFor(r.deviceTopic, (m) => m.text.includes('"sw_version":"C.'));
    const payload = JSON.parse(config.text) as Record<string, Record<string, unknown>>;
    expect(payload.device).toMatchObject({
      identifiers: ['chargebridge_garage'],
      name: 'Garage',
      manufacturer: 'Besen',
      model: 'BS20',
      serial_number: '1122334455667788',
      via_device: 'chargebridge_bridge',
    });
    expect(payload.origin).toEqual({
      name: 'chargebridge',
      sw_version: '0.1.0-test',
      support_url: 'https://example.invalid',
    });
    const components = componentsOf(config.text);
    const entities = Object.entries(components).filter(([, c]) => c.p !== 'device_automation');
    expect(entities.length).toBeGreaterThan(10);
    const uniqueIds = new Set<unknown>();
    for (const [key, c] of entities) {
      expect(c.unique_id).toBe(`chargebridge_garage_${key}`);
      expect(c.default_entity_id).toBe(`${String(c.p)}.garage_${key}`);
      uniqueIds.add(c.unique_id);
      const availability = c.availability as Array<{ topic: string }>;
      expect(c.availability_mode).toBe('all');
      expect(availability.map((a) => a.topic)).toContain(`${r.base}/bridge/state`);
      // Only the link and status entities stay up without the charger, so they can say "offline".
      if (!['status', 'link', 'link_state'].includes(key)) {
        expect(availability.map((a) => a.topic)).toContain(r.availabilityTopic);
      }
    }
    expect(uniqueIds.size).toBe(entities.length);
    expect(components.max_current).toMatchObject({
      p: 'number',
      min: 6,
      max: 32,
      command_topic: `${r.base}/garage/set/max_current`,
    });
    expect(components.power).toMatchObject({ expire_after: 60, state_topic: r.stateTopic });

    const bridge = await r.probe.waitFor(`${r.prefix}/device/chargebridge_bridge/config`);
    expect(Object.keys(componentsOf(bridge.text))).toEqual(
      expect.arrayContaining(['connection_state', 'log_level', 'restart', 'chargers_online']),
    );
    // A client that subscribes later (Home Assistant after a restart) gets them as retained messages.
    const late = await r.newProbe();
    try {
      const retained = await late.waitFor(r.deviceTopic);
      expect(retained.retain).toBe(true);
      expect(retained.text).toBe(config.text);
      expect((await late.waitFor(`${r.base}/bridge/state`)).text).toBe('{"state":"online"}');
      expect((await late.waitFor(r.availabilityTopic)).text).toBe('online');
      const info = JSON.parse((await late.waitFor(`${r.base}/bridge/info`)).text) as Record<string, unknown>;
      expect(info).toMatchObject({
        version: '0.1.0-test',
        chargers_online: 1,
        config: { mqtt: { base_topic: r.base } },
      });
    } finally {
      await late.close();
    }
    // Unchanged configs are not sent again on ordinary state changes.
    const before = r.probe.on(r.deviceTopic).length;
    r.sim.plugIn();
    const mark = r.probe.received.length;
    await r.clock.advance(10_000);
    await r.waitAfter(mark, r.stateTopic, (m) => m.text.includes('"plugged":true'));
    await r.barrier();
    expect(r.probe.on(r.deviceTopic).length).toBe(before);
  });

  it("re-publishes discovery, then states, after Home Assistant's birth message (after the random delay)", async () => {
    const r = await rig();
    await r.ext.start();
    await r.chargerOnline();
    await r.probe.waitFor(r.stateTopic);
    const mark = r.probe.received.length;
    await r.probe.publish(r.statusTopic, 'online');
    await r.barrier();
    // Nothing before the delay is over.
    await r.clock.advance(1999);
    await r.barrier();
    expect(r.probe.received.slice(mark).filter((m) => m.topic === r.deviceTopic)).toHaveLength(0);
    await r.clock.advance(1);
    const config = await r.waitAfter(mark, r.deviceTopic);
    const afterConfig = r.probe.received.indexOf(config) + 1;
    await r.waitAfter(afterConfig, r.stateTopic);
    await r.waitAfter(afterConfig, r.availabilityTopic, (m) => m.text === 'online');
    await r.waitAfter(mark, `${r.base}/bridge/state`, (m) => m.text === '{"state":"online"}');
    await r.waitAfter(mark, `${r.prefix}/device/chargebridge_bridge/config`);
    // `offline` from Home Assistant (its last will) asks for nothing.
    const mark2 = r.probe.received.length;
    await r.probe.publish(r.statusTopic, 'offline');
    await r.barrier();
    await r.clock.advance(5000);
    await r.barrier();
    expect(r.probe.received.slice(mark2).filter((m) => m.topic === r.deviceTopic)).toHaveLength(0);
  });

  it('publishes everything again after a broker restart (the broker lost its retained messages)', async () => {
    const r = await rig();
    await r.ext.start();
    await r.chargerOnline();
    await r.probe.waitFor(r.deviceTopic);
    await r.probe.close();
    const reconnected = nextEvent(r.connection, 'connected', 15_000);
    await broker.restart();
    await reconnected;
    r.probe = await r.newProbe();
    expect((await r.probe.waitFor(r.deviceTopic)).retain).toBe(true);
    expect((await r.probe.waitFor(r.availabilityTopic)).text).toBe('online');
    expect(JSON.parse((await r.probe.waitFor(r.stateTopic)).text)).toMatchObject({
      link: 'online',
      status: 'available',
    });
    expect((await r.probe.waitFor(`${r.base}/bridge/state`)).text).toBe('{"state":"online"}');
    await r.probe.waitFor(`${r.prefix}/device/chargebridge_bridge/config`);
  });

  it('removes a device it published before and no longer has, and remembers what it published', async () => {
    const first = await rig();
    await first.ext.start();
    await first.probe.waitFor(first.deviceTopic);
    await first.ext.stop();
    const registryFile = join(first.dataDir, REGISTRY_FILE_NAME);
    const registry = JSON.parse(await readFile(registryFile, 'utf8')) as {
      devices: Record<string, { topic: string; components: Record<string, string> }>;
    };
    expect(Object.keys(registry.devices).sort()).toEqual(['chargebridge_bridge', 'chargebridge_garage']);
    expect(registry.devices.chargebridge_garage?.topic).toBe(first.deviceTopic);

    // The next run knows a charger "carport" that has since been removed from the configuration.
    const staleTopic = `${first.prefix}/device/chargebridge_carport/config`;
    registry.devices.chargebridge_carport = { topic: staleTopic, components: { power: 'sensor' } };
    await writeFile(registryFile, JSON.stringify(registry));
    await first.probe.publish(staleTopic, '{"device":{"identifiers":["chargebridge_carport"]}}', {
      retain: true,
    });

    const second = await rig({ dataDir: first.dataDir, sameTopicsAs: first });
    const mark = second.probe.received.length;
    await second.ext.start();
    const removal = await second.waitAfter(mark, staleTopic, (m) => m.text === '');
    expect(removal.payload).toHaveLength(0);
    await second.ext.stop();
    // Kept until a Home Assistant is seen online after it: it may have been away for this one.
    const pending = JSON.parse(await readFile(registryFile, 'utf8')) as {
      devices: Record<string, { pendingRemoval?: boolean }>;
    };
    expect(pending.devices.chargebridge_carport?.pendingRemoval).toBe(true);

    const third = await rig({ dataDir: first.dataDir, sameTopicsAs: first });
    const mark3 = third.probe.received.length;
    await third.ext.start();
    await third.waitAfter(mark3, staleTopic, (m) => m.text === '');
    const birth = third.probe.received.length;
    await third.probe.publish(third.statusTopic, 'online');
    await third.barrier();
    await third.clock.advance(2000);
    await third.waitAfter(birth, staleTopic, (m) => m.text === '');
    // The registry entry predates recorded state topics: they follow from the device id.
    await third.waitAfter(birth, `${third.base}/carport`, (m) => m.text === '');
    await third.waitAfter(birth, `${third.base}/carport/availability`, (m) => m.text === '');
    await third.barrier(); // the removal's acknowledgement has reached the daemon
    await third.ext.stop();
    const after = JSON.parse(await readFile(registryFile, 'utf8')) as { devices: Record<string, unknown> };
    expect(Object.keys(after.devices).sort()).toEqual(['chargebridge_bridge', 'chargebridge_garage']);
    // Gone from the broker: a new subscriber gets no retained config for it.
    const late = await third.newProbe();
    try {
      await late.waitFor(third.deviceTopic);
      expect(late.on(staleTopic)).toHaveLength(0);
    } finally {
      await late.close();
    }
  });

  it('with discovery disabled publishes no config at all, while state, availability and commands work', async () => {
    const r = await rig({ extension: { discoveryEnabled: false } });
    await r.ext.start();
    await r.chargerOnline();
    await r.probe.waitFor(r.availabilityTopic, (m) => m.text === 'online');
    await r.probe.waitFor(r.stateTopic, (m) => m.text.includes('"link":"online"'));
    const mark = r.probe.received.length;
    const frame = r.nextFrame(0x8107);
    await r.probe.publish(`${r.base}/garage/set/max_current`, '10');
    await frame;
    await r.clock.advance(1000);
    await r.waitAfter(mark, r.stateTopic, (m) => m.text.includes('"max_current_a":10'));
    await r.probe.publish(r.statusTopic, 'online');
    await r.clock.advance(2000);
    await r.barrier();
    expect(r.probe.received.filter((m) => m.topic.startsWith(`${r.prefix}/device/`))).toEqual([]);
  });

  it('says offline for the charger and the bridge on a clean stop', async () => {
    const r = await rig();
    await r.ext.start();
    await r.chargerOnline();
    await r.probe.waitFor(r.availabilityTopic, (m) => m.text === 'online');
    const mark = r.probe.received.length;
    await r.ext.stop();
    await r.waitAfter(mark, r.availabilityTopic, (m) => m.text === 'offline');
    await r.waitAfter(mark, `${r.base}/bridge/state`, (m) => m.text === '{"state":"offline"}');
    const late = await r.newProbe();
    try {
      expect((await late.waitFor(r.availabilityTopic)).text).toBe('offline');
      expect((await late.waitFor(`${r.base}/bridge/state`)).text).toBe('{"state":"offline"}');
    } finally {
      await late.close();
    }
  });
});

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeCapabilities } from '../../src/homeassistant/capabilities.js';
import { buildChargerDiscovery, type DiscoveryMessage } from '../../src/homeassistant/discovery.js';
import { DiscoveryPublisher } from '../../src/homeassistant/discovery-publisher.js';
import { DiscoveryRegistry, REGISTRY_FILE_NAME } from '../../src/homeassistant/discovery-registry.js';
import { silentLogger } from '../../src/log.js';
import { RecordingConnection } from './fakes.js';
import { bs20Info, ORIGIN } from './fixtures.js';

function garage(phases: 1 | 3, prefix = 'homeassistant'): DiscoveryMessage {
  return buildChargerDiscovery({
    charger: { id: 'garage', name: 'Garage', kind: 'bs20', info: bs20Info(phases) },
    capabilities: describeCapabilities({
      kind: 'bs20',
      phases,
      maxCurrentA: 16,
      configurable: true,
      clock: true,
    }),
    baseTopic: 'cb',
    discoveryPrefix: prefix,
    bridgeDeviceId: 'chargebridge_bridge',
    origin: ORIGIN,
    expireAfterS: 60,
  });
}

const TOPIC = 'homeassistant/device/chargebridge_garage/config';

describe('DiscoveryPublisher and DiscoveryRegistry', () => {
  let dataDir: string;
  let connection: RecordingConnection;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'chargebridge-discovery-'));
    connection = new RecordingConnection();
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  async function publisherWithRegistry(): Promise<{
    publisher: DiscoveryPublisher;
    registry: DiscoveryRegistry;
  }> {
    const registry = new DiscoveryRegistry({ dataDir, logger: silentLogger() });
    await registry.load();
    return { publisher: new DiscoveryPublisher({ connection, registry, logger: silentLogger() }), registry };
  }

  const configs = () =>
    connection
      .on(TOPIC)
      .map((p) => JSON.parse(p.payload) as { components: Record<string, Record<string, unknown>> });

  it('publishes retained QoS 1, skips an unchanged config, sends again after a reconnect or forgetAll', async () => {
    const { publisher } = await publisherWithRegistry();
    expect(await publisher.publish('chargebridge_garage', garage(1))).toBe(true);
    expect(await publisher.publish('chargebridge_garage', garage(1))).toBe(false);
    connection.generation++;
    expect(await publisher.publish('chargebridge_garage', garage(1))).toBe(true);
    publisher.forgetAll();
    expect(await publisher.publish('chargebridge_garage', garage(1))).toBe(true);
    expect(connection.on(TOPIC).map((p) => [p.retain, p.qos])).toEqual([
      [true, 1],
      [true, 1],
      [true, 1],
    ]);
  });

  it('tombstones components a device lost, also after a restart (from the registry file)', async () => {
    const first = await publisherWithRegistry();
    await first.publisher.publish('chargebridge_garage', garage(3));
    await first.registry.flush();
    expect(configs()[0]?.components.voltage_l3).toMatchObject({ p: 'sensor' });

    // A new process: the charger turned out to be single-phase.
    const second = await publisherWithRegistry();
    await second.publisher.publish('chargebridge_garage', garage(1));
    const shrunk = configs()[1]?.components ?? {};
    for (const key of ['voltage_l2', 'voltage_l3', 'current_l2', 'current_l3'])
      expect(shrunk[key]).toEqual({ p: 'sensor' });
    expect(shrunk.voltage_l1).toMatchObject({ unique_id: 'chargebridge_garage_voltage_l1' });
    await second.registry.flush();
    // Tombstones are sent once, not carried forward.
    second.publisher.forgetAll();
    await second.publisher.publish('chargebridge_garage', garage(1));
    expect(configs()[2]?.components.voltage_l3).toBeUndefined();
  });

  it('clears the config at the old topic when the discovery prefix changed', async () => {
    const first = await publisherWithRegistry();
    await first.publisher.publish('chargebridge_garage', garage(1));
    await first.registry.flush();
    const second = await publisherWithRegistry();
    await second.publisher.publish('chargebridge_garage', garage(1, 'ha'));
    expect(connection.published.map((p) => [p.topic, p.payload === '' ? 'removed' : 'config'])).toEqual([
      [TOPIC, 'config'],
      [TOPIC, 'removed'],
      ['ha/device/chargebridge_garage/config', 'config'],
    ]);
  });

  it('removes devices it published before and no longer has, with their retained topics; keeps them pending until Home Assistant got it', async () => {
    const { publisher, registry } = await publisherWithRegistry();
    registry.set('chargebridge_old', {
      topic: 'homeassistant/device/chargebridge_old/config',
      components: { power: 'sensor' },
      name: 'Old',
      retained: ['cb/old', 'cb/old/availability'],
    });
    registry.set('chargebridge_gone', {
      topic: 'homeassistant/device/chargebridge_gone/config',
      components: {},
    });
    await publisher.publish('chargebridge_garage', garage(1));

    expect(publisher.planRemovals(new Set(['chargebridge_garage']), true)).toEqual([]);
    connection.fail = true;
    expect(await publisher.publishRemovals()).toEqual([]);
    expect([...registry.devices().keys()].sort()).toEqual([
      'chargebridge_garage',
      'chargebridge_gone',
      'chargebridge_old',
    ]);

    connection.fail = false;
    expect(await publisher.publishRemovals()).toEqual(['chargebridge_old', 'chargebridge_gone']);
    const removals = connection.published.filter((p) => p.payload === '');
    expect(removals.map((p) => [p.topic, p.retain, p.qos])).toEqual([
      ['homeassistant/device/chargebridge_old/config', true, 1],
      ['cb/old', true, 1],
      ['cb/old/availability', true, 1],
      ['homeassistant/device/chargebridge_gone/config', true, 1],
    ]);
    // Still on disk: a restart (and a broker that forgot the empty messages) sends them again.
    await registry.flush();
    const pending = JSON.parse(await readFile(registry.path, 'utf8')) as {
      devices: Record<string, { pendingRemoval?: boolean }>;
    };
    expect(pending.devices.chargebridge_old?.pendingRemoval).toBe(true);
    expect(pending.devices.chargebridge_garage?.pendingRemoval).toBeUndefined();

    publisher.forgetRemovals(['chargebridge_old', 'chargebridge_gone']);
    await registry.flush();
    const file = JSON.parse(await readFile(registry.path, 'utf8')) as { devices: Record<string, unknown> };
    expect(Object.keys(file.devices)).toEqual(['chargebridge_garage']);
    expect(await publisher.publishRemovals()).toEqual([]);
  });

  it('with no charger configured, removes nothing and names the devices it keeps', async () => {
    const { publisher, registry } = await publisherWithRegistry();
    await publisher.publish('chargebridge_garage', garage(1));
    expect(publisher.planRemovals(new Set(['chargebridge_bridge']), false)).toEqual(['chargebridge_garage']);
    expect(await publisher.publishRemovals()).toEqual([]);
    expect(connection.published.filter((p) => p.payload === '')).toEqual([]);
    expect(registry.get('chargebridge_garage')?.pendingRemoval).toBeUndefined();
  });

  it('a device configured again before its removal was delivered is published, not removed', async () => {
    const { publisher, registry } = await publisherWithRegistry();
    await publisher.publish('chargebridge_garage', garage(1));
    publisher.planRemovals(new Set(), true);
    expect(registry.get('chargebridge_garage')?.pendingRemoval).toBe(true);
    await publisher.publish('chargebridge_garage', garage(1));
    expect(registry.get('chargebridge_garage')?.pendingRemoval).toBeUndefined();
    expect(await publisher.publishRemovals()).toEqual([]);
    publisher.forgetRemovals(['chargebridge_garage']);
    expect(registry.get('chargebridge_garage')).toBeDefined();
  });

  it('registry: a missing file is empty; an unreadable one is moved aside and replaced on the next write', async () => {
    const path = join(dataDir, REGISTRY_FILE_NAME);
    const empty = new DiscoveryRegistry({ dataDir, logger: silentLogger() });
    await empty.load();
    expect(empty.devices().size).toBe(0);

    await writeFile(path, '{"format":"chargebridge-discovery","version":1,"devices":{"x":{"topic":5}}}');
    const corrupt = new DiscoveryRegistry({
      dataDir,
      logger: silentLogger(),
      now: () => Date.UTC(2026, 0, 1),
    });
    await corrupt.load();
    expect(corrupt.devices().size).toBe(0);
    const files = await readdir(dataDir);
    expect(files).toContain(`${REGISTRY_FILE_NAME}.corrupt-2026-01-01T00-00-00-000Z`);
    expect(files).not.toContain(REGISTRY_FILE_NAME);

    corrupt.set('chargebridge_a', { topic: 't/a', components: { power: 'sensor' } });
    corrupt.set('chargebridge_a', { topic: 't/a', components: { power: 'sensor' } });
    corrupt.set('chargebridge_b', { topic: 't/b', components: {} });
    await corrupt.flush();
    const reread = new DiscoveryRegistry({ dataDir, logger: silentLogger() });
    await reread.load();
    expect(Object.fromEntries(reread.devices())).toEqual({
      chargebridge_a: { topic: 't/a', components: { power: 'sensor' } },
      chargebridge_b: { topic: 't/b', components: {} },
    });
    // No temp file left behind.
    expect((await readdir(dataDir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('registry: a data dir that does not exist yet is created on the first write', async () => {
    const nested = join(dataDir, 'state', 'chargebridge');
    const registry = new DiscoveryRegistry({ dataDir: nested, logger: silentLogger() });
    await registry.load();
    registry.set('chargebridge_a', { topic: 't/a', components: {} });
    await registry.flush();
    expect(JSON.parse(await readFile(join(nested, REGISTRY_FILE_NAME), 'utf8'))).toMatchObject({
      format: 'chargebridge-discovery',
      version: 1,
    });
  });
});

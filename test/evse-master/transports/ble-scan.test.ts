import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { matchesFilter, runScan, scanForChargers } from '../../../src/evse-master/transports/ble-scan.js';
import { NOBLE_PACKAGES } from '../../../src/evse-master/transports/noble-like.js';
import { TransportError } from '../../../src/evse-master/transports/transport.js';
import {
  CDD_SERVICES,
  FakeBindings,
  type FakeDevice,
  FFE_SERVICES,
  realNobleOver,
} from './fake-noble-bindings.js';

const DEVICES: FakeDevice[] = [
  {
    id: '9ca50ec8a212',
    address: '9c:a5:0e:c8:a2:12',
    localName: 'ACP#EVSE0158',
    rssi: -80,
    services: CDD_SERVICES,
  },
  {
    id: '9ca50ec80001',
    address: '9c:a5:0e:c8:00:01',
    localName: 'ACP#Garage',
    rssi: -55,
    services: FFE_SERVICES,
  },
  { id: '112233445566', address: '11:22:33:44:55:66', localName: 'Phone', rssi: -30, services: [] },
  { id: 'aabbccddeeff', address: 'aa:bb:cc:dd:ee:ff', rssi: -35, services: [] },
];

describe.each(NOBLE_PACKAGES)('scanForChargers over the real %s classes', (pkg) => {
  it('lists each ACP# charger once, strongest first, after durationMs, and stops scanning', async () => {
    const clock = new ManualClock();
    const bindings = new FakeBindings(DEVICES);
    const noble = realNobleOver(pkg, bindings);
    const result = scanForChargers({ noblePackage: pkg, durationMs: 8000, clock, noble });
    await clock.advance(2000);
    bindings.advertise('9ca50ec8a212', { rssi: -62 }); // came closer: best reading wins
    bindings.advertise('9ca50ec80001', { rssi: -71 });
    bindings.advertise('112233445566');
    expect(bindings.callsTo('stopScanning')).toHaveLength(0);
    await clock.advance(6000);
    expect(await result).toEqual([
      { address: '9c:a5:0e:c8:00:01', localName: 'ACP#Garage', rssiDbm: -55 },
      { address: '9c:a5:0e:c8:a2:12', localName: 'ACP#EVSE0158', rssiDbm: -62 },
    ]);
    expect(bindings.callsTo('startScanning')).toEqual([['startScanning', [], true]]);
    expect(bindings.callsTo('stopScanning')).toHaveLength(1);
    expect(bindings.callsTo('connect')).toHaveLength(0);
    expect(noble.listenerCount('discover')).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('returns an empty list when no charger advertises', async () => {
    const clock = new ManualClock();
    const noble = realNobleOver(pkg, new FakeBindings(DEVICES.slice(2)));
    const result = scanForChargers({ noblePackage: pkg, durationMs: 3000, clock, noble });
    await clock.advance(3000);
    expect(await result).toEqual([]);
  });

  it('throws no_adapter with a clear message when the adapter is unsupported', async () => {
    const clock = new ManualClock();
    const noble = realNobleOver(pkg, new FakeBindings(DEVICES, 'unsupported'));
    const error = await scanForChargers({ noblePackage: pkg, durationMs: 3000, clock, noble }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(TransportError);
    expect(error.code).toBe('no_adapter');
    expect(error.message).toMatch(/^no Bluetooth adapter found \(noble state: unsupported\)/);
  });

  it('throws no_adapter, and does not crash, when the bindings fail to start', async () => {
    const clock = new ManualClock();
    const bindings = new FakeBindings(DEVICES);
    bindings.startError = 'ENODEV, No such device';
    const noble = realNobleOver(pkg, bindings);
    const error = await scanForChargers({ noblePackage: pkg, durationMs: 3000, clock, noble }).catch(
      (e) => e,
    );
    expect(error).toMatchObject({
      code: 'no_adapter',
      message: expect.stringContaining('init failed: ENODEV'),
    });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('throws no_adapter when the adapter stays poweredOff', async () => {
    const clock = new ManualClock();
    const noble = realNobleOver(pkg, new FakeBindings(DEVICES, 'poweredOff'));
    const outcome = scanForChargers({
      noblePackage: pkg,
      durationMs: 3000,
      adapterTimeoutMs: 2000,
      clock,
      noble,
    }).catch((e) => e);
    await clock.advance(2000);
    expect(await outcome).toMatchObject({
      code: 'no_adapter',
      message: expect.stringContaining('poweredOff'),
    });
  });

  it('turns a refused scan start into no_adapter', async () => {
    const clock = new ManualClock();
    const noble = realNobleOver(pkg, new FakeBindings(DEVICES, 'poweredOff'));
    void noble.state; // start the bindings
    await new Promise((r) => setImmediate(r));
    const error = await runScan({ noble, clock, timeoutMs: 3000, onDiscover: () => true }).catch((e) => e);
    expect(error).toMatchObject({ code: 'no_adapter', message: expect.stringContaining('not poweredOn') });
    expect(noble.listenerCount('discover')).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('matchesFilter', () => {
  const renamed = {
    id: '9ca50ec8a212',
    address: '9c:a5:0e:c8:a2:12',
    advertisement: { localName: 'ACP#Garage' },
  };
  it('finds a charger by address even after it was renamed (the configured name is stale)', () => {
    const filter = { address: '9C-A5-0E-C8-A2-12', localName: 'ACP#EVSE0158' };
    expect(matchesFilter(renamed as never, filter)).toBe(true);
    expect(matchesFilter({ ...renamed, id: 'x', address: '9c:a5:0e:c8:00:01' } as never, filter)).toBe(false);
  });
  it('uses the name when no address is configured', () => {
    expect(matchesFilter(renamed as never, { localName: 'Garage' })).toBe(true);
    expect(matchesFilter(renamed as never, { localName: 'EVSE0158' })).toBe(false);
  });
});

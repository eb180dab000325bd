/**
 * The BLE transport against the REAL noble classes of both packages, over fake bindings.
 * Every contract test runs once per package.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { BleTransport, type BleTransportOptions } from '../../../src/evse-master/transports/ble-transport.js';
import {
  NOBLE_PACKAGES,
  type NobleCharacteristicLike,
  type NobleLike,
  type NoblePackage,
  type NoblePeripheralLike,
} from '../../../src/evse-master/transports/noble-like.js';
import { TransportError } from '../../../src/evse-master/transports/transport.js';
import {
  CDD_SERVICES,
  FakeBindings,
  type FakeDevice,
  type FakeService,
  FFE_SERVICES,
  FFF_SERVICES,
  realNobleOver,
} from './fake-noble-bindings.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/** Real BS20 notifications (doc §9.3 N1+N2): three frames, the last one straddling both. */
const STREAM = hex(
  '0601001d008949281891483449ffffffffffff010401010000088d0f02' +
    '0601001d008949281891483449ffffffffffff010501010000088e0f02' +
    '06010030008949281891483449ffffffffffff000401091b000000000000000645e753b953b90102020d00000c1e0f02',
);
/** A 72-byte charge-start frame (doc §9.3 K10). */
const START_FRAME = hex(
  '06010048001122334455667788313233343536800701657673654d5154540000000000000000' +
    '323032353032303331323332313333370067a046c80101ffffffffffff1012ae0f02',
);

const CHARGER_ID = '9ca50ec8a212';
const CHARGER_ADDRESS = '9c:a5:0e:c8:a2:12';

function charger(services: FakeService[], extra: Partial<FakeDevice> = {}): FakeDevice {
  return {
    id: CHARGER_ID,
    address: CHARGER_ADDRESS,
    localName: 'ACP#EVSE0158',
    rssi: -61,
    services,
    mtu: 185,
    ...extra,
  };
}

const VARIANTS = [
  { name: 'FFE', services: FFE_SERVICES, notifyUuid: 'ffe4', writeUuid: 'ffe9', withoutResponse: true },
  {
    name: 'CDD',
    services: CDD_SERVICES,
    notifyUuid: '0003cdd100001000800000805f9b0131',
    writeUuid: '0003cdd200001000800000805f9b0131',
    withoutResponse: true,
  },
  { name: 'FFF', services: FFF_SERVICES, notifyUuid: 'fff1', writeUuid: 'fff2', withoutResponse: false },
] as const;

interface Rig {
  clock: ManualClock;
  bindings: FakeBindings;
  noble: NobleLike;
  transport: BleTransport;
}

const open: BleTransport[] = [];

function rig(
  pkg: NoblePackage,
  devices: FakeDevice[],
  options: Partial<BleTransportOptions> = {},
  state?: string,
): Rig {
  const clock = new ManualClock();
  const bindings = new FakeBindings(devices, state);
  const noble = realNobleOver(pkg, bindings);
  const transport = new BleTransport({
    noblePackage: pkg,
    scanTimeoutMs: 10_000,
    connectTimeoutMs: 8_000,
    clock,
    noble,
    ...options,
  });
  open.push(transport);
  return { clock, bindings, noble, transport };
}

/** noble's own objects for the connected charger (to count listeners on them). */
function nobleObjects(noble: NobleLike, notifyUuid: string) {
  const peripheral = (
    noble as unknown as {
      _peripherals: Map<string, NoblePeripheralLike> | Record<string, NoblePeripheralLike>;
    }
  )._peripherals;
  const p = peripheral instanceof Map ? peripheral.get(CHARGER_ID) : peripheral[CHARGER_ID];
  if (!p) throw new Error('peripheral not known to noble');
  const services = (
    p as unknown as { services: Array<{ characteristics: NobleCharacteristicLike[] | null }> }
  ).services;
  const notify = services.flatMap((s) => s.characteristics ?? []).find((c) => c.uuid === notifyUuid);
  if (!notify) throw new Error('notify characteristic not discovered');
  return { peripheral: p, notify };
}

function collect(transport: BleTransport) {
  const data: Uint8Array[] = [];
  const disconnects: string[] = [];
  transport.events.on('data', (chunk) => data.push(chunk));
  transport.events.on('disconnect', (reason) => disconnects.push(reason));
  return { data, disconnects };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe.each(NOBLE_PACKAGES)('BleTransport over the real %s classes', (pkg) => {
  describe.each(VARIANTS)('$name board', (variant) => {
    it('finds the charger by name prefix, connects, subscribes and reports the link', async () => {
      const { transport, bindings } = rig(pkg, [charger(variant.services)]);
      const info = await transport.connect();
      expect(transport.connected).toBe(true);
      expect(info).toEqual({
        description: expect.stringContaining(`ble ${CHARGER_ADDRESS} ACP#EVSE0158 (${variant.name}`),
        address: CHARGER_ADDRESS,
        localName: 'ACP#EVSE0158',
        rssiDbm: -61,
      });
      expect(transport.gattVariant?.name).toBe(variant.name);
      // Never a service-UUID filter on the scan; the scan is over before connecting.
      const [start] = bindings.callsTo('startScanning');
      expect(start?.[1] ?? []).toEqual([]);
      const order = bindings.calls.map((c) => c[0]);
      expect(order.indexOf('stopScanning')).toBeLessThan(order.indexOf('connect'));
      expect(bindings.callsTo('notify')).toEqual([
        ['notify', CHARGER_ID, expect.any(String), variant.notifyUuid, true],
      ]);
    });

    it('passes notifications through unchanged and in order, whatever the chunking', async () => {
      const { transport, bindings } = rig(pkg, [charger(variant.services)]);
      const { data } = collect(transport);
      await transport.connect();
      const cuts = [1, 7, 29, 100 - 37, 2, 1];
      let offset = 0;
      const sent: Uint8Array[] = [];
      for (const size of cuts) {
        const piece = STREAM.subarray(offset, Math.min(offset + size, STREAM.length));
        offset += size;
        if (piece.length === 0) continue;
        sent.push(piece);
        bindings.notification(CHARGER_ID, variant.notifyUuid, piece);
      }
      sent.push(STREAM.subarray(offset));
      bindings.notification(CHARGER_ID, variant.notifyUuid, STREAM.subarray(offset));
      expect(data.map((c) => c.length)).toEqual(sent.map((c) => c.length));
      expect(data).toEqual(sent);
      expect(concat(data)).toEqual(STREAM);
    });

    it(`writes with withoutResponse=${variant.withoutResponse} to the ${variant.writeUuid} characteristic`, async () => {
      const { transport, bindings } = rig(pkg, [charger(variant.services)]);
      await transport.connect();
      await transport.write(START_FRAME);
      expect(bindings.writes).toHaveLength(1);
      expect(bindings.writes[0]).toMatchObject({
        characteristicUuid: variant.writeUuid,
        withoutResponse: variant.withoutResponse,
      });
      expect(new Uint8Array(bindings.writes[0]!.data)).toEqual(START_FRAME);
    });

    it('splits a 72-byte frame into 20+20+20+12 at MTU 23', async () => {
      const { transport, bindings } = rig(pkg, [charger(variant.services, { mtu: 23 })]);
      await transport.connect();
      await transport.write(START_FRAME);
      expect(bindings.writes.map((w) => w.data.length)).toEqual([20, 20, 20, 12]);
      expect(concat(bindings.writes.map((w) => new Uint8Array(w.data)))).toEqual(START_FRAME);
      expect(bindings.writes.every((w) => w.withoutResponse === variant.withoutResponse)).toBe(true);
    });
  });

  it('finds the charger by address in any spelling, ignoring other chargers and non-chargers', async () => {
    const devices: FakeDevice[] = [
      {
        id: 'aabbccddeeff',
        address: 'aa:bb:cc:dd:ee:ff',
        localName: 'ACP#EVSE7439',
        rssi: -40,
        services: FFE_SERVICES,
      },
      { id: '112233445566', address: '11:22:33:44:55:66', localName: 'Headphones', rssi: -30, services: [] },
      charger(CDD_SERVICES),
    ];
    for (const address of ['9C:A5:0E:C8:A2:12', '9ca50ec8a212', '9C-A5-0E-C8-A2-12']) {
      const { transport, bindings } = rig(pkg, devices, { address });
      const info = await transport.connect();
      expect(info.address).toBe(CHARGER_ADDRESS);
      expect(bindings.callsTo('connect').map((c) => c[1])).toEqual([CHARGER_ID]);
      await transport.close();
    }
  });

  it('finds the charger by name, with or without the ACP# prefix, case-insensitively', async () => {
    const devices: FakeDevice[] = [
      {
        id: 'aabbccddeeff',
        address: 'aa:bb:cc:dd:ee:ff',
        localName: 'ACP#EVSE7439',
        rssi: -40,
        services: FFE_SERVICES,
      },
      charger(FFF_SERVICES),
    ];
    for (const localName of ['ACP#EVSE0158', 'EVSE0158', 'evse0158']) {
      const { transport } = rig(pkg, devices, { localName });
      expect((await transport.connect()).localName).toBe('ACP#EVSE0158');
      await transport.close();
    }
  });

  it('accepts a charger whose name only arrives in a later advertisement', async () => {
    const { transport, bindings, clock } = rig(pkg, [charger(FFE_SERVICES, { advertising: false })]);
    const connecting = transport.connect();
    await clock.advance(100);
    bindings.advertise(CHARGER_ID, { localName: '' });
    await clock.advance(100);
    expect(bindings.callsTo('connect')).toHaveLength(0);
    bindings.advertise(CHARGER_ID);
    expect((await connecting).localName).toBe('ACP#EVSE0158');
  });

  it('accepts 128-bit UUID forms and skips a pair whose properties do not fit', async () => {
    const services: FakeService[] = [
      // FFE present but its notify characteristic cannot notify: not usable.
      { uuid: 'ffe0', characteristics: [{ uuid: 'ffe4', properties: ['read'] }] },
      { uuid: 'ffe5', characteristics: [{ uuid: 'ffe9', properties: ['writeWithoutResponse'] }] },
      {
        uuid: '0000fff000001000800000805f9b34fb',
        characteristics: [
          { uuid: '0000fff100001000800000805f9b34fb', properties: ['indicate'] },
          { uuid: '0000fff200001000800000805f9b34fb', properties: ['write'] },
        ],
      },
    ];
    const { transport, bindings } = rig(pkg, [charger(services)]);
    await transport.connect();
    expect(transport.gattVariant?.name).toBe('FFF');
    await transport.write(hex('0601'));
    expect(bindings.writes[0]).toMatchObject({
      characteristicUuid: '0000fff200001000800000805f9b34fb',
      withoutResponse: false,
    });
  });

  it('fails with a gatt error listing what the peripheral offers, and disconnects', async () => {
    const services: FakeService[] = [
      { uuid: '180f', characteristics: [{ uuid: '2a19', properties: ['read'] }] },
    ];
    const { transport, bindings } = rig(pkg, [charger(services)]);
    const error = await transport.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: 'gatt', message: expect.stringContaining('2a19[read]') });
    expect(bindings.callsTo('disconnect')).toEqual([['disconnect', CHARGER_ID]]);
    expect(transport.connected).toBe(false);
  });

  it('writes frames whole when noble never learned the MTU', async () => {
    const { transport, bindings } = rig(pkg, [charger(FFE_SERVICES, { mtu: null })]);
    await transport.connect();
    await transport.write(START_FRAME);
    expect(bindings.writes.map((w) => w.data.length)).toEqual([72]);
  });

  it('serializes concurrent writes: one GATT write in flight, FIFO order', async () => {
    const { transport, bindings } = rig(pkg, [charger(FFF_SERVICES, { mtu: 23 })]);
    await transport.connect();
    bindings.holdWrites = true;
    const frames = [START_FRAME, hex('0601001900aa'), hex('0601001900bb')];
    const done: number[] = [];
    const writes = frames.map((f, i) => transport.write(f).then(() => done.push(i)));
    for (let step = 0; step < 20 && bindings.writes.length < 6; step++) {
      await new Promise((r) => setImmediate(r));
      expect(bindings.inFlightWrites).toBeLessThanOrEqual(1);
      bindings.completeWrite();
    }
    await Promise.all(writes);
    expect(bindings.maxInFlightWrites).toBe(1);
    expect(done).toEqual([0, 1, 2]);
    expect(bindings.writes.map((w) => w.data.length)).toEqual([20, 20, 20, 12, 6, 6]);
    expect(concat(bindings.writes.map((w) => new Uint8Array(w.data)))).toEqual(concat(frames));
  });

  it('rejects a write the charger never acknowledges after writeTimeoutMs, then keeps writing', async () => {
    const { transport, bindings, clock } = rig(pkg, [charger(FFF_SERVICES)], { writeTimeoutMs: 3000 });
    await transport.connect();
    bindings.holdWrites = true;
    const stuck = transport.write(hex('0601aa')).catch((e: unknown) => e);
    await clock.advance(3000);
    expect(await stuck).toMatchObject({ code: 'write_failed' });
    bindings.holdWrites = false;
    bindings.completeWrite(); // the late ack of the first write
    await transport.write(hex('0601bb'));
    expect(bindings.writes.map((w) => w.data.toString('hex'))).toEqual(['0601aa', '0601bb']);
  });

  it('emits one disconnect on a remote drop, cleans up, and reconnects on the same object', async () => {
    const { transport, bindings, noble } = rig(pkg, [charger(CDD_SERVICES)]);
    const { data, disconnects } = collect(transport);
    await transport.connect();
    const first = nobleObjects(noble, CDD_SERVICES[1]!.characteristics[0]!.uuid);
    bindings.dropLink(CHARGER_ID, 0x08);
    expect(disconnects).toEqual(['charger disconnected (reason 8)']);
    expect(transport.connected).toBe(false);
    expect(first.peripheral.listenerCount('disconnect')).toBe(0);
    expect(first.notify.listenerCount('data')).toBe(0);
    expect(noble.listenerCount('stateChange')).toBe(0);
    await expect(transport.write(hex('0601'))).rejects.toMatchObject({ code: 'closed' });

    await transport.connect();
    expect(transport.connected).toBe(true);
    const second = nobleObjects(noble, CDD_SERVICES[1]!.characteristics[0]!.uuid);
    expect(second.peripheral.listenerCount('disconnect')).toBe(1);
    expect(second.notify.listenerCount('data')).toBe(1);
    bindings.notification(CHARGER_ID, CDD_SERVICES[1]!.characteristics[0]!.uuid, STREAM);
    expect(data).toEqual([STREAM]);
    await transport.write(hex('0601'));
    expect(bindings.writes).toHaveLength(1);
    expect(disconnects).toHaveLength(1);
  });

  it('close() unsubscribes, disconnects, removes every listener, emits no disconnect, and is idempotent', async () => {
    const { transport, bindings, noble, clock } = rig(pkg, [charger(FFE_SERVICES)]);
    const { data, disconnects } = collect(transport);
    await transport.connect();
    const { peripheral, notify } = nobleObjects(noble, 'ffe4');
    const closing = [transport.close(), transport.close()];
    // Bytes that arrive while closing are not passed on.
    bindings.notification(CHARGER_ID, 'ffe4', STREAM);
    await Promise.all(closing);
    await transport.close();
    expect(bindings.callsTo('notify').map((c) => c[4])).toEqual([true, false]);
    expect(bindings.callsTo('disconnect')).toEqual([['disconnect', CHARGER_ID]]);
    expect(disconnects).toEqual([]);
    expect(transport.connected).toBe(false);
    for (const event of ['disconnect', 'mtu', 'connect']) expect(peripheral.listenerCount(event)).toBe(0);
    expect(notify.listenerCount('data')).toBe(0);
    for (const event of ['discover', 'stateChange', 'scanStop', 'scanStart'])
      expect(noble.listenerCount(event)).toBe(0);
    bindings.notification(CHARGER_ID, 'ffe4', STREAM);
    expect(data).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
    await expect(transport.write(hex('0601'))).rejects.toMatchObject({ code: 'closed' });
    // Reusable after close, too.
    await transport.connect();
    expect(transport.connected).toBe(true);
  });

  it('close() with nothing open resolves at once', async () => {
    const { transport, bindings } = rig(pkg, [charger(FFE_SERVICES)]);
    await transport.close();
    expect(bindings.calls).toEqual([]);
  });

  it('emits one disconnect when the adapter powers off under a live link', async () => {
    const { transport, bindings } = rig(pkg, [charger(FFE_SERVICES)]);
    const { disconnects } = collect(transport);
    await transport.connect();
    bindings.setState('poweredOff');
    await new Promise((r) => setImmediate(r));
    expect(disconnects).toHaveLength(1);
    expect(transport.connected).toBe(false);
  });

  it.each(['unsupported', 'unauthorized'])(
    'fails with no_adapter at once when noble reports %s',
    async (state) => {
      const { transport } = rig(pkg, [charger(FFE_SERVICES)], {}, state);
      const error = await transport.connect().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect(error).toMatchObject({
        code: 'no_adapter',
        message: expect.stringMatching(
          new RegExp(`^no Bluetooth adapter found \\(noble state: ${state}.*CAP_NET_RAW`),
        ),
      });
    },
  );

  it('gives a poweredOff adapter adapterTimeoutMs to come up, then fails with no_adapter', async () => {
    const { transport, clock, bindings } = rig(
      pkg,
      [charger(FFE_SERVICES)],
      { adapterTimeoutMs: 4000 },
      'poweredOff',
    );
    const outcome = transport.connect().catch((e: unknown) => e);
    await clock.advance(3999);
    expect(bindings.callsTo('startScanning')).toHaveLength(0);
    await clock.advance(1);
    expect(await outcome).toMatchObject({
      code: 'no_adapter',
      message: expect.stringContaining('poweredOff'),
    });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('goes on when a poweredOff adapter comes up in time', async () => {
    const { transport, clock, bindings } = rig(pkg, [charger(FFE_SERVICES)], {}, 'poweredOff');
    const connecting = transport.connect();
    await clock.advance(1000);
    bindings.setState('poweredOn');
    await expect(connecting).resolves.toMatchObject({ address: CHARGER_ADDRESS });
  });

  it('fails with not_found after scanTimeoutMs, naming the chargers it did see, and stops scanning', async () => {
    const other: FakeDevice = {
      id: 'aabbccddeeff',
      address: 'aa:bb:cc:dd:ee:ff',
      localName: 'ACP#EVSE7439',
      rssi: -40,
      services: FFE_SERVICES,
    };
    const { transport, clock, bindings, noble } = rig(pkg, [other], {
      address: CHARGER_ADDRESS,
      scanTimeoutMs: 7000,
    });
    const outcome = transport.connect().catch((e: unknown) => e);
    await clock.advance(6999);
    expect(bindings.callsTo('stopScanning')).toHaveLength(0);
    await clock.advance(1);
    const error = await outcome;
    expect(error).toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('ACP#EVSE7439 (aa:bb:cc:dd:ee:ff)'),
    });
    expect(bindings.callsTo('stopScanning')).toHaveLength(1);
    expect(noble.listenerCount('discover')).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fails with connect_failed when connecting takes longer than connectTimeoutMs, cancelling it', async () => {
    const { transport, clock, bindings } = rig(pkg, [charger(FFE_SERVICES, { connectHangs: true })], {
      connectTimeoutMs: 5000,
    });
    const outcome = transport.connect().catch((e: unknown) => e);
    await clock.advance(5000);
    expect(await outcome).toMatchObject({
      code: 'connect_failed',
      message: expect.stringContaining('timed out'),
    });
    expect(bindings.callsTo('cancelConnect')).toEqual([['cancelConnect', CHARGER_ID]]);
  });

  it('reports a refused connection as connect_failed', async () => {
    const { transport } = rig(pkg, [
      charger(FFE_SERVICES, { connectError: 'Connection Failed to be Established' }),
    ]);
    await expect(transport.connect()).rejects.toMatchObject({
      code: 'connect_failed',
      message: expect.stringContaining('Connection Failed to be Established'),
    });
  });

  it('honours an AbortSignal during the scan: stops scanning, rejects with closed, leaves no listener', async () => {
    const { transport, clock, bindings, noble } = rig(pkg, [charger(FFE_SERVICES, { advertising: false })]);
    const controller = new AbortController();
    const outcome = transport.connect(controller.signal).catch((e: unknown) => e);
    await clock.advance(500);
    controller.abort();
    const error = await outcome;
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: 'closed' });
    expect(bindings.callsTo('stopScanning')).toHaveLength(1);
    expect(noble.listenerCount('discover')).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('honours an AbortSignal while connecting, and an already-aborted one', async () => {
    const { transport, clock, bindings } = rig(pkg, [charger(FFE_SERVICES, { connectHangs: true })]);
    const controller = new AbortController();
    const outcome = transport.connect(controller.signal).catch((e: unknown) => e);
    await clock.advance(100);
    expect(bindings.callsTo('connect')).toHaveLength(1);
    controller.abort();
    expect(await outcome).toMatchObject({ code: 'closed' });
    expect(bindings.callsTo('cancelConnect')).toHaveLength(1);
    await expect(transport.connect(AbortSignal.abort())).rejects.toMatchObject({ code: 'closed' });
  });

  it('close() during connect rejects the connect with closed', async () => {
    const { transport, clock } = rig(pkg, [charger(FFE_SERVICES, { connectHangs: true })]);
    const outcome = transport.connect().catch((e: unknown) => e);
    await clock.advance(100);
    await transport.close();
    expect(await outcome).toMatchObject({
      code: 'closed',
      message: expect.stringContaining('closed while connecting'),
    });
    expect(transport.connected).toBe(false);
  });

  it('fails the connect when the charger drops the link during service discovery', async () => {
    const { transport, bindings } = rig(pkg, [charger(FFE_SERVICES)]);
    const original = bindings.discoverServices.bind(bindings);
    bindings.discoverServices = (id: string, uuids: string[]) => {
      bindings.calls.push(['discoverServices', id, uuids]);
      process.nextTick(() => bindings.dropLink(id, 0x13));
    };
    const { disconnects } = collect(transport);
    await expect(transport.connect()).rejects.toMatchObject({
      code: 'connect_failed',
      message: expect.stringContaining('while discovering services'),
    });
    expect(disconnects).toEqual([]);
    bindings.discoverServices = original;
    await expect(transport.connect()).resolves.toMatchObject({ address: CHARGER_ADDRESS });
  });

  it('fails the connect when the link drops in the same tick the subscription is confirmed', async () => {
    const { transport, bindings } = rig(pkg, [charger(FFE_SERVICES)]);
    bindings.notify = (id: string, serviceUuid: string, characteristicUuid: string, notify: boolean) => {
      bindings.calls.push(['notify', id, serviceUuid, characteristicUuid, notify]);
      process.nextTick(() => {
        bindings.emit('notify', id, serviceUuid, characteristicUuid, notify);
        bindings.dropLink(id, 0x08);
      });
    };
    const { disconnects } = collect(transport);
    await expect(transport.connect()).rejects.toMatchObject({ code: 'connect_failed' });
    expect(transport.connected).toBe(false);
    expect(disconnects).toEqual([]);
  });

  it('reports the RSSI from the scan and on request', async () => {
    const { transport, bindings } = rig(pkg, [charger(FFE_SERVICES)]);
    const rssi: number[] = [];
    transport.events.on('rssi', (dbm) => rssi.push(dbm));
    expect((await transport.connect()).rssiDbm).toBe(-61);
    bindings.devices.get(CHARGER_ID)!.rssi = -70;
    expect(await transport.refreshRssi()).toBe(-70);
    expect(rssi).toEqual([-61, -70]);
  });

  it('polls the RSSI every rssiIntervalMs while connected, and stops with the link', async () => {
    const { transport, bindings, clock } = rig(pkg, [charger(FFE_SERVICES)], { rssiIntervalMs: 30_000 });
    const rssi: number[] = [];
    transport.events.on('rssi', (dbm) => rssi.push(dbm));
    await transport.connect();
    bindings.devices.get(CHARGER_ID)!.rssi = -66;
    await clock.advance(30_000);
    bindings.devices.get(CHARGER_ID)!.rssi = -64;
    await clock.advance(30_000);
    expect(rssi).toEqual([-61, -66, -64]);
    bindings.dropLink(CHARGER_ID);
    await clock.advance(60_000);
    expect(bindings.callsTo('updateRssi')).toHaveLength(2);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('refuses a second connect while connected', async () => {
    const { transport } = rig(pkg, [charger(FFE_SERVICES)]);
    await transport.connect();
    await expect(transport.connect()).rejects.toMatchObject({ code: 'connect_failed' });
  });
});

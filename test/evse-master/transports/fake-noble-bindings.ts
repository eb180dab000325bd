/**
 * Fake noble *bindings* (the layer under noble's own Noble/Peripheral/Characteristic classes), so
 * tests run the real classes of @stoprocent/noble and @abandonware/noble. Calls and events follow
 * the packages' Linux HCI bindings: same method names, same event names and argument lists
 * (both packages' hci-socket/bindings.js emit identical signatures; only the Noble classes on top
 * differ). Answers arrive on process.nextTick, like socket I/O would.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { NobleLike, NoblePackage } from '../../../src/evse-master/transports/noble-like.js';

export interface FakeCharacteristic {
  uuid: string;
  properties: string[];
}

export interface FakeService {
  uuid: string;
  characteristics: FakeCharacteristic[];
}

export interface FakeDevice {
  /** noble's peripheral id on Linux: the address without colons, lowercase. */
  id: string;
  address: string;
  localName?: string;
  rssi: number;
  services: FakeService[];
  /** ATT MTU reported after connecting; null: never reported. */
  mtu?: number | null;
  /** Advertise as soon as a scan starts (default true). */
  advertising?: boolean;
  /** Never answer connect (the test drives it). */
  connectHangs?: boolean;
  /** Answer connect with this error. */
  connectError?: string;
}

export interface RecordedWrite {
  id: string;
  serviceUuid: string;
  characteristicUuid: string;
  data: Buffer;
  withoutResponse: boolean;
}

type Call = [method: string, ...args: unknown[]];

export class FakeBindings extends EventEmitter {
  state: string;
  readonly devices = new Map<string, FakeDevice>();
  readonly calls: Call[] = [];
  readonly writes: RecordedWrite[] = [];
  scanning = false;
  /** When true, writes are only acknowledged by `completeWrite()`. */
  holdWrites = false;
  private readonly heldWrites: Array<() => void> = [];
  connected = new Set<string>();
  /** Make init()/start() throw this, like a binding that cannot open its socket. */
  startError: string | null = null;
  /** How many writes noble has handed down and not yet seen acknowledged. */
  inFlightWrites = 0;
  maxInFlightWrites = 0;

  constructor(devices: FakeDevice[], state = 'poweredOn') {
    super();
    this.state = state;
    for (const d of devices) this.devices.set(d.id, d);
  }

  private later(fn: () => void): void {
    process.nextTick(fn);
  }

  private device(id: string): FakeDevice {
    const d = this.devices.get(id);
    if (!d) throw new Error(`fake bindings: unknown peripheral ${id}`);
    return d;
  }

  callsTo(method: string): Call[] {
    return this.calls.filter((c) => c[0] === method);
  }

  // --- what noble calls -------------------------------------------------------------------

  /** @abandonware/noble starts its bindings with init(). */
  init(): void {
    this.calls.push(['init']);
    if (this.startError) throw new Error(this.startError);
    const state = this.state;
    this.later(() => this.emit('stateChange', state));
  }

  /** @stoprocent/noble starts its bindings with start(). */
  start(): void {
    this.calls.push(['start']);
    if (this.startError) throw new Error(this.startError);
    const state = this.state;
    this.later(() => this.emit('stateChange', state));
  }

  stop(): void {
    this.calls.push(['stop']);
  }

  setScanParameters(): void {
    this.calls.push(['setScanParameters']);
  }

  startScanning(serviceUuids: string[] | undefined, allowDuplicates: boolean): void {
    this.calls.push(['startScanning', serviceUuids, allowDuplicates]);
    this.scanning = true;
    this.later(() => {
      this.emit('scanStart', !allowDuplicates);
      for (const d of this.devices.values()) {
        if (d.advertising !== false) this.advertise(d.id);
      }
    });
  }

  stopScanning(): void {
    this.calls.push(['stopScanning']);
    this.scanning = false;
    this.later(() => this.emit('scanStop'));
  }

  connect(id: string, parameters?: unknown): void {
    this.calls.push(['connect', id, parameters]);
    const d = this.device(id);
    if (d.connectHangs) return;
    this.later(() => {
      if (d.connectError) {
        this.emit('connect', id, new Error(d.connectError));
        return;
      }
      this.connected.add(id);
      this.emit('connect', id, null);
      if (d.mtu != null) this.emit('onMtu', id, d.mtu);
    });
  }

  cancelConnect(id: string): void {
    this.calls.push(['cancelConnect', id]);
  }

  disconnect(id: string): void {
    this.calls.push(['disconnect', id]);
    this.later(() => {
      if (!this.connected.delete(id)) return;
      // 0x16: connection terminated by local host.
      this.emit('disconnect', id, 0x16);
    });
  }

  updateRssi(id: string): void {
    this.calls.push(['updateRssi', id]);
    const d = this.device(id);
    this.later(() => this.emit('rssiUpdate', id, d.rssi));
  }

  discoverServices(id: string, uuids: string[]): void {
    this.calls.push(['discoverServices', id, uuids]);
    const d = this.device(id);
    this.later(() =>
      this.emit(
        'servicesDiscover',
        id,
        d.services.map((s) => s.uuid),
      ),
    );
  }

  discoverCharacteristics(id: string, serviceUuid: string, uuids: string[]): void {
    this.calls.push(['discoverCharacteristics', id, serviceUuid, uuids]);
    const service = this.device(id).services.find((s) => s.uuid === serviceUuid);
    const characteristics = (service?.characteristics ?? []).map((c) => ({
      uuid: c.uuid,
      properties: c.properties,
    }));
    this.later(() => this.emit('characteristicsDiscover', id, serviceUuid, characteristics));
  }

  notify(id: string, serviceUuid: string, characteristicUuid: string, notify: boolean): void {
    this.calls.push(['notify', id, serviceUuid, characteristicUuid, notify]);
    this.later(() => this.emit('notify', id, serviceUuid, characteristicUuid, notify));
  }

  write(
    id: string,
    serviceUuid: string,
    characteristicUuid: string,
    data: Buffer,
    withoutResponse: boolean,
  ): void {
    this.calls.push(['write', id, serviceUuid, characteristicUuid]);
    this.writes.push({ id, serviceUuid, characteristicUuid, data: Buffer.from(data), withoutResponse });
    this.inFlightWrites++;
    this.maxInFlightWrites = Math.max(this.maxInFlightWrites, this.inFlightWrites);
    const ack = (): void => {
      this.inFlightWrites--;
      this.emit('write', id, serviceUuid, characteristicUuid);
    };
    if (this.holdWrites) this.heldWrites.push(ack);
    else this.later(ack);
  }

  read(id: string, serviceUuid: string, characteristicUuid: string): void {
    this.calls.push(['read', id, serviceUuid, characteristicUuid]);
  }

  addressToId(address: string): string {
    return address.replace(/:/g, '').toLowerCase();
  }

  // --- what tests do ----------------------------------------------------------------------

  /** Emit one advertisement (merged advertising data + scan response, as the HCI gap does). */
  advertise(id: string, overrides: Partial<Pick<FakeDevice, 'rssi' | 'localName'>> = {}): void {
    const d = this.device(id);
    const advertisement = {
      localName: overrides.localName ?? d.localName,
      txPowerLevel: undefined,
      manufacturerData: undefined,
      serviceData: [],
      serviceUuids: [],
      solicitationServiceUuids: [],
      serviceSolicitationUuids: [],
    };
    this.emit('discover', id, d.address, 'public', true, advertisement, overrides.rssi ?? d.rssi, false);
  }

  /** A notification from the charger on `characteristicUuid`. */
  notification(id: string, characteristicUuid: string, data: Uint8Array): void {
    const service = this.device(id).services.find((s) =>
      s.characteristics.some((c) => c.uuid === characteristicUuid),
    );
    if (!service) throw new Error(`fake bindings: no service holds ${characteristicUuid}`);
    this.emit('read', id, service.uuid, characteristicUuid, Buffer.from(data), true);
  }

  /** The charger (or radio) drops the link. 0x08: connection timeout. */
  dropLink(id: string, reason = 0x08): void {
    this.connected.delete(id);
    this.emit('disconnect', id, reason);
  }

  setState(state: string): void {
    this.state = state;
    this.emit('stateChange', state);
  }

  /** Acknowledge the oldest held write. */
  completeWrite(): boolean {
    const ack = this.heldWrites.shift();
    ack?.();
    return ack !== undefined;
  }
}

const requireFromHere = createRequire(import.meta.url);

/** The real Noble class of `pkg` over `bindings` (neither package opens a socket this way). */
export function realNobleOver(pkg: NoblePackage, bindings: FakeBindings): NobleLike {
  const Noble = requireFromHere(`${pkg}/lib/noble.js`) as new (b: FakeBindings) => NobleLike;
  return new Noble(bindings);
}

// --- the three board variants, in the UUID forms noble's HCI bindings report ---------------

const GENERIC_ACCESS: FakeService = {
  uuid: '1800',
  characteristics: [{ uuid: '2a00', properties: ['read'] }],
};

export const FFE_SERVICES: FakeService[] = [
  GENERIC_ACCESS,
  { uuid: 'ffe0', characteristics: [{ uuid: 'ffe4', properties: ['notify'] }] },
  { uuid: 'ffe5', characteristics: [{ uuid: 'ffe9', properties: ['writeWithoutResponse', 'write'] }] },
];

export const CDD_SERVICES: FakeService[] = [
  GENERIC_ACCESS,
  {
    uuid: '0003cdd000001000800000805f9b0131',
    characteristics: [
      { uuid: '0003cdd100001000800000805f9b0131', properties: ['notify'] },
      { uuid: '0003cdd200001000800000805f9b0131', properties: ['writeWithoutResponse'] },
    ],
  },
];

/** The single-phase BS20 whose FFF2 only takes Write-With-Response. */
export const FFF_SERVICES: FakeService[] = [
  GENERIC_ACCESS,
  {
    uuid: 'fff0',
    characteristics: [
      { uuid: 'fff1', properties: ['read', 'notify'] },
      { uuid: 'fff2', properties: ['read', 'write'] },
    ],
  },
];

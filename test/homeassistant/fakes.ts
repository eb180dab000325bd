/** A scriptable Charger and a recording MQTT connection for unit tests of the Home Assistant I/O layer. */
import {
  type Charger,
  type ChargerEvent,
  type ChargerEvents,
  type ChargerInfo,
  type ChargerKind,
  type ChargerState,
  emptyState,
  type StartChargingOptions,
} from '../../src/core/charger.js';
import { TypedEmitter } from '../../src/core/emitter.js';
import type { QoS } from '../../src/mqtt/connection.js';
import { bs20Info } from './fixtures.js';

export class FakeCharger implements Charger {
  readonly events = new TypedEmitter<ChargerEvents>();
  readonly calls: Array<{ method: string; args: unknown[] }> = [];
  state: ChargerState;
  info: ChargerInfo = bs20Info(1);
  ceilingA = 16;

  constructor(
    readonly id = 'garage',
    readonly name = 'Garage',
    readonly kind: ChargerKind = 'bs20',
    now = 0,
  ) {
    this.state = { ...emptyState(now), link: 'online', status: 'available' };
  }

  getState(): ChargerState {
    return this.state;
  }

  getInfo(): ChargerInfo {
    return this.info;
  }

  getCurrentCeilingA(): number {
    return this.ceilingA;
  }

  /** Change the state and tell listeners, as an adapter would. */
  update(patch: Partial<ChargerState>): void {
    const previous = this.state;
    this.state = { ...previous, ...patch };
    this.events.emit('state', this.state, previous);
  }

  emitEvent(event: ChargerEvent): void {
    this.events.emit('event', event);
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  async startCharging(options?: StartChargingOptions): Promise<void> {
    this.calls.push({ method: 'startCharging', args: [options] });
  }

  async stopCharging(): Promise<void> {
    this.calls.push({ method: 'stopCharging', args: [] });
  }

  async setMaxCurrent(amps: number): Promise<void> {
    this.calls.push({ method: 'setMaxCurrent', args: [amps] });
  }
}

export interface Published {
  topic: string;
  payload: string;
  retain: boolean;
  qos: QoS;
}

/** Records publishes; `fail` makes the next publishes reject (broker gone, queue full). */
export class RecordingConnection {
  readonly published: Published[] = [];
  generation = 1;
  fail = false;

  async publish(
    topic: string,
    payload: string | Buffer,
    options: { retain?: boolean; qos?: QoS } = {},
  ): Promise<void> {
    if (this.fail) throw new Error(`not connected; not publishing ${topic}`);
    this.published.push({
      topic,
      payload: payload.toString(),
      retain: options.retain ?? false,
      qos: options.qos ?? 0,
    });
  }

  on(topic: string): Published[] {
    return this.published.filter((p) => p.topic === topic);
  }
}

/**
 * A stand-in for the OCPP station charger (not written yet): a core Charger whose state the test
 * sets directly, with the same event derivation every charger uses. Only for what the simulated
 * BS20 cannot do: idTags, authorised-but-suspended transactions, charger stop reasons.
 */
import {
  type Charger,
  type ChargerEvent,
  type ChargerEvents,
  type ChargerInfo,
  type ChargerSession,
  type ChargerState,
  emptyState,
} from '../../src/core/charger.js';
import type { Clock } from '../../src/core/clock.js';
import { TypedEmitter } from '../../src/core/emitter.js';
import { diffEvents } from '../../src/evse-master/charger-events.js';

export class FakeOcppCharger implements Charger {
  readonly kind = 'ocpp' as const;
  readonly events = new TypedEmitter<ChargerEvents>();
  private state: ChargerState;

  constructor(
    readonly id: string,
    private readonly clock: Clock,
  ) {
    this.name = id;
    this.state = emptyState(clock.now());
  }

  readonly name: string;

  getState(): ChargerState {
    return this.state;
  }

  getInfo(): ChargerInfo {
    return {
      manufacturer: 'Fake',
      model: 'OCPP',
      serialNumber: null,
      firmwareVersion: null,
      hardwareVersion: null,
      phases: 3,
      hardwareMaxCurrentA: 32,
      maxPowerW: null,
      bleAddress: null,
    };
  }

  getCurrentCeilingA(): number {
    return 32;
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async startCharging(): Promise<void> {}
  async stopCharging(): Promise<void> {}
  async setMaxCurrent(): Promise<void> {}

  /** A reading from the station: patch the state, derive events as every charger does. */
  set(patch: Partial<ChargerState>, extra: { stopReason?: string; events?: ChargerEvent[] } = {}): void {
    const previous = this.state;
    this.state = { ...previous, ...patch, updatedAt: this.clock.now() };
    for (const event of extra.events ?? []) this.events.emit('event', event);
    for (const event of diffEvents(previous, this.state, this.clock.now())) {
      // OCPP StopTransaction carries a reason: the adapter puts it on charging_stopped.
      const withReason =
        event.type === 'charging_stopped' && extra.stopReason
          ? { ...event, data: { reason: extra.stopReason } }
          : event;
      this.events.emit('event', withReason);
    }
    this.events.emit('state', this.state, previous);
  }

  /** Connection up with a first reading. */
  online(energyTotalKwh: number, patch: Partial<ChargerState> = {}): void {
    this.set({ link: 'online', status: 'available', energyTotalKwh, ...patch });
  }

  session(patch: Partial<ChargerSession>): ChargerSession {
    return {
      chargerSessionId: null,
      startedAt: null,
      energyKwh: null,
      durationS: null,
      userId: null,
      idTag: null,
      currentA: null,
      limitEnergyKwh: null,
      limitMinutes: null,
      ...patch,
    };
  }
}

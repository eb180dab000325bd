/**
 * The byte pipe to a Besen BS20 over Bluetooth LE, on the API @stoprocent/noble and
 * @abandonware/noble share: scan for `ACP#…`, connect, pick the GATT variant, subscribe, and pass
 * every notification up untouched (the session reassembles frames). Writes are serialized and cut
 * to the MTU. One object serves many connections: after a disconnect, `connect()` starts afresh.
 */
import { type Clock, systemClock, type TimerHandle } from '../../core/clock.js';
import { TypedEmitter } from '../../core/emitter.js';
import { type Logger, silentLogger } from '../../log.js';
import { findCharger, peripheralAddress } from './ble-scan.js';
import { failureLatch, splitForMtu, within } from './ble-write.js';
import { describeCharacteristics, type GattVariant, selectGattPair } from './gatt-variants.js';
import type {
  NobleCharacteristicLike,
  NobleEmitterLike,
  NobleLike,
  NobleListener,
  NoblePackage,
  NoblePeripheralLike,
} from './noble-like.js';
import {
  abortError,
  acquireNoble,
  injectedNoble,
  type NobleHandle,
  waitForPoweredOn,
} from './noble-loader.js';
import { type Transport, TransportError, type TransportEvents, type TransportInfo } from './transport.js';

export interface BleTransportOptions {
  noblePackage: NoblePackage;
  /** Only this charger: MAC address, any case, with or without colons. */
  address?: string;
  /** Only this charger: advertised name, exact, with or without the `ACP#` prefix. */
  localName?: string;
  scanTimeoutMs: number;
  /** Budget for connect + service discovery + subscribe. */
  connectTimeoutMs: number;
  /** How long an adapter in `unknown`/`poweredOff` gets to come up; default 5000. */
  adapterTimeoutMs?: number;
  /** Per GATT write; default 5000. */
  writeTimeoutMs?: number;
  /** Poll the link's RSSI this often (emits `rssi`); 0 or absent = only the value from the scan. */
  rssiIntervalMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Use this noble instead of loading `noblePackage` (tests inject real noble over fake bindings). */
  noble?: NobleLike;
}

/** Bounded waits while tearing a link down or reading RSSI. */
const CLOSE_STEP_MS = 2000;

type Latch = ReturnType<typeof failureLatch>;
type Selection = NonNullable<ReturnType<typeof selectGattPair<NobleCharacteristicLike>>>;

interface Link {
  handle: NobleHandle;
  peripheral: NoblePeripheralLike;
  notify: NobleCharacteristicLike;
  writeChar: NobleCharacteristicLike;
  withoutResponse: boolean;
  variant: GattVariant;
  info: TransportInfo;
  /** Removes every listener this link put on noble objects. */
  detachers: Array<() => void>;
  /** Rejects when the link goes down: cancels writes and waits in flight. */
  lost: Latch;
  down: boolean;
  /** Our own close() is taking the link down: no `disconnect` event, no more `data`. */
  closing: boolean;
  mtuUnknownLogged: boolean;
  rssiTimer: TimerHandle | undefined;
}

/** What the connect steps share until the link exists. */
interface Opening {
  step: string;
  /** Fails the running step: timeout, abort, or the charger dropping the link. */
  phase: Latch;
  dropped: string | null;
  link: Link | null;
}

function listen(emitter: NobleEmitterLike, event: string, fn: NobleListener): () => void {
  emitter.on(event, fn);
  return () => {
    emitter.removeListener(event, fn);
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class BleTransport implements Transport {
  readonly events = new TypedEmitter<TransportEvents>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private link: Link | null = null;
  private attempt: { controller: AbortController; done: Promise<void> } | null = null;
  private closing: Promise<void> | null = null;
  private writeTail: Promise<void> = Promise.resolve();

  constructor(private readonly options: BleTransportOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger();
  }

  get connected(): boolean {
    return this.link !== null && !this.link.down;
  }

  /** The GATT variant of the current link (diagnostics); null when not connected. */
  get gattVariant(): GattVariant | null {
    return this.link?.variant ?? null;
  }

  async connect(signal?: AbortSignal): Promise<TransportInfo> {
    if (this.closing) await this.closing;
    if (this.link) throw new TransportError('connect_failed', 'already connected');
    if (this.attempt) throw new TransportError('connect_failed', 'a connect is already in progress');
    if (signal?.aborted) throw abortError(signal);

    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const run = this.runConnect(controller.signal);
    const attempt = { controller, done: run.then(noop, noop) };
    this.attempt = attempt;
    try {
      return await run;
    } finally {
      if (this.attempt === attempt) this.attempt = null;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  write(bytes: Uint8Array): Promise<void> {
    const link = this.link;
    if (!link || link.down) return Promise.reject(new TransportError('closed', 'BLE link is not connected'));
    // Copy now: the caller may reuse its buffer while the frame waits in the queue.
    const frame = Buffer.from(bytes);
    const run = this.writeTail.then(() => this.writeFrame(link, frame));
    this.writeTail = run.then(noop, noop);
    return run;
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closing = this.shutdown().finally(() => {
        this.closing = null;
      });
    }
    return this.closing;
  }

  /** Ask the adapter for a fresh RSSI reading (emits `rssi`); null when not connected or no answer. */
  async refreshRssi(): Promise<number | null> {
    const link = this.link;
    if (!link || link.down) return null;
    try {
      const rssi = await within(link.peripheral.updateRssiAsync(), {
        clock: this.clock,
        timeoutMs: CLOSE_STEP_MS,
        cancelled: link.lost.promise,
      });
      if (typeof rssi !== 'number' || !Number.isFinite(rssi)) return null;
      link.info.rssiDbm = rssi;
      this.events.emit('rssi', rssi);
      return rssi;
    } catch (err) {
      this.log.debug({ err: message(err) }, 'RSSI read failed');
      return null;
    }
  }

  private async runConnect(signal: AbortSignal): Promise<TransportInfo> {
    const link = await this.open(signal);
    if (signal.aborted) {
      await this.closeLink(link);
      throw abortError(signal);
    }
    if (link.down)
      throw new TransportError('connect_failed', 'the charger dropped the link right after connecting');
    this.link = link;
    const every = this.options.rssiIntervalMs ?? 0;
    if (every > 0) link.rssiTimer = this.clock.setInterval(() => void this.refreshRssi(), every);
    this.log.info({ link: link.info.description, mtu: link.peripheral.mtu }, 'BLE link up');
    if (link.info.rssiDbm !== null) this.events.emit('rssi', link.info.rssiDbm);
    return { ...link.info };
  }

  private async open(signal: AbortSignal): Promise<Link> {
    const { options, clock } = this;
    const handle = options.noble ? injectedNoble(options.noble) : await acquireNoble(options.noblePackage);
    const detachers: Array<() => void> = [];
    let peripheral: NoblePeripheralLike | null = null;
    try {
      if (signal.aborted) throw abortError(signal);
      await waitForPoweredOn(handle.noble, { timeoutMs: options.adapterTimeoutMs ?? 5000, clock, signal });
      peripheral = await findCharger({
        noble: handle.noble,
        filter: { address: options.address, localName: options.localName },
        timeoutMs: options.scanTimeoutMs,
        clock,
        signal,
        logger: this.log,
      });
      const found = peripheral;
      this.log.info(
        { address: peripheralAddress(found), localName: found.advertisement.localName, rssiDbm: found.rssi },
        'charger found, connecting',
      );
      const opening: Opening = { step: 'connecting', phase: failureLatch(), dropped: null, link: null };
      const dropped = (why: string): void => {
        if (opening.link) this.linkLost(opening.link, why);
        else if (opening.dropped === null) {
          opening.dropped = why;
          opening.phase.fail(new TransportError('connect_failed', `${why} while ${opening.step}`));
        }
      };
      // Watch for drops from before connecting until the link is gone, with one listener each.
      detachers.push(
        listen(found, 'disconnect', ((reason: unknown) =>
          dropped(`charger disconnected (reason ${String(reason)})`)) as NobleListener),
        // @abandonware/noble does not tell the peripheral when the adapter goes away.
        listen(handle.noble, 'stateChange', ((state: string) => {
          if (state !== 'poweredOn') dropped(`Bluetooth adapter went ${state}`);
        }) as NobleListener),
        listen(found, 'mtu', ((mtu: unknown) => this.log.debug({ mtu }, 'MTU negotiated')) as NobleListener),
      );
      const selection = await this.establish(found, signal, opening, detachers);
      if (opening.dropped !== null) throw new TransportError('connect_failed', opening.dropped);
      opening.link = this.makeLink(handle, found, selection, detachers);
      return opening.link;
    } catch (err) {
      for (const detach of detachers) detach();
      if (peripheral) this.dropPeripheral(peripheral);
      handle.release();
      throw err instanceof TransportError
        ? err
        : new TransportError('connect_failed', `BLE connect failed: ${message(err)}`, { cause: err });
    }
  }

  /** Connect, discover, choose the variant, subscribe: all within connectTimeoutMs. */
  private async establish(
    peripheral: NoblePeripheralLike,
    signal: AbortSignal,
    opening: Opening,
    detachers: Array<() => void>,
  ): Promise<Selection> {
    const { clock } = this;
    const timeoutMs = this.options.connectTimeoutMs;
    const timer = clock.setTimeout(
      () =>
        opening.phase.fail(
          new TransportError('connect_failed', `timed out after ${timeoutMs} ms while ${opening.step}`),
        ),
      timeoutMs,
    );
    const onAbort = (): void => opening.phase.fail(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      opening.step = name;
      try {
        return await within(run(), { clock, cancelled: opening.phase.promise });
      } catch (err) {
        if (err instanceof TransportError) throw err;
        throw new TransportError('connect_failed', `${name} failed: ${message(err)}`, { cause: err });
      }
    };
    try {
      await step('connecting', () => peripheral.connectAsync());
      const { services } = await step('discovering services', () =>
        peripheral.discoverAllServicesAndCharacteristicsAsync(),
      );
      const characteristics = (services ?? []).flatMap((s) => s.characteristics ?? []);
      const selection = selectGattPair(characteristics);
      if (!selection) {
        throw new TransportError(
          'gatt',
          'no known EVSE Master GATT variant (FFE4/FFE9, 0003CDD1/0003CDD2, FFF1/FFF2 with notify and write) ' +
            `on this peripheral; it offers: ${describeCharacteristics(characteristics)}`,
        );
      }
      // Listen before subscribing: the charger may talk as soon as notifications are on.
      detachers.push(
        listen(selection.notify, 'data', ((data: unknown) => {
          if (opening.link?.closing || signal.aborted) return;
          this.onNotification(data);
        }) as NobleListener),
      );
      await step('subscribing to notifications', () => selection.notify.subscribeAsync());
      return selection;
    } finally {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  private makeLink(
    handle: NobleHandle,
    peripheral: NoblePeripheralLike,
    selection: Selection,
    detachers: Array<() => void>,
  ): Link {
    const address = peripheralAddress(peripheral);
    const localName = peripheral.advertisement.localName ?? null;
    const mode = selection.withoutResponse ? 'write-without-response' : 'write-with-response';
    return {
      handle,
      peripheral,
      notify: selection.notify,
      writeChar: selection.write,
      withoutResponse: selection.withoutResponse,
      variant: selection.variant,
      info: {
        description: `ble ${address} ${localName ?? '?'} (${selection.variant.name}, ${mode})`,
        address,
        localName,
        rssiDbm: Number.isFinite(peripheral.rssi) ? peripheral.rssi : null,
      },
      detachers,
      lost: failureLatch(),
      down: false,
      closing: false,
      mtuUnknownLogged: false,
      rssiTimer: undefined,
    };
  }

  private onNotification(data: unknown): void {
    if (!(data instanceof Uint8Array) || data.length === 0) return;
    // A private copy: noble's buffers may be views into a reused ACL buffer.
    this.events.emit('data', new Uint8Array(data));
  }

  /** The charger or the adapter dropped `link`. */
  private linkLost(link: Link, reason: string): void {
    if (link.down) return;
    const wasCurrent = this.link === link;
    this.teardown(link, reason);
    if (wasCurrent && !link.closing) {
      this.log.warn({ reason }, 'BLE link lost');
      this.events.emit('disconnect', reason);
    }
  }

  private teardown(link: Link, reason: string): void {
    if (link.down) return;
    link.down = true;
    link.lost.fail(new TransportError('closed', `BLE link closed: ${reason}`));
    this.clock.clearInterval(link.rssiTimer);
    for (const detach of link.detachers) detach();
    link.detachers.length = 0;
    if (this.link === link) this.link = null;
    link.handle.release();
  }

  private async writeFrame(link: Link, frame: Buffer): Promise<void> {
    if (link.down) throw new TransportError('closed', 'BLE link closed before the write');
    const mtu = link.peripheral.mtu;
    if (mtu === null && !link.mtuUnknownLogged) {
      link.mtuUnknownLogged = true;
      this.log.debug('MTU not known; writing frames whole');
    }
    const timeoutMs = this.options.writeTimeoutMs ?? 5000;
    for (const piece of splitForMtu(frame, mtu)) {
      try {
        await within(link.writeChar.writeAsync(Buffer.from(piece), link.withoutResponse), {
          clock: this.clock,
          timeoutMs,
          onTimeout: () =>
            new TransportError('write_failed', `GATT write not confirmed within ${timeoutMs} ms`),
          cancelled: link.lost.promise,
        });
      } catch (err) {
        if (err instanceof TransportError) throw err;
        if (link.down) throw new TransportError('closed', 'BLE link closed during the write', { cause: err });
        throw new TransportError('write_failed', `GATT write failed: ${message(err)}`, { cause: err });
      }
    }
  }

  private dropPeripheral(peripheral: NoblePeripheralLike): void {
    try {
      if (peripheral.state === 'connecting') peripheral.cancelConnect();
      else if (peripheral.state === 'connected') peripheral.disconnect();
    } catch (err) {
      this.log.debug({ err: message(err) }, 'dropping a half-open BLE connection failed');
    }
  }

  private async shutdown(): Promise<void> {
    const attempt = this.attempt;
    if (attempt) {
      attempt.controller.abort(new TransportError('closed', 'transport closed while connecting'));
      await attempt.done;
    }
    if (this.link) await this.closeLink(this.link);
  }

  private async closeLink(link: Link): Promise<void> {
    if (link.down) return;
    link.closing = true;
    const bound = { clock: this.clock, timeoutMs: CLOSE_STEP_MS, cancelled: link.lost.promise };
    try {
      await within(link.notify.unsubscribeAsync(), bound);
    } catch (err) {
      this.log.debug({ err: message(err) }, 'unsubscribe on close failed');
    }
    if (!link.down && link.peripheral.state !== 'disconnected') {
      const gone = new Promise<void>((resolve) => {
        link.detachers.push(listen(link.peripheral, 'disconnect', (() => resolve()) as NobleListener));
      });
      try {
        link.peripheral.disconnect();
        await within(gone, bound);
      } catch (err) {
        if (!link.down) this.log.debug({ err: message(err) }, 'disconnect on close did not complete');
      }
    }
    this.teardown(link, 'closed by us');
    this.log.info('BLE link closed');
  }
}

function noop(): void {}

/**
 * The byte pipe to a Besen BS20 over Bluetooth LE, on the API @stoprocent/noble and
 * @abandonware/noble share: scan for `ACP#…`, connect, pick the GATT variant, subscribe, and pass
 * every notification up untouched (the session reassembles frames). Writes are serialized and cut
 * to the MTU. One object serves many connections: after a disconnect, `connect()` starts afresh.
 */
import { type Clock, systemClock } from '../../core/clock.js';
import { TypedEmitter } from '../../core/emitter.js';
import { type Logger, silentLogger } from '../../log.js';
import { errorText, type Link, listen, openLink } from './ble-link.js';
import { splitForMtu, within } from './ble-write.js';
import type { GattVariant } from './gatt-variants.js';
import type { NobleLike, NobleListener, NoblePackage } from './noble-like.js';
import { abortError, acquireNoble, injectedNoble } from './noble-loader.js';
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
      this.log.debug({ err: errorText(err) }, 'RSSI read failed');
      return null;
    }
  }

  private async runConnect(signal: AbortSignal): Promise<TransportInfo> {
    const { options } = this;
    const handle = options.noble ? injectedNoble(options.noble) : await acquireNoble(options.noblePackage);
    const link = await openLink({
      handle,
      filter: { address: options.address, localName: options.localName },
      adapterTimeoutMs: options.adapterTimeoutMs ?? 5000,
      scanTimeoutMs: options.scanTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      clock: this.clock,
      logger: this.log,
      signal,
      onData: (data) => this.onNotification(data),
      onDropped: (dropped, reason) => this.linkLost(dropped, reason),
    });
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
        throw new TransportError('write_failed', `GATT write failed: ${errorText(err)}`, { cause: err });
      }
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
      this.log.debug({ err: errorText(err) }, 'unsubscribe on close failed');
    }
    if (!link.down && link.peripheral.state !== 'disconnected') {
      const gone = new Promise<void>((resolve) => {
        link.detachers.push(listen(link.peripheral, 'disconnect', (() => resolve()) as NobleListener));
      });
      try {
        link.peripheral.disconnect();
        await within(gone, bound);
      } catch (err) {
        if (!link.down) this.log.debug({ err: errorText(err) }, 'disconnect on close did not complete');
      }
    }
    this.teardown(link, 'closed by us');
    this.log.info('BLE link closed');
  }
}

function noop(): void {}

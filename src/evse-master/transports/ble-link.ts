/**
 * Opening one GATT link to a BS20: adapter up → scan for the charger → connect → discover →
 * choose the board variant → subscribe. Every step is bounded in time and abortable, because
 * noble's own promises can stay pending forever (see ble-write.ts). The result is a `Link` that
 * the transport owns until it goes down.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../log.js';
import { type ChargerFilter, findCharger, peripheralAddress } from './ble-scan.js';
import { failureLatch, within } from './ble-write.js';
import { describeCharacteristics, type GattVariant, selectGattPair } from './gatt-variants.js';
import type {
  NobleCharacteristicLike,
  NobleEmitterLike,
  NobleListener,
  NoblePeripheralLike,
} from './noble-like.js';
import { abortError, type NobleHandle, waitForPoweredOn } from './noble-loader.js';
import type { TransportInfo } from './transport.js';
import { TransportError } from './transport.js';

export type Latch = ReturnType<typeof failureLatch>;
type Selection = NonNullable<ReturnType<typeof selectGattPair<NobleCharacteristicLike>>>;

export interface Link {
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

export interface OpenLinkOptions {
  handle: NobleHandle;
  filter: ChargerFilter;
  adapterTimeoutMs: number;
  scanTimeoutMs: number;
  /** Budget for connect + service discovery + subscribe. */
  connectTimeoutMs: number;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal;
  /** A notification (raw noble value) on the link being opened or already open. */
  onData(data: unknown): void;
  /** The charger or the adapter dropped an open link. */
  onDropped(link: Link, reason: string): void;
}

/** What the connect steps share until the link exists. */
interface Opening {
  step: string;
  /** Fails the running step: timeout, abort, or the charger dropping the link. */
  phase: Latch;
  dropped: string | null;
  link: Link | null;
}

export function listen(emitter: NobleEmitterLike, event: string, fn: NobleListener): () => void {
  emitter.on(event, fn);
  return () => {
    emitter.removeListener(event, fn);
  };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Best effort: a half-open connection must not stay open behind a failed connect. */
function dropPeripheral(peripheral: NoblePeripheralLike, log: Logger): void {
  try {
    if (peripheral.state === 'connecting') peripheral.cancelConnect();
    else if (peripheral.state === 'connected') peripheral.disconnect();
  } catch (err) {
    log.debug({ err: errorText(err) }, 'dropping a half-open BLE connection failed');
  }
}

/**
 * Open a link, or reject with a TransportError (and release `handle`). On success the link owns
 * `handle`; its `detachers` undo every listener added here.
 */
export async function openLink(options: OpenLinkOptions): Promise<Link> {
  const { handle, clock, signal, logger: log } = options;
  const detachers: Array<() => void> = [];
  let peripheral: NoblePeripheralLike | null = null;
  try {
    if (signal.aborted) throw abortError(signal);
    await waitForPoweredOn(handle.noble, { timeoutMs: options.adapterTimeoutMs, clock, signal });
    peripheral = await findCharger({
      noble: handle.noble,
      filter: options.filter,
      timeoutMs: options.scanTimeoutMs,
      clock,
      signal,
      logger: log,
    });
    const found = peripheral;
    log.info(
      { address: peripheralAddress(found), localName: found.advertisement.localName, rssiDbm: found.rssi },
      'charger found, connecting',
    );
    const opening: Opening = { step: 'connecting', phase: failureLatch(), dropped: null, link: null };
    const dropped = (why: string): void => {
      if (opening.link) options.onDropped(opening.link, why);
      else if (opening.dropped === null) {
        opening.dropped = why;
        opening.phase.fail(new TransportError('connect_failed', `${why} while ${opening.step}`));
      }
    };
    // One listener each, from before connecting until the link is gone: no gap to slip through.
    detachers.push(
      listen(found, 'disconnect', ((reason: unknown) =>
        dropped(`charger disconnected (reason ${String(reason)})`)) as NobleListener),
      // @abandonware/noble does not tell the peripheral when the adapter goes away.
      listen(handle.noble, 'stateChange', ((state: string) => {
        if (state !== 'poweredOn') dropped(`Bluetooth adapter went ${state}`);
      }) as NobleListener),
    );
    const selection = await establish(found, options, opening, detachers);
    if (opening.dropped !== null) throw new TransportError('connect_failed', opening.dropped);
    opening.link = makeLink(handle, found, selection, detachers);
    return opening.link;
  } catch (err) {
    for (const detach of detachers) detach();
    if (peripheral) dropPeripheral(peripheral, log);
    handle.release();
    throw err instanceof TransportError
      ? err
      : new TransportError('connect_failed', `BLE connect failed: ${errorText(err)}`, { cause: err });
  }
}

/** Connect, discover, choose the variant, subscribe: all within connectTimeoutMs. */
async function establish(
  peripheral: NoblePeripheralLike,
  options: OpenLinkOptions,
  opening: Opening,
  detachers: Array<() => void>,
): Promise<Selection> {
  const { clock, signal, connectTimeoutMs: timeoutMs } = options;
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
      throw new TransportError('connect_failed', `${name} failed: ${errorText(err)}`, { cause: err });
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
        options.onData(data);
      }) as NobleListener),
    );
    await step('subscribing to notifications', () => selection.notify.subscribeAsync());
    return selection;
  } finally {
    clock.clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

function makeLink(
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

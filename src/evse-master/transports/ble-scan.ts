/**
 * Finding BS20 chargers over the air: every charger advertises a local name starting with `ACP#`
 * (some advertise no service UUID at all, so the scan is never filtered on one). Used by the BLE
 * transport to find its charger and by `chargebridge scan` to list them.
 */
import { type Clock, systemClock } from '../../core/clock.js';
import type { Logger } from '../../log.js';
import type { NobleLike, NoblePackage, NoblePeripheralLike } from './noble-like.js';
import {
  abortError,
  acquireNoble,
  injectedNoble,
  noAdapterMessage,
  waitForPoweredOn,
} from './noble-loader.js';
import { TransportError } from './transport.js';

export const CHARGER_NAME_PREFIX = 'ACP#';

/** How long to wait for noble's `scanStop` before going on anyway. */
const SCAN_STOP_WAIT_MS = 1000;

export interface ChargerFilter {
  /** MAC address, any case, with or without colons (or the peripheral id on macOS). */
  address?: string;
  /** Advertised name, exact (case-insensitive), with or without the `ACP#` prefix. */
  localName?: string;
}

export function normalizeAddress(address: string): string {
  return address.toLowerCase().replace(/[^0-9a-f]/g, '');
}

/** The address to show and match: the MAC where the platform gives one, else noble's id. */
export function peripheralAddress(p: NoblePeripheralLike): string {
  return p.address && p.address !== 'unknown' ? p.address.toLowerCase() : p.id;
}

export function chargerName(p: NoblePeripheralLike): string | null {
  const name = p.advertisement?.localName;
  return typeof name === 'string' && name.startsWith(CHARGER_NAME_PREFIX) ? name : null;
}

export function matchesFilter(p: NoblePeripheralLike, filter: ChargerFilter): boolean {
  const name = chargerName(p);
  if (name === null) return false;
  if (filter.address) {
    const wanted = normalizeAddress(filter.address);
    // The address identifies the charger for good; its name changes when it is renamed (set/name).
    return normalizeAddress(p.address ?? '') === wanted || normalizeAddress(p.id) === wanted;
  }
  if (filter.localName) {
    const wanted = filter.localName.toLowerCase();
    const have = name.toLowerCase();
    if (have !== wanted && have !== CHARGER_NAME_PREFIX.toLowerCase() + wanted) return false;
  }
  return true;
}

function describeFilter(filter: ChargerFilter): string {
  const parts = [`name starting with ${CHARGER_NAME_PREFIX}`];
  if (filter.address) parts.push(`address ${filter.address}`);
  if (filter.localName) parts.push(`name ${filter.localName}`);
  return parts.join(', ');
}

function safeState(noble: NobleLike): string {
  try {
    return noble.state;
  } catch {
    return 'unknown';
  }
}

/** Ask noble to stop scanning and wait (boundedly) for it to confirm. Never rejects. */
export function stopScan(noble: NobleLike, clock: Clock): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clock.clearTimeout(timer);
      noble.removeListener('scanStop', done);
      resolve();
    };
    const timer = clock.setTimeout(done, SCAN_STOP_WAIT_MS);
    noble.on('scanStop', done);
    try {
      noble.stopScanning();
    } catch {
      done();
    }
  });
}

export interface ScanRun {
  noble: NobleLike;
  clock: Clock;
  timeoutMs: number;
  signal?: AbortSignal;
  logger?: Logger;
  /** Called for every advertisement; return true to stop with this peripheral. */
  onDiscover(peripheral: NoblePeripheralLike): boolean;
}

/**
 * Scan until `onDiscover` accepts a peripheral (resolves with it) or `timeoutMs` passes (resolves
 * null). The scan is stopped before the promise settles. Duplicates are allowed so that a name
 * arriving in a later scan response, and fresh RSSI values, are seen.
 */
export function runScan(run: ScanRun): Promise<NoblePeripheralLike | null> {
  const { noble, clock, signal } = run;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<NoblePeripheralLike | null>((resolve, reject) => {
    let done = false;
    let scanning: 'starting' | 'on' | 'off' = 'starting';
    const finish = (found: NoblePeripheralLike | null, error?: TransportError): void => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      noble.removeListener('discover', onDiscover);
      signal?.removeEventListener('abort', onAbort);
      const settle = (): void => (error ? reject(error) : resolve(found));
      if (scanning === 'on') void stopScan(noble, clock).then(settle);
      else settle();
    };
    const onDiscover = (p: NoblePeripheralLike): void => {
      if (done) return;
      let accepted = false;
      try {
        accepted = run.onDiscover(p);
      } catch (err) {
        run.logger?.warn({ err }, 'ignoring a peripheral that could not be inspected');
      }
      if (accepted) finish(p);
    };
    const onAbort = (): void => finish(null, abortError(signal));
    const timer = clock.setTimeout(() => finish(null), run.timeoutMs);
    noble.on('discover', onDiscover);
    signal?.addEventListener('abort', onAbort, { once: true });
    noble.startScanningAsync([], true).then(
      () => {
        if (done) void stopScan(noble, clock);
        else scanning = 'on';
      },
      (err: unknown) => {
        scanning = 'off';
        const detail = err instanceof Error ? err.message : String(err);
        finish(
          null,
          new TransportError('no_adapter', noAdapterMessage(safeState(noble), detail), { cause: err }),
        );
      },
    );
  });
}

export interface FindChargerOptions {
  noble: NobleLike;
  filter: ChargerFilter;
  timeoutMs: number;
  clock: Clock;
  signal?: AbortSignal;
  logger?: Logger;
}

/** Scan for the charger matching `filter`; rejects with TransportError('not_found') on timeout. */
export async function findCharger(options: FindChargerOptions): Promise<NoblePeripheralLike> {
  const others = new Map<string, string>();
  const found = await runScan({
    ...options,
    onDiscover: (p) => {
      if (matchesFilter(p, options.filter)) return true;
      const name = chargerName(p);
      if (name) others.set(peripheralAddress(p), name);
      return false;
    },
  });
  if (found) return found;
  const seen = [...others].map(([address, name]) => `${name} (${address})`).join(', ');
  throw new TransportError(
    'not_found',
    `no charger found within ${options.timeoutMs} ms (looking for ${describeFilter(options.filter)})` +
      (seen ? `; other chargers seen: ${seen}` : '; no ACP# advertisement seen at all'),
  );
}

export interface DiscoveredCharger {
  address: string;
  localName: string;
  rssiDbm: number;
}

export interface ScanForChargersOptions {
  noblePackage: NoblePackage;
  durationMs: number;
  /** How long an adapter in `unknown`/`poweredOff` gets to come up; default 5000. */
  adapterTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
  signal?: AbortSignal;
  /** Use this noble instead of loading `noblePackage` (tests). */
  noble?: NobleLike;
}

/** List every charger heard during `durationMs`, one row per address, strongest signal first. */
export async function scanForChargers(options: ScanForChargersOptions): Promise<DiscoveredCharger[]> {
  const clock = options.clock ?? systemClock;
  const handle = options.noble ? injectedNoble(options.noble) : await acquireNoble(options.noblePackage);
  try {
    await waitForPoweredOn(handle.noble, {
      timeoutMs: options.adapterTimeoutMs ?? 5000,
      clock,
      signal: options.signal,
    });
    const byAddress = new Map<string, DiscoveredCharger>();
    await runScan({
      noble: handle.noble,
      clock,
      timeoutMs: options.durationMs,
      signal: options.signal,
      logger: options.logger,
      onDiscover: (p) => {
        const localName = chargerName(p);
        if (localName === null) return false;
        const address = peripheralAddress(p);
        const before = byAddress.get(address);
        // Keep the strongest reading: a single weak packet should not bury a nearby charger.
        const rssiDbm = before ? Math.max(before.rssiDbm, p.rssi) : p.rssi;
        byAddress.set(address, { address, localName, rssiDbm });
        options.logger?.debug({ address, localName, rssiDbm: p.rssi }, 'charger advertisement');
        return false;
      },
    });
    return [...byAddress.values()].sort(
      (a, b) => b.rssiDbm - a.rssiDbm || a.address.localeCompare(b.address),
    );
  } finally {
    handle.release();
  }
}

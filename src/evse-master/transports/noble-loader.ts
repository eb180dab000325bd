/**
 * Loads noble only when Bluetooth is actually used, and turns every way of "there is no usable
 * adapter" into one clear `TransportError('no_adapter')`:
 * - `@abandonware/noble` opens its HCI socket while being imported and throws (EAFNOSUPPORT in a
 *   container without Bluetooth), so it must never be imported eagerly;
 * - `@stoprocent/noble` imports fine, then reports `unsupported` / `poweredOff`, and keeps the
 *   process alive with a 1 s adapter poll until `stop()` is called.
 * Instances are shared per package and reference-counted; the last `release()` stops a
 * @stoprocent/noble instance so nothing keeps the event loop busy afterwards.
 */
import type { Clock } from '../../core/clock.js';
import type { NobleLike, NoblePackage } from './noble-like.js';
import { TransportError } from './transport.js';

export interface NobleHandle {
  readonly noble: NobleLike;
  readonly packageName: NoblePackage | 'injected';
  /** Idempotent. The last release of a @stoprocent/noble instance stops it. */
  release(): void;
}

interface SharedNoble {
  noble: NobleLike;
  users: number;
}

const shared = new Map<NoblePackage, Promise<SharedNoble>>();

const ADAPTER_HINT =
  'is there a Bluetooth LE adapter, is it powered (rfkill unblock bluetooth; bluetoothctl power on), ' +
  'is bluetoothd running, and does the process have CAP_NET_RAW ' +
  '(sudo setcap cap_net_raw+eip $(readlink -f $(which node)))?';

/** The message users see when noble reports a state other than poweredOn. */
export function noAdapterMessage(state: string, detail?: string): string {
  const extra = detail ? `; ${detail}` : '';
  return `no Bluetooth adapter found (noble state: ${state}${extra}) — ${ADAPTER_HINT}`;
}

/** States that will not turn into poweredOn by waiting. */
function isHopeless(state: string): boolean {
  return state === 'unsupported' || state === 'unauthorized';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function importFailure(pkg: NoblePackage, err: unknown): TransportError {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    return new TransportError(
      'no_adapter',
      `Bluetooth library ${pkg} is not installed (npm install ${pkg}, or set noblePackage: '@stoprocent/noble')`,
      { cause: err },
    );
  }
  const why =
    code === 'EAFNOSUPPORT'
      ? 'the kernel offers no Bluetooth sockets here: a container or VM without Bluetooth?'
      : `${pkg} failed to load: ${errorMessage(err)}`;
  return new TransportError('no_adapter', noAdapterMessage('unavailable', why), { cause: err });
}

async function createNoble(pkg: NoblePackage): Promise<NobleLike> {
  // A variable specifier keeps bundlers and tsc from resolving (or type-checking) the optional package.
  const specifier: string = pkg;
  let mod: { default?: unknown };
  try {
    mod = (await import(specifier)) as { default?: unknown };
  } catch (err) {
    throw importFailure(pkg, err);
  }
  const main = (mod.default ?? mod) as NobleLike & { withBindings?: (type?: string) => NobleLike };
  // @stoprocent/noble: a fresh instance each time, because a stopped one cannot be restarted.
  // @abandonware/noble: only the module's own instance exists (and it has no stop()).
  if (pkg === '@stoprocent/noble' && typeof main.withBindings === 'function') {
    try {
      return main.withBindings('default');
    } catch (err) {
      throw importFailure(pkg, err);
    }
  }
  return main;
}

function stopQuietly(noble: NobleLike): void {
  try {
    noble.stop?.();
  } catch {
    // Stopping a half-initialised binding can throw; there is nothing left to clean up then.
  }
}

/** Load (once) and hand out the shared noble of `pkg`. Rejects with TransportError('no_adapter'). */
export async function acquireNoble(pkg: NoblePackage): Promise<NobleHandle> {
  let pending = shared.get(pkg);
  if (!pending) {
    pending = createNoble(pkg).then((noble) => ({ noble, users: 0 }));
    shared.set(pkg, pending);
    pending.catch(() => {
      if (shared.get(pkg) === pending) shared.delete(pkg);
    });
  }
  const entry = await pending;
  entry.users++;
  let released = false;
  return {
    noble: entry.noble,
    packageName: pkg,
    release() {
      if (released) return;
      released = true;
      entry.users--;
      if (entry.users > 0 || typeof entry.noble.stop !== 'function') return;
      if (shared.get(pkg) === pending) shared.delete(pkg);
      stopQuietly(entry.noble);
    },
  };
}

/** Wrap a caller-owned noble (tests, embedding): release() leaves it alone. */
export function injectedNoble(noble: NobleLike): NobleHandle {
  return { noble, packageName: 'injected', release() {} };
}

export interface PoweredOnOptions {
  timeoutMs: number;
  clock: Clock;
  signal?: AbortSignal;
}

/**
 * Resolve once the adapter is poweredOn. `unsupported` / `unauthorized` fail at once; other states
 * (`unknown`, `poweredOff`, `resetting`) get `timeoutMs` to recover, because an adapter that is
 * brought up at boot passes through them.
 */
export function waitForPoweredOn(noble: NobleLike, options: PoweredOnOptions): Promise<void> {
  const { clock, signal, timeoutMs } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    let last = 'unknown';
    let warning: string | null = null;
    let done = false;
    const finish = (error?: TransportError): void => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      noble.removeListener('stateChange', onState);
      noble.removeListener('warning', onWarning);
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onState = (next: string): void => {
      last = next;
      if (next === 'poweredOn') finish();
      else if (isHopeless(next)) finish(new TransportError('no_adapter', noAdapterMessage(next)));
    };
    // @abandonware/noble reports a failed binding start only as a warning when something else
    // started it (by listening to stateChange first).
    const onWarning = (text: unknown): void => {
      warning = String(text);
    };
    const onAbort = (): void => finish(abortError(signal));
    const timer = clock.setTimeout(() => {
      const detail = `waited ${timeoutMs} ms${warning ? `; noble said: ${warning}` : ''}`;
      finish(new TransportError('no_adapter', noAdapterMessage(last, detail)));
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    // Reading the state starts the bindings in both packages. It goes first, synchronously, so a
    // throwing start is caught here; listening first would defer the start to a process.nextTick
    // where a throw would crash the process. The price: @stoprocent/noble announces `unsupported`
    // during that start, then `poweredOff`, and repeats `unsupported` only about a second later.
    let initial: string;
    try {
      initial = noble.state;
    } catch (err) {
      finish(
        new TransportError('no_adapter', noAdapterMessage('unknown', `init failed: ${errorMessage(err)}`), {
          cause: err,
        }),
      );
      return;
    }
    noble.on('stateChange', onState);
    noble.on('warning', onWarning);
    onState(initial);
  });
}

/** The error every BLE step rejects with when its AbortSignal fires. */
export function abortError(signal: AbortSignal | undefined): TransportError {
  // close() aborts with its own TransportError, which says more than "aborted".
  if (signal?.reason instanceof TransportError) return signal.reason;
  return new TransportError('closed', 'Bluetooth operation aborted', { cause: signal?.reason });
}

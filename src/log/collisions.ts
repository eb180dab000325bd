/**
 * No duplicate keys in a JSON log line. pino writes its own `level`, `time` and `msg`, then the
 * child bindings, then the logged object, without checking for repeats; JSON.parse would silently
 * keep the last one. So a logged key that is already taken is renamed with a leading `_`
 * (`{ level: 'debug' }` → `"_level":"debug"`), and a child binding that repeats a parent's replaces
 * it, as it would have when parsed. Both hooks fall back to pino's plain behaviour if anything in
 * them fails: a log line must never cost the daemon.
 */
import { type Logger, pino } from 'pino';

const chindingsSym = pino.symbols.chindingsSym;
/** Keys pino always writes; `msg` only collides when a message argument is given as well. */
const ALWAYS_TAKEN = ['level', 'time'];

type WithChindings = Record<symbol, unknown>;

/** The binding keys of each logger, recomputed when its bindings text changes. */
const takenByLogger = new WeakMap<object, { chindings: string; keys: Set<string> }>();

/** pino `hooks.logMethod`: renames taken keys of a logged plain object before pino writes it. */
export function renameTakenKeys(this: Logger, args: unknown[], method: (...args: unknown[]) => void): void {
  const first = args[0];
  if (isPlainObject(first) && typeof this === 'object' && this !== null) {
    try {
      args[0] = withoutTakenKeys(first, takenKeys(this), args.length > 1 && args[1] !== undefined);
    } catch {
      // Logged as given: a duplicate key is better than a lost line.
    }
  }
  method.apply(this, args);
}

/** pino `onChild`: a binding repeated from a parent logger keeps one key, the child's value. */
export function dedupeChildBindings(child: Logger): void {
  const target = child as unknown as WithChindings;
  try {
    const bindings = parseChindings(String(target[chindingsSym] ?? ''));
    const kept: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(bindings)) {
      let name = key;
      // `time` and `msg` as bindings would clash with pino's own keys on every line.
      if (name === 'time' || name === 'msg') while (name in bindings || name in kept) name = `_${name}`;
      kept[name] = value;
    }
    let text = '';
    for (const [key, value] of Object.entries(kept))
      text += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
    target[chindingsSym] = text;
  } catch {
    // Bindings stay as pino wrote them.
  }
}

function takenKeys(logger: Logger): Set<string> {
  const chindings = String((logger as unknown as WithChindings)[chindingsSym] ?? '');
  const cached = takenByLogger.get(logger);
  if (cached?.chindings === chindings) return cached.keys;
  const keys = new Set([...ALWAYS_TAKEN, ...Object.keys(parseChindings(chindings))]);
  takenByLogger.set(logger, { chindings, keys });
  return keys;
}

/** pino's bindings text is `,"key":value,…`: an object's body with a leading comma. */
function parseChindings(chindings: string): Record<string, unknown> {
  return JSON.parse(`{${chindings.slice(1)}}`) as Record<string, unknown>;
}

/** The object itself when nothing clashes (the common case: no copy), else a renamed copy. */
function withoutTakenKeys(
  logged: Record<string, unknown>,
  taken: Set<string>,
  hasMessage: boolean,
): Record<string, unknown> {
  const clashes = (name: string) => taken.has(name) || (hasMessage && name === 'msg');
  let clash = false;
  for (const key in logged) {
    if (clashes(key)) {
      clash = true;
      break;
    }
  }
  if (!clash) return logged;
  const renamed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(logged)) {
    let name = key;
    while (clashes(name) || (name !== key && (name in logged || name in renamed))) name = `_${name}`;
    renamed[name] = value;
  }
  return renamed;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

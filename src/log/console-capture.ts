/**
 * Third-party console output into the log. The noble Bluetooth libraries `console.log` their
 * warnings (no adapter, unauthorized…); while the daemon runs those become log lines with
 * component `console`, so stdout stays one format (JSON lines stay parseable).
 */
import { format } from 'node:util';
import type { Logger } from 'pino';

const METHOD_LEVELS = {
  log: 'info',
  info: 'info',
  warn: 'warn',
  error: 'error',
  debug: 'debug',
} as const;

type Method = keyof typeof METHOD_LEVELS;
type ConsoleLike = Pick<Console, Method>;

export type RestoreConsole = () => void;

/**
 * Routes console.log/info/warn/error/debug of `target` (the global console by default) to `logger`.
 * The returned function puts the original methods back (only those still ours).
 */
export function captureConsole(logger: Logger, target: ConsoleLike = console): RestoreConsole {
  const log = logger.child({ component: 'console' });
  const originals = new Map<Method, ConsoleLike[Method]>();
  const installed = new Map<Method, ConsoleLike[Method]>();
  // A console call made while we are logging (a stream or hook printing) goes straight out: no loop.
  let busy = false;
  for (const method of Object.keys(METHOD_LEVELS) as Method[]) {
    const original = target[method];
    const level = METHOD_LEVELS[method];
    const replacement = (...args: unknown[]): void => {
      if (busy) {
        original.apply(target, args);
        return;
      }
      busy = true;
      try {
        log[level](format(...args));
      } catch {
        original.apply(target, args);
      } finally {
        busy = false;
      }
    };
    originals.set(method, original);
    installed.set(method, replacement);
    target[method] = replacement;
  }
  return () => {
    for (const [method, original] of originals) {
      if (target[method] === installed.get(method)) target[method] = original;
    }
  };
}

let releaseCurrent: RestoreConsole | undefined;

/**
 * The process-wide capture for the daemon: one logger at a time (an in-process restart makes a
 * new logger, which takes over from the previous one).
 */
export function routeConsoleTo(logger: Logger): void {
  releaseConsole();
  releaseCurrent = captureConsole(logger);
}

/** Puts the global console back as it was before routeConsoleTo. */
export function releaseConsole(): void {
  releaseCurrent?.();
  releaseCurrent = undefined;
}

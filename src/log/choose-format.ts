/**
 * Which log format and whether to colour it: `auto` becomes readable lines on a terminal, priority
 * lines when systemd's journal is our stdout, and JSON everywhere else (Docker, pipes, files).
 */
import { fstatSync } from 'node:fs';
import type { LogFormat } from '../config/schema.js';

export type ResolvedLogFormat = Exclude<LogFormat, 'auto'>;

export interface Destination {
  isTTY?: boolean;
  fd?: unknown;
}

export function resolveLogFormat(
  format: LogFormat,
  destination: Destination,
  env: NodeJS.ProcessEnv,
  isTTY = destination.isTTY === true,
): ResolvedLogFormat {
  if (format !== 'auto') return format;
  if (isJournalStream(destination, env)) return 'journal';
  return isTTY ? 'pretty' : 'json';
}

/**
 * systemd sets JOURNAL_STREAM to the device:inode of the journal stream it connects a service's
 * stdout/stderr to. The variable is inherited by children whose output goes elsewhere, so it only
 * counts when it names the very file our destination writes to.
 */
export function isJournalStream(destination: Destination, env: NodeJS.ProcessEnv): boolean {
  const expected = env.JOURNAL_STREAM;
  if (!expected || typeof destination.fd !== 'number') return false;
  try {
    // bigint: inode numbers can exceed 2^53 on some file systems.
    const stat = fstatSync(destination.fd, { bigint: true });
    return `${stat.dev}:${stat.ino}` === expected.trim();
  } catch {
    return false;
  }
}

/**
 * Colour on a terminal unless NO_COLOR (https://no-color.org) or TERM=dumb says otherwise;
 * FORCE_COLOR overrides both ways, as it does for Node itself (`0`/`false` turns colour off).
 */
export function useColour(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR) return false;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

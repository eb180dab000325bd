/**
 * `chargebridge decode <hex…> [--tz <zone>]`: decodes EVSE Master frames from a hex dump. The input
 * may be a whole debug-log line, several frames or notifications back to back, or split over several
 * arguments: everything goes through the stream reassembler, and junk is reported, not hidden.
 */
import {
  decodeFrame,
  describeFrame,
  FrameError,
  FrameReassembler,
  hexToBytes,
  isValidTimeZone,
} from '../evse-master/protocol/index.js';

export interface Writer {
  write(s: string): void;
}

const USAGE = 'usage: chargebridge decode <hex> [<hex>…] [--tz <IANA zone, e.g. Europe/Paris>]\n';

interface DecodeArgs {
  hex: string[];
  timeZone: string | undefined;
}

function parseArgs(args: string[]): DecodeArgs | string {
  const hex: string[] = [];
  let timeZone: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--tz' || arg.startsWith('--tz=')) {
      const value = arg === '--tz' ? args[++i] : arg.slice('--tz='.length);
      if (!value) return '--tz needs a time zone name';
      if (!isValidTimeZone(value)) return `unknown time zone: ${value}`;
      timeZone = value;
    } else if (arg.startsWith('--')) {
      return `unknown option: ${arg}`;
    } else {
      hex.push(arg);
    }
  }
  if (hex.length === 0) return 'no hex given';
  return { hex, timeZone };
}

/** Why the whole input is not one frame, for the "nothing found" message. */
function explainNoFrame(bytes: Uint8Array): string {
  try {
    decodeFrame(bytes);
    return '';
  } catch (error) {
    return error instanceof FrameError ? ` (as a single frame: ${error.message})` : '';
  }
}

export function runDecode(args: string[], out: Writer, err: Writer = out): number {
  if (args.includes('--help') || args.includes('-h')) {
    out.write(USAGE);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    err.write(`decode: ${parsed}\n${USAGE}`);
    return 2;
  }
  let bytes: Uint8Array;
  try {
    bytes = hexToBytes(parsed.hex.join(' '));
  } catch (error) {
    err.write(`decode: ${(error as Error).message}\n`);
    return 2;
  }

  const print = (value: unknown): void => out.write(`${JSON.stringify(value, null, 2)}\n`);
  const reassembler = new FrameReassembler();
  let reportedDiscards = 0;
  // One byte at a time, so junk is reported (once per run) just before the frame that follows it.
  for (let i = 0; i < bytes.length; i++) {
    const frames = reassembler.push(bytes.subarray(i, i + 1));
    const discarded = reassembler.stats.discardedBytes - reportedDiscards;
    if (discarded > 0 && frames.length > 0) {
      print({ discardedBytes: discarded });
      reportedDiscards += discarded;
    }
    for (const frame of frames) print(describeFrame(frame, { timeZone: parsed.timeZone }));
  }
  const leftover = reassembler.stats.discardedBytes - reportedDiscards + reassembler.bufferedBytes;
  if (leftover > 0) print({ discardedBytes: leftover, incompleteAtEnd: reassembler.bufferedBytes > 0 });

  if (reassembler.stats.frames === 0) {
    err.write(`decode: no valid frame found in ${bytes.length} bytes${explainNoFrame(bytes)}\n`);
    return 2;
  }
  return 0;
}

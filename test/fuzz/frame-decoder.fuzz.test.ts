/**
 * Over a million hostile inputs through the EVSE Master decoder, in tight loops that allocate no
 * input buffers (views into one seeded random pool), so it fits the normal test run:
 * - byte chunks of any size (noise, stray headers, valid and bit-flipped frames) into the reassembler;
 * - well-framed frames with hostile payloads (any command, any length) into decodeMessage.
 * Nothing may throw, the reassembler's buffer stays bounded, and every bad payload becomes a
 * `malformed` message with a decoder's reason, never a JavaScript error or a NaN field.
 * test/evse-master/protocol/fuzz.test.ts keeps the slower, checking 100k-stream fuzz.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHARGER_PASSWORD,
  type EvseMessage,
  encodeFrame,
  type Frame,
  FrameReassembler,
  KNOWN_COMMAND_IDS,
  MAX_FRAME_LENGTH,
} from '../../src/evse-master/protocol/index.js';
import { decodeMessage } from '../../src/evse-master/protocol/message.js';
import { runSeed, type SeededRandom, seededRandom } from '../reliability/seeded-random.js';

const INPUTS = 1_000_000;
const POOL_BYTES = 8 * 1024 * 1024;
/** What a decoder bug looks like, as opposed to a decoder's own PayloadError text. */
const JS_BUG =
  /Cannot read|undefined|is not a function|is not iterable|Maximum call stack|Invalid array length/;

/** Random bytes with real frames (some bit-flipped) and stray `06 01` headers sown through it. */
function buildPool(random: SeededRandom): { pool: Uint8Array; framesSown: number } {
  const pool = random.bytes(POOL_BYTES);
  const serial = random.bytes(8);
  let framesSown = 0;
  for (let at = random.int(200); at < POOL_BYTES - MAX_FRAME_LENGTH; at += 50 + random.int(400)) {
    if (random.chance(0.3)) {
      pool.set([0x06, 0x01, random.int(3), random.int(256)], at);
      continue;
    }
    const frame = encodeFrame({
      keyType: 0,
      serial,
      password: CHARGER_PASSWORD,
      command: random.pick(KNOWN_COMMAND_IDS),
      payload: pool.subarray(at, at + random.int(120)),
    });
    if (random.chance(0.3)) frame[random.int(frame.length)]! ^= 1 << random.int(8);
    pool.set(frame, at);
    framesSown++;
  }
  return { pool, framesSown };
}

/** Returns a problem with a decoded message, or null: numbers must be finite, errors a decoder's own. */
function problemWith(message: EvseMessage): string | null {
  if (message.type === 'malformed') {
    return JS_BUG.test(message.error) ? `decoder bug: ${message.error}` : null;
  }
  for (const [key, value] of Object.entries(message)) {
    if (typeof value === 'number' && !Number.isFinite(value)) return `${message.type}.${key} is ${value}`;
  }
  return null;
}

describe('fuzz: the EVSE Master decoder', () => {
  // Decoders report bad payloads by throwing PayloadError; stack traces are most of that cost.
  let stackTraceLimit = Error.stackTraceLimit;
  beforeAll(() => {
    stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
  });
  afterAll(() => {
    Error.stackTraceLimit = stackTraceLimit;
  });
  const seed = runSeed('frame-decoder fuzz');
  const random = seededRandom(seed);
  const { pool, framesSown } = buildPool(random);

  it(`takes ${INPUTS.toLocaleString('en')} byte chunks of any size without throwing or growing`, () => {
    const reassembler = new FrameReassembler();
    const types = new Map<string, number>();
    const problems: string[] = [];
    let offset = 0;
    let maxBuffered = 0;
    const started = performance.now();
    for (let input = 0; input < INPUTS; input++) {
      // Mostly BLE-sized notifications, sometimes a single byte, sometimes a big read.
      const r = random.next();
      const size = r < 0.05 ? 1 : r < 0.98 ? random.between(1, 100) : random.between(1, 2000);
      if (offset + size > POOL_BYTES) offset = random.int(64);
      for (const frame of reassembler.push(pool.subarray(offset, offset + size))) {
        const message = decodeMessage(frame, { timeZone: 'Europe/Berlin' });
        types.set(message.type, (types.get(message.type) ?? 0) + 1);
        const problem = problemWith(message);
        if (problem && problems.length < 10) problems.push(problem);
      }
      offset += size;
      if (reassembler.bufferedBytes > maxBuffered) maxBuffered = reassembler.bufferedBytes;
    }
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `[frame-decoder fuzz] ${INPUTS} chunks, ${reassembler.stats.frames} frames, ${(INPUTS / seconds / 1e6).toFixed(2)} M inputs/s`,
    );
    expect(problems, `seed ${seed}`).toEqual([]);
    expect(maxBuffered, `seed ${seed}`).toBeLessThan(MAX_FRAME_LENGTH);
    // The pool is read several times over: every sown intact frame is found again and again.
    expect(reassembler.stats.frames, `seed ${seed}`).toBeGreaterThan(framesSown / 2);
    expect(reassembler.stats.badFrames, `seed ${seed}`).toBeGreaterThan(0);
    expect(types.get('malformed') ?? 0).toBeGreaterThan(0);
    expect(types.size).toBeGreaterThan(20);
  });

  it(`decodes ${INPUTS.toLocaleString('en')} well-framed hostile payloads into a message or a clear reason`, () => {
    // One frame object, re-pointed at a new command and payload view each time.
    const frame: Frame = {
      keyType: 0,
      serial: pool.subarray(0, 8),
      password: CHARGER_PASSWORD,
      command: 0,
      payload: pool.subarray(0, 0),
    };
    const malformedReasons = new Set<string>();
    const problems: string[] = [];
    let typed = 0;
    const started = performance.now();
    for (let input = 0; input < INPUTS; input++) {
      frame.command = random.chance(0.9) ? random.pick(KNOWN_COMMAND_IDS) : random.int(0x10000);
      // Short lengths around every layout's boundary are where off-by-one bugs live.
      const length = random.chance(0.8) ? random.int(64) : random.int(MAX_FRAME_LENGTH - 25);
      const at = random.int(POOL_BYTES - length);
      frame.payload = pool.subarray(at, at + length);
      const message = decodeMessage(frame, { timeZone: 'Europe/Berlin' });
      if (message.type === 'malformed') {
        if (malformedReasons.size < 500) malformedReasons.add(message.error.replace(/\d+/g, 'N'));
      } else if (message.type !== 'unknown') typed++;
      const problem = problemWith(message);
      if (problem && problems.length < 10) problems.push(`${frame.command.toString(16)}: ${problem}`);
    }
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `[frame-decoder fuzz] ${INPUTS} payloads, ${typed} typed, ${(INPUTS / seconds / 1e6).toFixed(2)} M inputs/s`,
    );
    expect(problems, `seed ${seed}`).toEqual([]);
    expect(typed).toBeGreaterThan(INPUTS / 4);
    expect(malformedReasons.size).toBeGreaterThan(5);
    for (const reason of malformedReasons) expect(reason.length).toBeGreaterThan(10);
  });
});

/**
 * Robustness: random and mutated byte streams through the reassembler and the message decoders.
 * A seeded PRNG keeps runs reproducible; fast-check adds a shrinking property for chunking.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesToHex,
  CHARGER_PASSWORD,
  decodeChargeRecord,
  decodeChargeStartRequest,
  decodeChargeStartResponse,
  decodeChargeStopRequest,
  decodeChargeStopResponse,
  decodeChargingStatus,
  decodeFee,
  decodeLoginInfo,
  decodeMessage,
  decodeNicknameReply,
  decodeNicknameRequest,
  decodeSingleAcStatus,
  decodeVersion,
  describeFrame,
  encodeFrame,
  type Frame,
  FrameReassembler,
  KNOWN_COMMAND_IDS,
  MAX_FRAME_LENGTH,
  PayloadError,
} from '../../../src/evse-master/protocol/index.js';
import { buildRecordFrame180, FRAME_VECTOR_IDS, vectorBytes } from './vectors.js';

/** mulberry32: small, fast, good enough for fuzzing. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(0xc0ffee);
const int = (max: number): number => Math.floor(random() * max);
const randomBytes = (length: number): Uint8Array => {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = int(256);
  // Sprinkle header bytes so the resync paths get exercised.
  if (length > 4 && random() < 0.5) out.set([0x06, 0x01, 0x00, 25 + int(100)], int(length - 4));
  return out;
};

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Valid frames: the spec vectors, the record frame, and random commands with random payloads. */
const VALID_FRAMES: Uint8Array[] = [...FRAME_VECTOR_IDS.map(vectorBytes), buildRecordFrame180()];
for (let i = 0; i < 600; i++) {
  const command = random() < 0.8 ? KNOWN_COMMAND_IDS[int(KNOWN_COMMAND_IDS.length)]! : int(0x10000);
  VALID_FRAMES.push(
    encodeFrame({
      keyType: random() < 0.9 ? 0 : int(256),
      serial: randomBytes(8),
      password: random() < 0.5 ? CHARGER_PASSWORD : randomBytes(6),
      command,
      payload: randomBytes(random() < 0.1 ? int(MAX_FRAME_LENGTH - 25) : int(120)),
    }),
  );
}
const pick = (): Uint8Array => VALID_FRAMES[int(VALID_FRAMES.length)]!;

function mutate(frame: Uint8Array): Uint8Array {
  const out = frame.slice();
  const flips = 1 + int(3);
  for (let i = 0; i < flips; i++) out[int(out.length)] = int(256);
  return out;
}

/** Feeds `stream` in random chunks; checks the invariants after every push. */
function feed(reassembler: FrameReassembler, stream: Uint8Array, frames: Frame[]): void {
  let offset = 0;
  while (offset < stream.length) {
    const size = random() < 0.2 ? stream.length : 1 + int(random() < 0.5 ? 20 : 120);
    for (const frame of reassembler.push(stream.subarray(offset, offset + size))) frames.push(frame);
    offset += size;
    if (reassembler.bufferedBytes >= MAX_FRAME_LENGTH) {
      throw new Error(`buffer grew to ${reassembler.bufferedBytes} bytes`);
    }
  }
}

describe('fuzz: reassembler + decodeMessage', () => {
  it('survives 100k random, mutated, truncated and concatenated streams', () => {
    const reassembler = new FrameReassembler();
    const tail = new Uint8Array(MAX_FRAME_LENGTH); // flushes any candidate still waiting
    let embedded = 0;
    let decoded = 0;
    const types = new Set<string>();
    for (let run = 0; run < 100_000; run++) {
      const kind = run % 5;
      const parts: Uint8Array[] = [];
      const expected: string[] = [];
      if (kind === 0) {
        parts.push(randomBytes(int(200)));
      } else if (kind === 1) {
        parts.push(mutate(pick()));
      } else if (kind === 2) {
        const frame = pick();
        parts.push(frame.subarray(0, int(frame.length)));
      } else {
        // Valid frames between junk, mutated frames and truncated frames.
        const count = 1 + int(3);
        for (let i = 0; i < count; i++) {
          const junk = int(3);
          if (junk === 0) parts.push(randomBytes(int(40)));
          else if (junk === 1) parts.push(mutate(pick()));
          const frame = pick();
          parts.push(frame);
          expected.push(bytesToHex(frame));
        }
        parts.push(randomBytes(int(40)), tail);
      }
      const frames: Frame[] = [];
      feed(reassembler, concat(parts), frames);
      for (const frame of frames) {
        // decodeMessage must not throw; describeFrame (slower) on a sample.
        types.add(decodeMessage(frame).type);
        if (run % 10 === 0) describeFrame(frame);
        decoded++;
      }
      if (expected.length > 0) {
        const found = new Set(frames.map((f) => bytesToHex(encodeFrame(f))));
        const missing = expected.filter((hex) => !found.has(hex));
        if (missing.length > 0) throw new Error(`run ${run}: valid frame not found: ${missing[0]}`);
        embedded += expected.length;
        reassembler.reset();
      }
    }
    expect(embedded).toBeGreaterThan(50_000);
    expect(decoded).toBeGreaterThan(embedded);
    // The random frames reach the typed, unknown and malformed paths alike.
    expect(types).toContain('status');
    expect(types).toContain('unknown');
    expect(types).toContain('malformed');
    expect(types.size).toBeGreaterThan(30);
  });

  it('typed decoders either decode or throw PayloadError, never anything else', () => {
    const decoders: Array<(p: Uint8Array) => unknown> = [
      decodeLoginInfo,
      decodeSingleAcStatus,
      decodeChargingStatus,
      decodeChargeStartRequest,
      decodeChargeStartResponse,
      decodeChargeStopRequest,
      decodeChargeStopResponse,
      decodeChargeRecord,
      decodeVersion,
      decodeNicknameRequest,
      decodeNicknameReply,
      decodeFee,
    ];
    const failures: unknown[] = [];
    for (let run = 0; run < 10_000; run++) {
      const payload = randomBytes(int(200));
      for (const decode of decoders) {
        try {
          decode(payload);
        } catch (error) {
          if (!(error instanceof PayloadError)) failures.push(error);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('property: chunking does not matter', () => {
  it('any cut of a stream of valid frames and junk yields the same frames', () => {
    const frameArb = fc.constantFrom(...VALID_FRAMES.slice(0, 60));
    const junkArb = fc.uint8Array({ maxLength: 12 }).filter((b) => !b.includes(0x06));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(junkArb, frameArb), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 40 }),
        (pieces, cuts) => {
          const stream = concat(pieces.flat());
          const reassembler = new FrameReassembler();
          const out: string[] = [];
          let offset = 0;
          for (let i = 0; offset < stream.length; i++) {
            const size = cuts[i % cuts.length]!;
            for (const f of reassembler.push(stream.subarray(offset, offset + size)))
              out.push(bytesToHex(encodeFrame(f)));
            offset += size;
          }
          expect(out).toEqual(pieces.map(([, frame]) => bytesToHex(frame)));
          expect(reassembler.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 400, seed: 42 },
    );
  });
});

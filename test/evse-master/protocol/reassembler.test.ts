import { describe, expect, it } from 'vitest';
import {
  bytesToHex,
  CHARGER_PASSWORD,
  encodeFrame,
  type Frame,
  FrameReassembler,
  hexToBytes,
  MAX_FRAME_LENGTH,
} from '../../../src/evse-master/protocol/index.js';
import { buildRecordFrame180, VECTORS, vectorBytes } from './vectors.js';

const hexes = (frames: Frame[]): string[] => frames.map((f) => bytesToHex(encodeFrame(f)));

function pushAll(chunks: Uint8Array[], reassembler = new FrameReassembler()): string[] {
  return chunks.flatMap((chunk) => hexes(reassembler.push(chunk)));
}

function bytewise(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (b) => Uint8Array.of(b));
}

describe('FrameReassembler (§9.2)', () => {
  it('N1 then N2 gives exactly B6, B7, B8 (B8 straddles the notifications)', () => {
    const reassembler = new FrameReassembler();
    expect(hexes(reassembler.push(vectorBytes('N1')))).toEqual([VECTORS.B6, VECTORS.B7]);
    expect(reassembler.bufferedBytes).toBe(42);
    expect(hexes(reassembler.push(vectorBytes('N2')))).toEqual([VECTORS.B8]);
    expect(reassembler.bufferedBytes).toBe(0);
    expect(reassembler.stats).toEqual({ frames: 3, discardedBytes: 0, badFrames: 0 });
  });

  it('joins a 180-byte record frame sent as 100 + 80 bytes', () => {
    const frame = buildRecordFrame180();
    const reassembler = new FrameReassembler();
    expect(reassembler.push(frame.subarray(0, 100))).toEqual([]);
    const out = reassembler.push(frame.subarray(100));
    expect(out).toHaveLength(1);
    expect(out[0]!.command).toBe(0x000a);
    expect(out[0]!.payload.length).toBe(155);
    expect(bytesToHex(encodeFrame(out[0]!))).toBe(bytesToHex(frame));
  });

  const stream = hexToBytes(VECTORS.N1 + VECTORS.N2 + bytesToHex(buildRecordFrame180()) + VECTORS.K14);
  const expected = [VECTORS.B6, VECTORS.B7, VECTORS.B8, bytesToHex(buildRecordFrame180()), VECTORS.K14];

  it('gives the same frames in one chunk, byte by byte, and with junk in front', () => {
    expect(pushAll([stream])).toEqual(expected);
    expect(pushAll(bytewise(stream))).toEqual(expected);
    const junk = Uint8Array.of(0x00, 0x06, 0x00);
    const withJunk = new Uint8Array([...junk, ...stream]);
    const reassembler = new FrameReassembler();
    expect(pushAll([withJunk], reassembler)).toEqual(expected);
    expect(reassembler.stats.discardedBytes).toBe(3);
    expect(pushAll(bytewise(withJunk))).toEqual(expected);
  });

  it('gives the same frames for every cut into two notifications', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(pushAll([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(expected);
    }
  });

  it('rescans after a false header inside junk and finds the real frame', () => {
    // `06 01 00 30` looks like a 48-byte frame start; its window holds the real K13 frame.
    const fake = hexToBytes('06010030aabbcc');
    const reassembler = new FrameReassembler();
    const out = pushAll([fake, vectorBytes('K13'), new Uint8Array(40)], reassembler);
    expect(out).toEqual([VECTORS.K13]);
    expect(reassembler.stats.badFrames).toBe(1);
  });

  it('treats implausible lengths as junk without waiting', () => {
    const reassembler = new FrameReassembler();
    const tooShort = hexToBytes('06010018');
    const tooLong = hexToBytes('0601ffff');
    expect(pushAll([tooShort, tooLong, vectorBytes('A2')], reassembler)).toEqual([VECTORS.A2]);
    expect(reassembler.stats.discardedBytes).toBe(8);
    expect(reassembler.stats.badFrames).toBe(0);
  });

  it('drops a corrupted frame and keeps going', () => {
    const broken = vectorBytes('B6');
    broken[25] = broken[25]! ^ 0xff;
    const reassembler = new FrameReassembler();
    expect(pushAll([broken, vectorBytes('B7')], reassembler)).toEqual([VECTORS.B7]);
    expect(reassembler.stats.badFrames).toBe(1);
    expect(reassembler.stats.discardedBytes).toBe(broken.length);
  });

  it('keeps a trailing 06 that may start a header', () => {
    const reassembler = new FrameReassembler();
    const a2 = vectorBytes('A2');
    expect(reassembler.push(Uint8Array.of(0x55, 0x06))).toEqual([]);
    expect(reassembler.bufferedBytes).toBe(1);
    expect(hexes(reassembler.push(a2.subarray(1)))).toEqual([VECTORS.A2]);
  });

  it('stays bounded when a plausible header is followed by junk', () => {
    const reassembler = new FrameReassembler();
    reassembler.push(Uint8Array.of(0x06, 0x01, MAX_FRAME_LENGTH >> 8, MAX_FRAME_LENGTH & 0xff));
    for (let i = 0; i < 200; i++) {
      reassembler.push(new Uint8Array(97).fill(0x06));
      expect(reassembler.bufferedBytes).toBeLessThan(MAX_FRAME_LENGTH);
    }
    // The stream is still usable afterwards.
    reassembler.push(new Uint8Array(MAX_FRAME_LENGTH).fill(0x11));
    expect(hexes(reassembler.push(vectorBytes('K13')))).toEqual([VECTORS.K13]);
  });

  it('honours a smaller maxBufferBytes', () => {
    const reassembler = new FrameReassembler({ maxBufferBytes: 60 });
    const big = encodeFrame({
      keyType: 0,
      serial: new Uint8Array(8),
      password: CHARGER_PASSWORD,
      command: 4,
      payload: new Uint8Array(40),
    });
    expect(reassembler.push(big)).toEqual([]);
    expect(reassembler.bufferedBytes).toBeLessThanOrEqual(60);
    expect(hexes(reassembler.push(vectorBytes('A2')))).toEqual([VECTORS.A2]);
    expect(() => new FrameReassembler({ maxBufferBytes: 10 })).toThrow(RangeError);
  });

  it('handles a large stream in one push', () => {
    const frame = vectorBytes('K14');
    const count = 5000;
    const big = new Uint8Array(frame.length * count);
    for (let i = 0; i < count; i++) big.set(frame, i * frame.length);
    const reassembler = new FrameReassembler();
    expect(reassembler.push(big)).toHaveLength(count);
    expect(reassembler.bufferedBytes).toBe(0);
  });

  it('reset() forgets a partial frame and counts it as discarded', () => {
    const reassembler = new FrameReassembler();
    reassembler.push(vectorBytes('N1'));
    reassembler.reset();
    expect(reassembler.bufferedBytes).toBe(0);
    expect(reassembler.stats.discardedBytes).toBe(42);
    expect(reassembler.push(vectorBytes('N2'))).toEqual([]);
    expect(hexes(reassembler.push(vectorBytes('A2')))).toEqual([VECTORS.A2]);
  });
});

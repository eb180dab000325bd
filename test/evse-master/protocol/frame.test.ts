import { describe, expect, it } from 'vitest';
import {
  bytesToHex,
  CHARGER_PASSWORD,
  checksumMatches,
  decodeFrame,
  encodeFrame,
  type Frame,
  FrameError,
  frameChecksum,
  hexToBytes,
  MAX_FRAME_LENGTH,
  pinToPassword,
  serialFromString,
  serialToString,
} from '../../../src/evse-master/protocol/index.js';
import { FRAME_VECTOR_IDS, VECTORS, vectorBytes } from './vectors.js';

function frameError(fn: () => unknown): FrameError {
  try {
    fn();
  } catch (error) {
    if (error instanceof FrameError) return error;
    throw error;
  }
  throw new Error('expected a FrameError');
}

describe('checksum', () => {
  it('is the byte sum before the checksum field (hand checks of §2.1)', () => {
    const a2 = vectorBytes('A2');
    expect(frameChecksum(a2, a2.length - 4)).toBe(0x0880);
    const k1 = vectorBytes('K1');
    expect(frameChecksum(k1, k1.length - 4)).toBe(0x043b);
  });

  it('keeps the low 16 bits and accepts either modulus on decode', () => {
    const bytes = new Uint8Array(300).fill(0xff); // sum 76500
    expect(frameChecksum(bytes, 300)).toBe(76500 - 65536);
    expect(checksumMatches(76500 - 65536, bytes, 300)).toBe(true);
    expect(checksumMatches(76500 - 65535, bytes, 300)).toBe(true);
    expect(checksumMatches(76500 - 65534, bytes, 300)).toBe(false);
  });
});

describe('decodeFrame / encodeFrame', () => {
  it.each(FRAME_VECTOR_IDS)('%s decodes and re-encodes byte for byte', (id) => {
    const bytes = vectorBytes(id);
    const frame = decodeFrame(bytes);
    expect(frame.payload.length).toBe(bytes.length - 25);
    expect(bytesToHex(encodeFrame(frame))).toBe(VECTORS[id]);
  });

  it('splits the header fields of A2 (charger heading)', () => {
    const frame = decodeFrame(vectorBytes('A2'));
    expect(frame.keyType).toBe(0);
    expect(serialToString(frame.serial)).toBe('9181102751219513');
    expect(frame.password).toEqual(CHARGER_PASSWORD);
    expect(frame.command).toBe(0x0003);
    expect(frame.payload.length).toBe(0);
  });

  it('returns copies, not views of the input', () => {
    const bytes = vectorBytes('B8');
    const frame = decodeFrame(bytes);
    bytes.fill(0);
    expect(frame.payload[0]).toBe(1);
    expect(serialToString(frame.serial)).toBe('8949281891483449');
  });

  it('accepts a frame whose checksum was computed mod 65535', () => {
    const frame: Frame = {
      keyType: 0,
      serial: serialFromString('9181102751219513'),
      password: CHARGER_PASSWORD,
      command: 0x0106,
      payload: new Uint8Array(300).fill(0xff),
    };
    const bytes = encodeFrame(frame);
    const end = bytes.length - 4;
    let sum = 0;
    for (let i = 0; i < end; i++) sum += bytes[i]!;
    expect(sum).toBeGreaterThan(65535);
    bytes[end] = (sum % 65535) >> 8;
    bytes[end + 1] = (sum % 65535) & 0xff;
    expect(decodeFrame(bytes).payload).toEqual(frame.payload);
  });

  it('names what is wrong', () => {
    const good = vectorBytes('A3');
    expect(frameError(() => decodeFrame(good.subarray(0, 24))).reason).toBe('too_short');
    const badHeader = good.slice();
    badHeader[1] = 0x02;
    expect(frameError(() => decodeFrame(badHeader)).reason).toBe('bad_header');
    expect(frameError(() => decodeFrame(hexToBytes(VECTORS.A3 + '00'))).reason).toBe('bad_length');
    const badTail = good.slice();
    badTail[badTail.length - 1] = 0x03;
    expect(frameError(() => decodeFrame(badTail)).reason).toBe('bad_tail');
    const badSum = good.slice();
    badSum[22] = 0x02;
    const error = frameError(() => decodeFrame(badSum));
    expect(error.reason).toBe('bad_checksum');
    expect(error.message).toContain('stored 0x0895');
  });

  it('refuses to encode impossible fields', () => {
    const base: Frame = {
      keyType: 0,
      serial: new Uint8Array(8),
      password: CHARGER_PASSWORD,
      command: 3,
      payload: new Uint8Array(0),
    };
    expect(() => encodeFrame({ ...base, serial: new Uint8Array(7) })).toThrow(RangeError);
    expect(() => encodeFrame({ ...base, password: new Uint8Array(5) })).toThrow(RangeError);
    expect(() => encodeFrame({ ...base, command: 0x10000 })).toThrow(RangeError);
    expect(() => encodeFrame({ ...base, keyType: 256 })).toThrow(RangeError);
    expect(() => encodeFrame({ ...base, payload: new Uint8Array(MAX_FRAME_LENGTH) })).toThrow(
      /MAX_FRAME_LENGTH/,
    );
  });
});

describe('PIN, serial and hex helpers', () => {
  it('turns a PIN into the ASCII password field', () => {
    expect(bytesToHex(pinToPassword('123456'))).toBe('313233343536');
    expect(bytesToHex(pinToPassword('221278'))).toBe('323231323738');
  });

  it('rejects malformed PINs without echoing them', () => {
    for (const pin of ['12345', '1234567', '12a456', '', ' 123456']) {
      expect(() => pinToPassword(pin)).toThrow(/6 digits/);
    }
    try {
      pinToPassword('98765x');
    } catch (error) {
      expect((error as Error).message).not.toContain('98765');
    }
  });

  it('shows serials as the hex digits in wire order', () => {
    expect(serialToString(Uint8Array.of(0x83, 0x68, 0x55, 0x56, 0x70, 0x37, 0x75, 0x98))).toBe(
      '8368555670377598',
    );
    expect(serialFromString('9181102751219513')).toEqual(
      Uint8Array.of(0x91, 0x81, 0x10, 0x27, 0x51, 0x21, 0x95, 0x13),
    );
    expect(() => serialFromString('918110275121951')).toThrow(/16 hex digits/);
    expect(() => serialFromString('91811027512195xx')).toThrow(/16 hex digits/);
  });

  it('reads hex in the shapes logs use', () => {
    const expected = Uint8Array.of(0x06, 0x01, 0xab, 0xcd);
    expect(hexToBytes('0601abcd')).toEqual(expected);
    expect(hexToBytes('06 01 AB cd')).toEqual(expected);
    expect(hexToBytes('06:01:ab:CD')).toEqual(expected);
    expect(hexToBytes('0x06 0x01 0xAB 0xcd')).toEqual(expected);
    expect(hexToBytes('0x0601abcd\n')).toEqual(expected);
    expect(hexToBytes('')).toEqual(new Uint8Array(0));
    expect(() => hexToBytes('060')).toThrow(/odd number of digits/);
    expect(() => hexToBytes('06g1')).toThrow(/unexpected character "g"/);
    expect(bytesToHex(expected)).toBe('0601abcd');
  });
});

import { describe, expect, it } from 'vitest';
import { splitForMtu } from '../../../src/evse-master/transports/ble-write.js';
import {
  type CharacteristicShape,
  normalizeUuid,
  selectGattPair,
} from '../../../src/evse-master/transports/gatt-variants.js';

describe('normalizeUuid', () => {
  it.each([
    ['fff1', '0000fff100001000800000805f9b34fb'],
    ['FFF1', '0000fff100001000800000805f9b34fb'],
    ['0xfff1', '0000fff100001000800000805f9b34fb'],
    ['0000fff1-0000-1000-8000-00805f9b34fb', '0000fff100001000800000805f9b34fb'],
    ['0000FFF100001000800000805F9B34FB', '0000fff100001000800000805f9b34fb'],
    ['0003cdd1-0000-1000-8000-00805f9b0131', '0003cdd100001000800000805f9b0131'],
    ['0003cdd1', '0003cdd100001000800000805f9b34fb'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeUuid(input)).toBe(expected);
  });

  it.each(['', 'fff', 'not-a-uuid', 'fff1x', '0000fff1-0000'])('rejects %j', (input) => {
    expect(normalizeUuid(input)).toBeNull();
  });
});

describe('selectGattPair', () => {
  const c = (uuid: string, ...properties: string[]): CharacteristicShape => ({ uuid, properties });

  it('prefers FFE over CDD over FFF when several are present', () => {
    const all = [
      c('fff1', 'notify'),
      c('fff2', 'write'),
      c('0003cdd100001000800000805f9b0131', 'notify'),
      c('0003cdd200001000800000805f9b0131', 'writeWithoutResponse'),
      c('ffe4', 'notify'),
      c('ffe9', 'write'),
    ];
    expect(selectGattPair(all)?.variant.name).toBe('FFE');
    expect(selectGattPair(all.slice(0, 4))?.variant.name).toBe('CDD');
    expect(selectGattPair(all.slice(0, 2))?.variant.name).toBe('FFF');
  });

  it('does not mistake the CDD UUIDs for 16-bit ones on the SIG base', () => {
    expect(selectGattPair([c('0003cdd1', 'notify'), c('0003cdd2', 'write')])).toBeNull();
  });

  it('requires notify|indicate on the notify side and write|writeWithoutResponse on the write side', () => {
    expect(selectGattPair([c('fff1', 'read'), c('fff2', 'write')])).toBeNull();
    expect(selectGattPair([c('fff1', 'notify'), c('fff2', 'read')])).toBeNull();
    expect(selectGattPair([c('fff1', 'indicate'), c('fff2', 'writeWithoutResponse')])?.variant.name).toBe(
      'FFF',
    );
  });

  it('falls through to the next variant when the preferred one is unusable', () => {
    const sel = selectGattPair([
      c('ffe4', 'read'),
      c('ffe9', 'write'),
      c('fff1', 'notify'),
      c('fff2', 'write'),
    ]);
    expect(sel?.variant.name).toBe('FFF');
  });

  it('chooses the write mode from the properties', () => {
    expect(selectGattPair([c('fff1', 'notify'), c('fff2', 'read', 'write')])?.withoutResponse).toBe(false);
    expect(
      selectGattPair([c('fff1', 'notify'), c('fff2', 'write', 'writeWithoutResponse')])?.withoutResponse,
    ).toBe(true);
  });

  it('takes the usable one of two same-UUID characteristics', () => {
    const good = c('fff1', 'notify');
    const sel = selectGattPair([c('fff1', 'read'), good, c('fff2', 'write')]);
    expect(sel?.notify).toBe(good);
  });
});

describe('splitForMtu', () => {
  const frame = new Uint8Array(72).map((_, i) => i);

  it('cuts into mtu-3 pieces that concatenate back to the frame', () => {
    const pieces = splitForMtu(frame, 23);
    expect(pieces.map((p) => p.length)).toEqual([20, 20, 20, 12]);
    expect(new Uint8Array(Buffer.concat(pieces))).toEqual(frame);
  });

  it('keeps a frame whole when it fits exactly, or when the MTU is unknown or absurd', () => {
    expect(splitForMtu(frame, 75)).toEqual([frame]);
    expect(splitForMtu(frame, 74).map((p) => p.length)).toEqual([71, 1]);
    expect(splitForMtu(frame, null)).toEqual([frame]);
    expect(splitForMtu(frame, 3)).toEqual([frame]);
    expect(splitForMtu(frame, Number.NaN)).toEqual([frame]);
  });
});

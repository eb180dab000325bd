/** The BS20's charging status → the core session: its start time. */
import { describe, expect, it } from 'vitest';
import { emptyState } from '../../src/core/charger.js';
import { reduceMessage } from '../../src/evse-master/charger-state.js';
import type { EvseMessage } from '../../src/evse-master/protocol/message.js';

const NOW = Date.parse('2026-12-07T19:39:30.500Z');

function status(startMs: number, elapsedS: number): EvseMessage {
  return {
    type: 'charging_status',
    chargeId: '2026120720392367',
    startTime: { raw: 1, unixMs: startMs },
    elapsedS,
    sessionEnergyKwh: 0.01,
    userId: '',
    currentLimitA: 16,
    maxEnergyKwh: 0,
    maxDurationMinutes: 0,
    currentState: 0,
    reservationTime: { raw: 0, unixMs: null },
  } as unknown as EvseMessage;
}

const startOf = (m: EvseMessage) =>
  reduceMessage(emptyState(NOW), m, { now: NOW, errorBitOrder: 'lsb' }).session?.startedAt;

describe('the BS20 session start', () => {
  it('a start read early by whole-second clocks is moved to what the elapsed seconds allow', () => {
    // Began at 27.989 on a clock set 0.9 s behind: the charger says 27.000; 2 s counted at 30.5.
    expect(startOf(status(Date.parse('2026-12-07T19:39:27.000Z'), 2))).toBe(NOW - 3_000);
  });

  it('keeps a start that agrees, and one far off (a clock that drifted, a count without pauses)', () => {
    const agrees = Date.parse('2026-12-07T19:39:28.000Z');
    expect(startOf(status(agrees, 2))).toBe(agrees);
    const farOff = Date.parse('2026-12-07T19:30:00.000Z');
    expect(startOf(status(farOff, 2))).toBe(farOff);
  });
});

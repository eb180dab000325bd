import { describe, expect, it } from 'vitest';
import { type ChargerState, emptyState } from '../../src/core/charger.js';
import {
  type ChargeRecordView,
  endFromRecord,
  endFromRegister,
  recordMatches,
  type SessionView,
} from '../../src/sessions/charge-record.js';

const session: SessionView = {
  chargerSessionId: 'A',
  startedAt: 1_000_000,
  meterStartKwh: 100,
  last: { at: 1_600_000, meterKwh: 100.1 },
};
const record = (patch: Partial<ChargeRecordView>): ChargeRecordView => ({
  chargerSessionId: 'A',
  startedAt: 1_000_000,
  endedAt: 2_000_000,
  meterStartKwh: 100,
  meterStopKwh: 100.22,
  energyKwh: 0.22,
  reason: 'gun_unplugged',
  ...patch,
});
const idle = (patch: Partial<ChargerState>): ChargerState => ({
  ...emptyState(0),
  link: 'online',
  energyTotalKwh: 100.22,
  ...patch,
});
const named = (id: string) => ({
  chargerSessionId: id,
  startedAt: 1_000_000,
  energyKwh: 0.22,
  durationS: 900,
  userId: null,
  idTag: null,
  currentA: null,
  limitEnergyKwh: null,
  limitMinutes: null,
});

describe('closing a session from what the charger says after a restart', () => {
  it('matches a record by id, else by a start time within 5 minutes', () => {
    expect(recordMatches(record({}), session)).toBe(true);
    expect(recordMatches(record({ chargerSessionId: 'B' }), session)).toBe(false);
    const unnamed = { ...session, chargerSessionId: null };
    expect(recordMatches(record({ startedAt: 1_000_000 + 4 * 60_000 }), unnamed)).toBe(true);
    expect(recordMatches(record({ startedAt: 1_000_000 + 6 * 60_000 }), unnamed)).toBe(false);
  });

  it("takes the record's stop meter and time, never below the last saved reading", () => {
    expect(endFromRecord(record({}), session)).toMatchObject({ endedAt: 2_000_000, meterStopKwh: 100.22 });
    // A record lower than what we saw (a register reset, a bad record) lowers nothing.
    expect(endFromRecord(record({ meterStopKwh: 100.05 }), session)).toMatchObject({
      endedAt: 2_000_000,
      meterStopKwh: 100.1,
    });
  });

  it('takes the register only while the charger still names this session and the car is gone', () => {
    const ours = idle({ session: named('A') });
    expect(endFromRegister(ours, session, [])).toMatchObject({ meterStopKwh: 100.22, endedAt: 1_900_000 });
    expect(endFromRegister(idle({}), session, []).meterStopKwh).toBe(100.1);
    expect(endFromRegister(idle({ session: named('B') }), session, []).meterStopKwh).toBe(100.1);
    expect(endFromRegister({ ...ours, plugged: true }, session, []).meterStopKwh).toBe(100.1);
    // A later session's record bounds it at that session's start.
    const later = record({ chargerSessionId: 'B', startedAt: 1_900_000, meterStartKwh: 100.15 });
    expect(endFromRegister(ours, session, [later]).meterStopKwh).toBe(100.15);
  });
});

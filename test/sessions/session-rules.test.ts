import { describe, expect, it } from 'vitest';
import { type ChargerState, emptyState } from '../../src/core/charger.js';
import {
  chargerStartedAt,
  closeReason,
  handoverMeterKwh,
  shouldOpen,
  stopReasonFromCharger,
} from '../../src/sessions/session-rules.js';

const state = (patch: Partial<ChargerState>): ChargerState => ({
  ...emptyState(0),
  link: 'online',
  ...patch,
});
const txSession = (id: string) => ({
  chargerSessionId: id,
  startedAt: 0,
  energyKwh: 1,
  durationS: null,
  userId: null,
  idTag: null,
  currentA: null,
  limitEnergyKwh: null,
  limitMinutes: null,
});
const quiet = {
  stopRequested: false,
  chargerStopReason: null,
  chargerSessionId: 'tx-1',
  pauseCause: null,
  pauseAnnounced: false,
};

describe('session rules', () => {
  it('opens on energy flowing, or on an authorised suspended transaction only', () => {
    expect(shouldOpen(state({ charging: true }), null)).toBe(true);
    expect(shouldOpen(state({ plugged: true, status: 'suspended' }), 'tx-1')).toBe(true);
    expect(shouldOpen(state({ plugged: true, status: 'suspended' }), null)).toBe(false);
    expect(shouldOpen(state({ plugged: true, status: 'plugged' }), 'tx-1')).toBe(false);
  });

  it('closes when the plug-in ends for what ended it, and pauses otherwise', () => {
    expect(closeReason(state({ charging: true, plugged: false }), quiet)).toBeNull();
    expect(closeReason(state({ plugged: true, status: 'suspended' }), quiet)).toBeNull();
    expect(closeReason(state({ plugged: false, status: 'available' }), quiet)).toBe('unplugged');
    // A fault, or a stop a charging rule asked for, while plugged in: a pause, not the end.
    expect(closeReason(state({ plugged: true, status: 'error' }), quiet)).toBeNull();
    expect(
      closeReason(state({ plugged: true, status: 'finished' }), { ...quiet, pauseAnnounced: true }),
    ).toBeNull();
    // The charger stopping on its own ends it.
    expect(closeReason(state({ plugged: true, status: 'finished' }), quiet)).toBe('finished');
    expect(closeReason(state({ plugged: true, status: 'plugged' }), quiet)).toBe('stopped');
    // The car leaves during a fault that did not clear, or after the charger finished.
    expect(closeReason(state({ plugged: false, status: 'error' }), { ...quiet, pauseCause: 'error' })).toBe(
      'error',
    );
    expect(closeReason(state({ plugged: false }), { ...quiet, pauseCause: 'finished' })).toBe('finished');
    expect(closeReason(state({ plugged: true, status: 'finished' }), { ...quiet, stopRequested: true })).toBe(
      'remote',
    );
    expect(
      closeReason(state({ plugged: true, status: 'finished' }), { ...quiet, chargerStopReason: 'local' }),
    ).toBe('local');
    // The charger ended its transaction: its reason, even while the car stays.
    const ended = (stopReason: string, id = 'tx-1') =>
      state({
        plugged: true,
        status: 'finished',
        session: { ...emptyState(0).session, ...txSession(id), endedAt: 5, stopReason },
      });
    expect(closeReason(ended('EVDisconnected'), quiet)).toBe('unplugged');
    expect(closeReason(ended('Other'), { ...quiet, pauseCause: 'error' })).toBe('error');
    // Another transaction's end says nothing about this one.
    expect(closeReason(ended('Remote', 'tx-0'), { ...quiet, pauseAnnounced: true })).toBeNull();
  });

  it('maps charger stop reasons', () => {
    expect(stopReasonFromCharger('EVDisconnected')).toBe('unplugged');
    expect(stopReasonFromCharger('HardReset')).toBe('reboot');
    expect(stopReasonFromCharger('Remote')).toBe('remote');
    expect(stopReasonFromCharger('Cosmic rays')).toBe('other');
  });

  it('hands the register over without overlap and keeps a drifting start time in range', () => {
    const withSession = (energyKwh: number | null, startedAt: number | null) =>
      state({
        session: {
          chargerSessionId: 'B',
          startedAt,
          energyKwh,
          durationS: null,
          userId: null,
          idTag: null,
          currentA: null,
          limitEnergyKwh: null,
          limitMinutes: null,
        },
      });
    expect(handoverMeterKwh(100, withSession(2, null), 105)).toBe(103);
    // The new session claims more than moved since the old one's last reading: the old one keeps its part.
    expect(handoverMeterKwh(104, withSession(2, null), 105)).toBe(104);
    expect(handoverMeterKwh(100, withSession(null, null), 105)).toBe(105);
    expect(chargerStartedAt(withSession(1, 50), 100, 200)).toBe(100);
    expect(chargerStartedAt(withSession(1, 500), 100, 200)).toBe(200);
    expect(chargerStartedAt(withSession(1, 150), 100, 200)).toBe(150);
    expect(chargerStartedAt(withSession(1, null), 100, 200)).toBe(200);
  });
});

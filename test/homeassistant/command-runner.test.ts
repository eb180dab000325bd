import { describe, expect, it } from 'vitest';
import { ChargerCommandError } from '../../src/core/charger.js';
import { runCommand } from '../../src/homeassistant/command-runner.js';
import { NextSession } from '../../src/homeassistant/next-session.js';
import { printable } from '../../src/homeassistant/payload.js';
import { chargerStateToJson } from '../../src/homeassistant/state.js';
import { FakeCharger } from './fakes.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0);

class RestartableFake extends FakeCharger {
  async restart(): Promise<void> {
    this.calls.push({ method: 'restart', args: [] });
  }
}

describe('runCommand', () => {
  it('starts the next session with the chosen user and limits, and stops on OFF', async () => {
    const charger = new FakeCharger();
    const next = new NextSession();
    await runCommand(charger, { key: 'charging', on: true }, next, NOW);
    await runCommand(charger, { key: 'user', user: 'alice' }, next, NOW);
    await runCommand(charger, { key: 'session_limit_energy', kwh: 12.5 }, next, NOW);
    await runCommand(charger, { key: 'session_limit_minutes', minutes: 90 }, next, NOW);
    await runCommand(charger, { key: 'charging', on: true }, next, NOW);
    await runCommand(charger, { key: 'session_limit_energy', kwh: null }, next, NOW);
    await runCommand(charger, { key: 'charging', on: false }, next, NOW);
    expect(charger.calls).toEqual([
      { method: 'startCharging', args: [{}] },
      { method: 'startCharging', args: [{ userId: 'alice', limitEnergyKwh: 12.5, limitMinutes: 90 }] },
      { method: 'stopCharging', args: [] },
    ]);
  });

  it('the next-session choices appear in the state JSON the selects and numbers read', () => {
    const next = new NextSession();
    next.user = 'bob';
    next.limitMinutes = 45;
    const state = new FakeCharger().getState();
    const json = chargerStateToJson(state, next.stateExtras({ users: ['alice', 'bob'], limits: true }));
    expect(json).toMatchObject({ user: 'bob', session_limit_minutes: 45, session_limit_energy_kwh: 0 });
    expect(chargerStateToJson(state, next.stateExtras({ users: null, limits: false }))).toMatchObject({
      user: null,
    });
  });

  it('schedules a start, and cancels it only while one is pending', async () => {
    const charger = new FakeCharger();
    const next = new NextSession();
    next.limitMinutes = 30;
    const at = Date.UTC(2026, 0, 16, 6, 0);
    await runCommand(charger, { key: 'scheduled_start', at }, next, NOW);
    await runCommand(charger, { key: 'scheduled_start', at: null }, next, NOW);
    charger.update({ status: 'scheduled' });
    await runCommand(charger, { key: 'scheduled_start', at: null }, next, NOW);
    // A time that just passed (clocks a little apart) starts now.
    await runCommand(charger, { key: 'scheduled_start', at: NOW - 30_000 }, next, NOW);
    expect(charger.calls).toEqual([
      { method: 'startCharging', args: [{ limitMinutes: 30, startAt: at }] },
      { method: 'stopCharging', args: [] },
      { method: 'startCharging', args: [{ limitMinutes: 30 }] },
    ]);
  });

  it('sets the current; refuses what the charger cannot do with not_supported', async () => {
    const charger = new FakeCharger();
    await runCommand(charger, { key: 'max_current', amps: 10 }, new NextSession(), NOW);
    expect(charger.calls).toEqual([{ method: 'setMaxCurrent', args: [10] }]);
    for (const command of [
      { key: 'name', name: 'Garage' },
      { key: 'language', language: 'german' },
      { key: 'temperature_unit', unit: 'fahrenheit' },
      { key: 'sync_time' },
      { key: 'restart' },
    ] as const) {
      const error = await runCommand(charger, command, new NextSession(), NOW).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChargerCommandError);
      expect((error as ChargerCommandError).code).toBe('not_supported');
      expect((error as Error).message).toMatch(/^charger garage cannot /);
    }
    const restartable = new RestartableFake();
    await runCommand(restartable, { key: 'restart' }, new NextSession(), NOW);
    expect(restartable.calls).toEqual([{ method: 'restart', args: [] }]);
  });
});

describe('printable', () => {
  it('keeps short text, escapes control characters, marks invalid UTF-8 and cuts long payloads', () => {
    expect(printable('16')).toBe('16');
    expect(printable('a\nb\u0000c\u007f')).toBe('a\\u000ab\\u0000c\\u007f');
    expect(printable(Buffer.from([0x31, 0xff, 0x36]))).toBe('1\uFFFD6');
    expect(printable('é'.repeat(100), 10)).toBe(`${'é'.repeat(10)}…`);
    expect(printable(Buffer.alloc(1_000_000, 0x41))).toBe(`${'A'.repeat(64)}…`);
    expect(printable('')).toBe('');
  });
});

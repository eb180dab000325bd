/**
 * How Home Assistant hears about commands the switching rules hold: a deferral with its time and
 * reason (not a rejection), the state re-published at once, and a rejection if the held command
 * fails when its time comes. The charger is FakeCharger behind the real guard.
 */
import { describe, expect, it } from 'vitest';
import { ChargerCommandError, type StartChargingOptions } from '../../src/core/charger.js';
import { ManualClock } from '../../src/core/clock.js';
import { guardCharger } from '../../src/core/switching-guard.js';
import { DEFAULT_SWITCHING_RULES } from '../../src/core/switching-rules.js';
import {
  type CommandDeferral,
  type CommandRejection,
  CommandRouter,
  type CommandTarget,
} from '../../src/homeassistant/command-router.js';
import { NextSession } from '../../src/homeassistant/next-session.js';
import { createTopics } from '../../src/homeassistant/topics.js';
import { silentLogger } from '../../src/log.js';
import { FakeCharger } from './fakes.js';

/** Switches when told, like a charger would report it; can refuse the next start. */
class SwitchingFake extends FakeCharger {
  refuse: string | null = null;
  override async startCharging(options?: StartChargingOptions): Promise<void> {
    if (this.refuse) throw new ChargerCommandError('not_plugged', this.refuse);
    await super.startCharging(options);
    this.update({ charging: true, status: 'charging' });
  }
  override async stopCharging(): Promise<void> {
    await super.stopCharging();
    this.update({ charging: false, status: 'finished' });
  }
}

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 15, 12, 0, 0));
  const fake = new SwitchingFake('garage', 'Garage', 'bs20', clock.now());
  fake.update({ plugged: true, status: 'plugged' });
  const charger = guardCharger(fake, DEFAULT_SWITCHING_RULES, clock, silentLogger());
  const log: string[] = [];
  const rejections: CommandRejection[] = [];
  const deferrals: CommandDeferral[] = [];
  const target: CommandTarget = {
    charger,
    keys: () => ['charging', 'max_current'],
    users: () => [],
    next: new NextSession(),
    applied: () => log.push(`applied charging=${fake.getState().charging}`),
    snapBack: () => log.push(`state charging=${fake.getState().charging}`),
  };
  const router = new CommandRouter({
    topics: createTopics({ baseTopic: 'cb', discoveryPrefix: 'homeassistant' }),
    baseTopic: 'cb',
    targets: new Map([[charger.id, target]]),
    clock,
    logger: silentLogger(),
    rejected: async (r) => {
      rejections.push(r);
    },
    deferred: async (d) => {
      deferrals.push(d);
    },
  });
  const send = (key: string, payload: string) => router.handle(`cb/garage/set/${key}`, Buffer.from(payload));
  return { clock, fake, send, log, rejections, deferrals };
}

describe('deferred commands in Home Assistant', () => {
  it('reports an ON inside the window as deferred with its time, and re-publishes the real state', async () => {
    const { clock, fake, send, log, rejections, deferrals } = setup();
    await send('charging', 'ON');
    await send('charging', 'OFF');
    const stoppedAt = clock.now();
    log.length = 0;
    await send('charging', 'ON');
    expect(rejections).toEqual([]);
    expect(deferrals).toEqual([
      {
        charger: 'garage',
        key: 'charging',
        payload: 'ON',
        until: stoppedAt + 120_000,
        reason: expect.stringMatching(/^contactor protection/),
      },
    ]);
    // Re-published at once, and it says what the charger does: off.
    expect(log).toEqual(['state charging=false']);
    await clock.advance(120_000);
    expect(fake.getState().charging).toBe(true);
    expect(log).toEqual(['state charging=false', 'applied charging=true']);
  });

  it('a held start the charger refuses when its time comes is a rejection naming both', async () => {
    const { clock, fake, send, rejections } = setup();
    await send('charging', 'ON');
    await send('charging', 'OFF');
    await send('charging', 'ON');
    fake.refuse = 'the charger refused to start: plug not inserted';
    await clock.advance(120_000);
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({ charger: 'garage', key: 'charging', payload: 'ON' });
    expect(rejections[0]?.error).toMatch(
      /^charging: deferred until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d, then: the charger refused to start: plug not inserted$/,
    );
  });

  it('a current burst: one deferral per merged value, none for the first, only the last sent', async () => {
    const { clock, fake, send, deferrals, rejections } = setup();
    for (const amps of ['8', '9', '10']) await send('max_current', amps);
    expect(deferrals.map((d) => [d.key, d.payload])).toEqual([
      ['max_current', '9'],
      ['max_current', '10'],
    ]);
    await clock.advance(2_000);
    expect(fake.calls.filter((c) => c.method === 'setMaxCurrent').map((c) => c.args[0])).toEqual([8, 10]);
    expect(rejections).toEqual([]);
  });
});

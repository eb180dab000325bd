import { describe, expect, it } from 'vitest';
import { ChargerCommandError } from '../../src/core/charger.js';
import { flushMicrotasks, ManualClock } from '../../src/core/clock.js';
import {
  type CommandRejection,
  CommandRouter,
  type CommandTarget,
} from '../../src/homeassistant/command-router.js';
import { NextSession } from '../../src/homeassistant/next-session.js';
import { createTopics } from '../../src/homeassistant/topics.js';
import { silentLogger } from '../../src/log.js';
import { FakeCharger } from './fakes.js';

/** A charger whose setMaxCurrent waits until the test lets it finish. */
class SlowCharger extends FakeCharger {
  readonly waiting: Array<{ amps: number; finish: (error?: Error) => void }> = [];
  override setMaxCurrent(amps: number): Promise<void> {
    this.calls.push({ method: 'setMaxCurrent', args: [amps] });
    return new Promise((resolve, reject) => {
      this.waiting.push({ amps, finish: (error) => (error ? reject(error) : resolve()) });
    });
  }
}

function setup(charger: FakeCharger) {
  const rejections: CommandRejection[] = [];
  const snapBacks: string[] = [];
  const applied: string[] = [];
  const target: CommandTarget = {
    charger,
    keys: () => ['charging', 'max_current'],
    users: () => [],
    next: new NextSession(),
    applied: () => applied.push(charger.id),
    snapBack: () => snapBacks.push(charger.id),
  };
  const router = new CommandRouter({
    topics: createTopics({ baseTopic: 'home/cb', discoveryPrefix: 'homeassistant' }),
    baseTopic: 'home/cb',
    targets: new Map([[charger.id, target]]),
    clock: new ManualClock(),
    logger: silentLogger(),
    rejected: async (r) => {
      rejections.push(r);
    },
    maxQueuedPerCharger: 2,
  });
  return { router, rejections, snapBacks, applied };
}

const send = (router: CommandRouter, key: string, payload: string) =>
  router.handle(`home/cb/garage/set/${key}`, Buffer.from(payload));

describe('CommandRouter', () => {
  it('recognises command topics under a multi-level base topic only', () => {
    const { router } = setup(new FakeCharger());
    expect(router.matches('home/cb/garage/set/charging')).toBe(true);
    expect(router.matches('home/cb/garage/charging')).toBe(false);
    expect(router.matches('home/cb/bridge/request/restart')).toBe(false);
    expect(router.matches('other/garage/set/charging')).toBe(false);
  });

  it('runs one command at a time per charger, in arrival order', async () => {
    const charger = new SlowCharger();
    const { router, applied } = setup(charger);
    const first = send(router, 'max_current', '10');
    const second = send(router, 'max_current', '12');
    await flushMicrotasks();
    expect(charger.waiting.map((w) => w.amps)).toEqual([10]);
    charger.waiting[0]?.finish();
    await first;
    await flushMicrotasks();
    expect(charger.waiting.map((w) => w.amps)).toEqual([10, 12]);
    charger.waiting[1]?.finish();
    await second;
    expect(applied).toEqual(['garage', 'garage']);
  });

  it('refuses commands beyond the queue limit as busy, and reports charger refusals', async () => {
    const charger = new SlowCharger();
    const { router, rejections, snapBacks } = setup(charger);
    const running = [send(router, 'max_current', '10'), send(router, 'max_current', '11')];
    await send(router, 'max_current', '12');
    expect(rejections).toEqual([
      {
        charger: 'garage',
        key: 'max_current',
        payload: '12',
        error: 'max_current: 2 commands are already waiting for this charger',
      },
    ]);
    await flushMicrotasks();
    charger.waiting[0]?.finish(new ChargerCommandError('rejected', 'the charger did not accept 10 A'));
    await running[0];
    expect(rejections[1]).toEqual({
      charger: 'garage',
      key: 'max_current',
      payload: '10',
      error: 'max_current: the charger did not accept 10 A',
    });
    await flushMicrotasks();
    charger.waiting[1]?.finish(new Error('socket exploded'));
    await running[1];
    expect(rejections[2]?.error).toBe('max_current: command failed: socket exploded');
    expect(snapBacks).toEqual(['garage', 'garage', 'garage']);
    await router.idle();
    // The queue is free again.
    const next = send(router, 'max_current', '13');
    await flushMicrotasks();
    charger.waiting[2]?.finish();
    await next;
    expect(charger.calls.map((c) => c.args[0])).toEqual([10, 11, 13]);
  });
});

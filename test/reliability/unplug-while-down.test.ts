/**
 * SIGKILL mid-charge, the car unplugged while the daemon is down, then a restart: the real CLI in a
 * child process, the BS20 (`transport: simulated`) living in the test process (outside-charger.ts)
 * so it keeps charging and records the session end while no daemon runs. The restarted daemon must
 * close the session with the energy the charger delivered (its charge record 0x000A), not with the
 * last reading saved before the kill.
 *
 * No real-time waits: the charger's clock jumps ahead (energy accrues at once), and the test waits
 * on MQTT messages from the daemon.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { type Clock, systemClock } from '../../src/core/clock.js';
import { embeddedBroker } from '../helpers/brokers.js';
import { DaemonProcess } from './daemon-process.js';
import { OutsideCharger } from './outside-charger.js';
import { readSessionFiles } from './store-files.js';

const MINUTE = 60_000;
const WAIT_MS = 20_000;
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

/** Real timers, but a time that can jump ahead: the simulated car charges for the jump at once. */
class JumpClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  jump(ms: number): void {
    this.offset += ms;
  }
  setTimeout = systemClock.setTimeout.bind(systemClock);
  clearTimeout = systemClock.clearTimeout.bind(systemClock);
  setInterval = systemClock.setInterval.bind(systemClock);
  clearInterval = systemClock.clearInterval.bind(systemClock);
}

interface Heard {
  topic: string;
  json: Record<string, unknown>;
}

function nextMessage(client: MqttClient, match: (m: Heard) => boolean, what: string): Promise<Heard> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no ${what} within ${WAIT_MS} ms`));
    }, WAIT_MS);
    const onMessage = (topic: string, payload: Buffer) => {
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
      } catch {
        return;
      }
      if (!match({ topic, json })) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve({ topic, json });
    };
    client.on('message', onMessage);
  });
}

describe('the car unplugged while the daemon is down', () => {
  it("closes the session at restart with the charger's energy, not the last saved reading", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cb-unplug-down-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dataDir = path.join(dir, 'data');
    const broker = await embeddedBroker.start();
    cleanups.push(() => broker.stop());
    const clock = new JumpClock();
    const charger = await OutsideCharger.start({
      clock,
      timeZone: 'Europe/Berlin',
      phases: 1,
      hardwareMaxCurrentA: 16,
      firstBeaconDelayMs: 50,
      beaconIntervalMs: 500,
      statusIntervalMs: 500,
      chargingStatusIntervalMs: 500,
      headingIntervalMs: 2_000,
      recordReplayIntervalMs: 1_000,
    });
    cleanups.push(() => charger.close());
    const sim = charger.sim;
    const ha = await connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 5_000 });
    cleanups.push(() => ha.endAsync(true));
    await ha.subscribeAsync('chargebridge/#', { qos: 0 });
    const configFile = path.join(dir, 'configuration.yaml');
    writeFileSync(
      configFile,
      [
        `data_dir: ${dataDir}`,
        'timezone: Europe/Berlin',
        `mqtt:\n  url: ${broker.url}\n  reconnect_period_ms: 250`,
        'homeassistant:\n  enabled: false',
        'chargers:',
        '  - id: garage',
        '    type: bs20',
        '    transport: simulated',
        '    max_current: 16',
        '',
      ].join('\n'),
    );
    const daemon = () =>
      new DaemonProcess({
        configFile,
        imports: ['./test/reliability/outside-charger-preload.ts'],
        env: { OUTSIDE_CHARGER_ADDRESS: charger.address },
      });
    const isEvent = (type: string) => (m: Heard) =>
      m.topic === 'chargebridge/bridge/event' && m.json.type === type;

    const first = daemon();
    cleanups.push(() => first.kill());
    await nextMessage(
      ha,
      (m) => m.topic === 'chargebridge/garage' && m.json.link === 'online',
      'the charger online',
    );
    sim.plugIn({ demandA: 16 });
    const meterStart = sim.state.energyTotalKwh;
    const started = nextMessage(ha, isEvent('session_started'), 'session_started');
    await ha.publishAsync('chargebridge/garage/set/charging', 'ON');
    await started;
    // The open session is on disk from its start; 20 minutes of charging go by before the kill.
    clock.jump(20 * MINUTE);
    await nextMessage(
      ha,
      (m) => m.topic === 'chargebridge/garage' && Number(m.json.session_energy_kwh) > 1,
      'the session energy',
    );
    await first.kill();
    const lastSaved = readSessionFiles(dataDir).open[0]!;
    expect(lastSaved.endedAt).toBeNull();

    // While nobody watches: 10 more minutes, then the car leaves (the charger records the session).
    clock.jump(10 * MINUTE);
    const ended = new Promise<void>((resolve) => sim.events.once('session_ended', () => resolve()));
    sim.unplug();
    await ended;
    const delivered = sim.state.energyTotalKwh - meterStart;
    expect(delivered - (lastSaved.energyKwh ?? 0)).toBeGreaterThan(0.5);

    const second = daemon();
    cleanups.push(() => second.kill());
    const completed = await nextMessage(ha, isEvent('session_completed'), 'session_completed');
    await second.stop();

    expect(completed.json).toMatchObject({ charger: 'garage', data: { session_id: lastSaved.id } });
    const files = readSessionFiles(dataDir);
    expect(files.open).toEqual([]);
    expect(files.closed).toHaveLength(1);
    const s = files.closed[0]!;
    expect(s.id).toBe(lastSaved.id);
    expect(s.energyKwh).toBeCloseTo(delivered, 2);
    expect(s.stopReason).toBe('unplugged');
  }, 60_000);
});

/**
 * The embedded broker's retained messages across a SIGKILL of the real CLI: what reached the journal
 * (appended once a second) is there after the kill, for the daemon's own topics and for another
 * client's, and nothing is moved aside. docs/mqtt-broker.md states the design: a kill loses at most
 * the changes of the last second.
 */
import { readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, expect, it } from 'vitest';
import { freePort } from '../helpers/mosquitto.js';
import { DaemonProcess } from './daemon-process.js';
import { GARAGE_YAML, savedBrokerLogin } from './daemon-rig.js';

const JOURNAL = 'mqtt-retained.journal';
const DISCOVERY = 'homeassistant/device/chargebridge_garage/config';
const OTHERS = 'zigbee2mqtt/hall_lamp';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Resolves once the journal in `dir` mentions every topic (fs events, no polling). */
function journalHolds(dir: string, topics: string[]): Promise<void> {
  const holds = () => {
    try {
      const text = readFileSync(path.join(dir, JOURNAL), 'utf8');
      return topics.every((t) => text.includes(JSON.stringify(t)));
    } catch {
      return false;
    }
  };
  return new Promise((resolve) => {
    if (holds()) return resolve();
    const watcher = watch(dir, () => {
      if (!holds()) return;
      watcher.close();
      resolve();
    });
  });
}

/**
 * The retained messages a fresh subscriber gets for `wanted`, by topic. The broker may send them
 * after its SUBACK and after other traffic, so this waits for each one (the test's timeout bounds it).
 */
async function retainedSeenBy(client: MqttClient, wanted: string[]): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const all = new Promise<void>((resolve) => {
    client.on('message', (topic, payload, packet) => {
      if (packet.retain) seen.set(topic, payload.toString('utf8'));
      if (wanted.every((t) => seen.has(t))) resolve();
    });
  });
  await client.subscribeAsync(wanted, { qos: 1 });
  await all;
  return seen;
}

it('retained messages in the journal survive a SIGKILL: the daemon’s discovery and another client’s', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cb-retained-kill-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const configFile = path.join(dir, 'configuration.yaml');
  writeFileSync(
    configFile,
    [
      `data_dir: ${dir}`,
      'timezone: UTC',
      'mqtt:',
      '  embedded_broker:',
      '    host: 127.0.0.1',
      `    port: ${port}`,
      'chargers:',
      GARAGE_YAML,
      '',
    ].join('\n'),
  );
  const start = async (): Promise<DaemonProcess> => {
    const daemon = new DaemonProcess({ configFile });
    cleanups.push(() => daemon.kill());
    await new Promise<void>((resolve, reject) => {
      // Checked on each chunk of output (DaemonProcess has stored it by then) and at exit.
      const check = () => {
        if (daemon.logged(/chargebridge started/).length > 0) return resolve();
        if (!daemon.running) reject(new Error(`daemon exited: ${daemon.lines.join('\n')}`));
      };
      daemon.child.stdout?.on('data', check);
      void daemon.exited.then(check);
    });
    return daemon;
  };

  const first = await start();
  const login = savedBrokerLogin(dir);
  const other = await connectAsync(`mqtt://127.0.0.1:${port}`, { ...login, protocolVersion: 5 });
  await other.publishAsync(OTHERS, '{"state":"ON"}', { qos: 1, retain: true });
  await other.endAsync();
  // Appended (once a second), not yet fsynced (once a minute): a kill must not lose it.
  await journalHolds(dir, [DISCOVERY, OTHERS]);
  await first.kill();

  const second = await start();
  const ha = await connectAsync(`mqtt://127.0.0.1:${port}`, { ...login, protocolVersion: 5 });
  cleanups.push(() => ha.endAsync(true));
  const seen = await retainedSeenBy(ha, [DISCOVERY, OTHERS]);
  expect(seen.get(OTHERS)).toBe('{"state":"ON"}');
  expect(JSON.parse(seen.get(DISCOVERY) ?? '{}')).toMatchObject({ device: { name: expect.any(String) } });
  // A torn last line would be a warning by design; an error would mean the store was damaged.
  expect(second.logged(/retained/).filter((l) => /"level":50/.test(l))).toEqual([]);
  expect(readdirSync(dir).filter((n) => n.includes('.corrupt-'))).toEqual([]);
  await second.stop();
});

/**
 * The endpoint as the daemon wires it from the YAML: on after MQTT, answering for the configured
 * simulated BS20, closed first on stop, and never showing the configured secrets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { type RunningDaemon, startDaemon } from '../../src/daemon.js';
import { silentLogger } from '../../src/log.js';
import { freePort } from '../helpers/mosquitto.js';
import { parseExposition, sampleValue } from './exposition-parser.js';
import { allAnswers, answerText, get } from './rig.js';

const TOKEN = 'daemon-http-token-4f1c9a7e';
const PIN = '604218';
const MQTT_PASSWORD = 'broker-Pa55-for-the-test';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function boot(http: string): Promise<{ daemon: RunningDaemon; clock: ManualClock }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-http-daemon-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const yaml = [
    `data_dir: ${dir}`,
    'timezone: Europe/Berlin',
    'mqtt:',
    '  embedded_broker:',
    '    host: 127.0.0.1',
    `    port: ${await freePort()}`,
    '    username: chargebridge',
    `    password: "${MQTT_PASSWORD}"`,
    'chargers:',
    '  - id: garage',
    '    type: bs20',
    '    transport: simulated',
    `    pin: "${PIN}"`,
    '    max_current: 16',
    http,
  ].join('\n');
  const loaded = parseConfigText(yaml, { path: path.join(dir, 'configuration.yaml'), env: {} });
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 8, 0, 0));
  const daemon = await startDaemon({ loaded, logger: silentLogger(), clock });
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await daemon.stop();
    stopped = true;
  });
  await clock.advance(5_000);
  return { daemon, clock };
}

describe('daemon with http enabled', () => {
  it('serves health, metrics and the export behind the token, hides every secret, and closes on stop', async () => {
    const port = await freePort();
    const { daemon, clock } = await boot(`http:\n  enabled: true\n  port: ${port}\n  token: ${TOKEN}\n`);
    expect(daemon.http?.port).toBe(port);
    const base = `http://127.0.0.1:${port}`;

    const health = await get(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({
      status: 'ok',
      uptime_s: 5,
      chargers: [{ id: 'garage', kind: 'bs20', link: 'online' }],
    });

    await clock.advance(30_000);
    const metrics = await get(`${base}/metrics`, { token: TOKEN });
    expect(metrics.status).toBe(200);
    const families = parseExposition(metrics.body);
    const charger = daemon.chargers[0];
    expect(sampleValue(families, 'chargebridge_charger_link_up', { charger: 'garage', kind: 'bs20' })).toBe(
      1,
    );
    expect(sampleValue(families, 'chargebridge_charger_energy_kwh_total', { charger: 'garage' })).toBe(
      charger?.getState().energyTotalKwh,
    );
    expect(sampleValue(families, 'chargebridge_mqtt_connected')).toBe(1);
    expect(sampleValue(families, 'chargebridge_mqtt_messages_published_total')).toBe(
      daemon.connection.counters().published,
    );
    expect(
      sampleValue(families, 'chargebridge_ble_frames_received_total', { charger: 'garage' }),
    ).toBeGreaterThan(5);
    expect(sampleValue(families, 'chargebridge_uptime_seconds')).toBe(35);

    // The export's answer depends on whether the daemon runs a session store (server.test.ts covers
    // both); here: the token is required and accepted.
    expect((await get(`${base}/sessions/export?format=json`)).status).toBe(401);
    const exported = await get(`${base}/sessions/export?format=json`, { token: TOKEN });
    expect(exported.status).not.toBe(401);
    expect(exported.status).toBeLessThan(500);
    await get(`${base}/metrics`, { token: 'not-the-token-0000000' });
    await get(`${base}/metrics?token=${TOKEN}`);

    for (const answer of allAnswers) {
      const text = answerText(answer);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(PIN);
      expect(text).not.toContain(MQTT_PASSWORD);
    }

    await daemon.stop();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('starts no HTTP server while http is off (the default)', async () => {
    const { daemon } = await boot('');
    expect(daemon.http).toBeNull();
  });

  it('refuses to start when the port is taken, saying which setting to change', async () => {
    const port = await freePort();
    const first = await boot(`http:\n  enabled: true\n  port: ${port}\n  token: ${TOKEN}\n`);
    expect(first.daemon.http?.port).toBe(port);
    await expect(boot(`http:\n  enabled: true\n  port: ${port}\n  token: ${TOKEN}\n`)).rejects.toThrow(
      /http: cannot listen on 127\.0\.0\.1:\d+: the port is already in use .*change http\.port/,
    );
  });
});

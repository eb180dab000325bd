/**
 * The daemon against an external Mosquitto over TLS with a login: the CA from the config is trusted,
 * the broker's certificate is checked, and a broker the daemon cannot verify is not used.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { startDaemon } from '../../src/daemon.js';
import { silentLogger } from '../../src/log.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';
import { has } from '../helpers/system-programs.js';

// A self-signed certificate for 127.0.0.1 / localhost, valid until 2120, made for these tests only.
const CERT = path.resolve(import.meta.dirname, '../fixtures/loopback-test.crt');
const KEY = path.resolve(import.meta.dirname, '../fixtures/loopback-test.key');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(tlsYaml: string) {
  const mosquitto = await startMosquitto({
    tls: { certFile: CERT, keyFile: KEY },
    username: 'chargebridge',
    password: 'tls-login-pw',
  });
  cleanups.push(() => mosquitto.dispose());
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-tls-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const yaml = [
    `data_dir: ${dir}`,
    'mqtt:',
    `  url: ${mosquitto.url}`,
    '  username: chargebridge',
    '  password: tls-login-pw',
    '  reconnect_period_ms: 200',
    tlsYaml,
    'chargers: []',
  ].join('\n');
  const loaded = parseConfigText(yaml, { path: path.join(dir, 'configuration.yaml'), env: {} });
  const daemon = await startDaemon({
    loaded,
    logger: silentLogger(),
    clock: new ManualClock(),
    mqttConnectWaitMs: 3_000,
  });
  cleanups.push(() => daemon.stop());
  return { mosquitto, daemon };
}

describe.skipIf(!has('mosquitto'))('daemon with an external broker over TLS', () => {
  it('connects when the configured CA vouches for the broker', async () => {
    const { mosquitto, daemon } = await setup(`  tls:\n    ca: ${CERT}`);
    expect(daemon.connection.isConnected).toBe(true);
    const ha = await MqttProbe.connect(mosquitto.url, {
      username: 'chargebridge',
      password: 'tls-login-pw',
      ca: readFileSync(CERT),
    });
    cleanups.push(() => ha.close());
    await ha.subscribe('chargebridge/bridge/state');
    const state = await ha.waitFor('chargebridge/bridge/state');
    expect(JSON.parse(state.text)).toEqual({ state: 'online' });
  });

  it('does not talk to a broker whose certificate it cannot verify', async () => {
    const { daemon } = await setup('  tls:\n    reject_unauthorized: true');
    expect(daemon.connection.isConnected).toBe(false);
    expect(String(daemon.connection.lastError ?? '')).toMatch(/self[- ]signed|certificate/i);
  });
});

/**
 * The embedded broker with credentials, as the daemon starts it from its config: the daemon's own
 * client and a client with the right login get in; anonymous clients, a wrong password and a wrong
 * user name are refused, and a refused client gets no message at all.
 */
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/mosquitto.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';
import { type DaemonRig, startDaemonRig, waitUntil } from '../reliability/daemon-rig.js';

const USER = 'homeassistant';
const PASSWORD = 'br0ker-Secret-91';

let rig: DaemonRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

async function refused(url: string, options: { username?: string; password?: string }): Promise<string> {
  try {
    const client = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, ...options });
    await client.endAsync(true);
    return 'accepted';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

describe('embedded broker with credentials', () => {
  it('lets the daemon and the right login in, refuses anonymous, wrong password and wrong user', async () => {
    rig = await startDaemonRig({
      mqttYaml: [
        '  embedded_broker:',
        '    host: 127.0.0.1',
        `    port: ${await freePort()}`,
        `    username: ${USER}`,
        '    password: !secret broker_password',
      ].join('\n'),
      files: { 'secrets.yaml': `broker_password: "${PASSWORD}"\n` },
      probe: { username: USER, password: PASSWORD },
    });
    const url = rig.daemon.mqttUrl;
    // The daemon's own client logged in with the configured credentials.
    expect(rig.daemon.connection.isConnected).toBe(true);
    await waitUntil(
      () => (rig?.ha?.on('homeassistant/device/chargebridge_garage/config').length ?? 0) > 0,
      rig.clock,
      {
        what: 'discovery seen by the logged-in client',
      },
    );

    expect(await refused(url, {})).toMatch(/not authori[sz]ed/i);
    expect(await refused(url, { username: USER, password: `${PASSWORD}x` })).toMatch(
      /bad user ?name or password/i,
    );
    expect(await refused(url, { username: USER, password: '' })).toMatch(/bad user ?name or password/i);
    expect(await refused(url, { username: 'admin', password: PASSWORD })).toMatch(
      /bad user ?name or password/i,
    );
    expect(await refused(url, { username: USER })).toMatch(/bad user ?name or password|not authori[sz]ed/i);

    // Refused clients are gone: only the daemon and the logged-in stand-in for Home Assistant remain.
    expect(rig.daemon.embeddedBroker?.clientCount()).toBe(2);
    // A right login sees everything.
    const other = await MqttProbe.connect(url, { username: USER, password: PASSWORD });
    await other.subscribe('chargebridge/#');
    await other.waitFor('chargebridge/bridge/state');
    await other.close();
  });
});

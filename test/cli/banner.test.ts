/**
 * The start banner says where to point Home Assistant in demo and config mode; the password only
 * on a terminal (a person at it), never when stdout is a log (systemd journal, docker logs).
 */
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  brokerAddresses,
  type HaConnection,
  haConnection,
  type NetworkInterfaces,
  startBanner,
} from '../../src/cli/banner.js';
import { parseConfigText } from '../../src/config/index.js';

const PASSWORD = 'q7Wm-2xZ_k9PfLr3TtYb8cVd';

function iface(address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo {
  return {
    address,
    family,
    internal,
    netmask: family === 'IPv4' ? '255.255.255.0' : 'ffff:ffff:ffff:ffff::',
    mac: '00:00:00:00:00:00',
    cidr: null,
    ...(family === 'IPv6' ? { scopeid: 0 } : {}),
  } as NetworkInterfaceInfo;
}

const INTERFACES: NetworkInterfaces = {
  lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
  eth0: [iface('192.168.1.20', 'IPv4'), iface('fe80::1', 'IPv6')],
  wlan0: [iface('10.0.0.7', 'IPv4')],
};

const EMBEDDED: HaConnection = {
  kind: 'embedded',
  addresses: ['192.168.1.20', '10.0.0.7'],
  port: 1883,
  username: 'homeassistant',
  password: PASSWORD,
  loginFile: '/var/lib/chargebridge/mqtt-login.json',
  allowAnonymous: false,
};

describe('broker addresses for Home Assistant', () => {
  it("lists this machine's non-internal IPv4 addresses when the broker listens on all interfaces", () => {
    expect(brokerAddresses('0.0.0.0', INTERFACES)).toEqual(['192.168.1.20', '10.0.0.7']);
  });

  it('gives the configured address when the broker listens on one', () => {
    expect(brokerAddresses('192.168.1.99', INTERFACES)).toEqual(['192.168.1.99']);
  });
});

describe('start banner', () => {
  it('on a terminal: addresses, port, username and the password', () => {
    const text = startBanner({ connection: EMBEDDED, tty: true });
    expect(text).toContain('192.168.1.20 or 10.0.0.7');
    expect(text).toMatch(/Port: +1883/);
    expect(text).toMatch(/Username: +homeassistant/);
    expect(text).toMatch(new RegExp(`Password: +${PASSWORD}`));
    expect(text).toContain('MQTT protocol 5');
    expect(text).not.toContain('DEMO');
  });

  it('not on a terminal (a log): the username, and how to see the password, never the password', () => {
    const text = startBanner({ connection: EMBEDDED, tty: false });
    expect(text).toMatch(/Username: +homeassistant/);
    expect(text).toMatch(/Password: +run `chargebridge mqtt-login` to show it/);
    expect(text).not.toContain(PASSWORD);
  });

  it('demo mode keeps its lines and gives mosquitto_sub the login (password only on a terminal)', () => {
    const demo = {
      configPath: '/home/me/data/configuration.yaml',
      chargerId: 'demo_bs20',
      baseTopic: 'chargebridge',
    };
    const onTerminal = startBanner({ connection: EMBEDDED, tty: true, demo });
    expect(onTerminal).toContain('DEMO mode');
    expect(onTerminal).toContain('SIMULATED BS20 charger ("demo_bs20")');
    expect(onTerminal).toContain(
      `mosquitto_sub -V mqttv5 -h localhost -p 1883 -u homeassistant -P ${PASSWORD} -t 'chargebridge/#'`,
    );
    expect(onTerminal).toContain('npx chargebridge scan');
    expect(onTerminal).toContain('copy config/chargebridge.example.yaml to /home/me/data/configuration.yaml');

    const inLog = startBanner({ connection: EMBEDDED, tty: false, demo });
    expect(inLog).toContain("-u homeassistant -P '<password>'");
    expect(inLog).not.toContain(PASSWORD);
  });

  it('with an external broker: its address without the password, and no login', () => {
    const loaded = parseConfigText(
      'mqtt:\n  url: mqtt://bridge:ext-Secret-1@192.168.1.5:1883\nchargers: []\n',
      { path: '/tmp/cb/configuration.yaml', env: {} },
    );
    const connection = haConnection({ mqtt: loaded.config.mqtt, login: null, interfaces: INTERFACES });
    const text = startBanner({ connection, tty: true });
    expect(text).toContain('chargebridge uses your MQTT broker at mqtt://bridge:[redacted]@192.168.1.5:1883');
    expect(text).toContain('Home Assistant must use the same broker');
    expect(text).not.toContain('ext-Secret-1');
    expect(text).not.toContain('Password:');
  });

  it('built from the config: the real port and the configured address', () => {
    const loaded = parseConfigText('mqtt:\n  embedded_broker:\n    host: 192.168.1.20\n    port: 1884\n', {
      path: '/tmp/cb/configuration.yaml',
      env: {},
    });
    const connection = haConnection({
      mqtt: loaded.config.mqtt,
      login: {
        username: 'homeassistant',
        password: PASSWORD,
        source: 'file',
        file: '/tmp/cb/mqtt-login.json',
      },
      port: 1884,
      interfaces: INTERFACES,
    });
    expect(connection).toMatchObject({
      kind: 'embedded',
      addresses: ['192.168.1.20'],
      port: 1884,
      loginFile: '/tmp/cb/mqtt-login.json',
    });
  });
});

/**
 * `chargebridge mqtt-login`: what to type into Home Assistant. Creates the login before the first
 * start when there is none, with the same function the daemon uses, so both agree.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runMqttLogin } from '../../src/cli/mqtt-login.js';
import { parseConfigText } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { startDaemon } from '../../src/daemon.js';
import { silentLogger } from '../../src/log.js';
import { freePort } from '../helpers/mosquitto.js';

const INTERFACES = {
  lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true } as NetworkInterfaceInfo],
  eth0: [{ address: '192.168.1.20', family: 'IPv4', internal: false } as NetworkInterfaceInfo],
};

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function configDir(yaml: string): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-mqtt-login-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'configuration.yaml');
  writeFileSync(file, yaml);
  return { dir, file };
}

async function run(args: string[], cwd?: string): Promise<{ code: number; text: string }> {
  const out: string[] = [];
  const code = await runMqttLogin(
    args,
    { write: (t) => void out.push(t) },
    {
      env: {},
      ...(cwd ? { cwd } : {}),
      interfaces: INTERFACES,
      logger: silentLogger(),
    },
  );
  return { code, text: out.join('') };
}

describe('chargebridge mqtt-login', () => {
  it('creates the login before the first start, prints what Home Assistant needs, and the daemon uses it', async () => {
    const { dir, file } = configDir('chargers: []\n');
    const first = await run(['--config', file]);
    expect(first.code).toBe(0);
    const loginFile = path.join(dir, 'mqtt-login.json');
    expect(statSync(loginFile).mode & 0o777).toBe(0o600);
    const { username, password } = JSON.parse(readFileSync(loginFile, 'utf8'));
    expect(first.text).toContain(`created one in ${loginFile}`);
    expect(first.text).toMatch(/Broker: +192\.168\.1\.20\n/);
    expect(first.text).toMatch(/Port: +1883/);
    expect(first.text).toMatch(new RegExp(`Username: +${username}`));
    expect(first.text).toMatch(new RegExp(`Password: +${password}`));
    expect(first.text).toContain('Settings → Devices & services → Add integration → MQTT');
    expect(first.text).toContain('Broker: 192.168.1.20   Port: 1883   Username: homeassistant');
    expect(first.text).toContain('Configure → Re-configure MQTT → Advanced options');
    expect(first.text).toContain('MQTT protocol: 5');

    // Asked again: the same login, nothing created.
    const again = await run([`--config=${file}`]);
    expect(again.text).not.toContain('created one');
    expect(again.text).toMatch(new RegExp(`Password: +${password}`));

    // The daemon starting afterwards uses the login the user already gave Home Assistant.
    const yaml = `data_dir: ${dir}\nmqtt:\n  embedded_broker: { host: 127.0.0.1, port: ${await freePort()} }\nchargers: []\n`;
    const loaded = parseConfigText(yaml, { path: file, env: {} });
    const daemon = await startDaemon({ loaded, logger: silentLogger(), clock: new ManualClock(0) });
    cleanups.push(() => daemon.stop());
    expect(daemon.brokerLogin).toMatchObject({ username, password, createdNow: false });
  });

  it('shows a configured login and writes no file', async () => {
    const { dir, file } = configDir(
      'mqtt:\n  embedded_broker:\n    host: 192.168.1.50\n    port: 1884\n    username: ha\n    password: "conf1gured-Pa55"\n',
    );
    const { code, text } = await run(['--config', file]);
    expect(code).toBe(0);
    expect(text).toMatch(/Broker: +192\.168\.1\.50\n/);
    expect(text).toMatch(/Port: +1884/);
    expect(text).toMatch(/Username: +ha\n/);
    expect(text).toMatch(/Password: +conf1gured-Pa55/);
    expect(text).toContain('configured in mqtt.embedded_broker');
    expect(existsSync(path.join(dir, 'mqtt-login.json'))).toBe(false);
  });

  it('with an external broker: says to use the same broker, shows its URL without the password', async () => {
    const { dir, file } = configDir(
      'mqtt:\n  url: mqtt://bridge:ext-Secret-1@192.168.1.5:1883\n  username: other\n  password: "also-Secret-2"\n',
    );
    const { code, text } = await run(['--config', file]);
    expect(code).toBe(0);
    expect(text).toContain('chargebridge uses your MQTT broker at mqtt://bridge:[redacted]@192.168.1.5:1883');
    expect(text).toContain('Home Assistant must use the same broker');
    expect(text).not.toMatch(/ext-Secret-1|also-Secret-2|Password:/);
    expect(existsSync(path.join(dir, 'mqtt-login.json'))).toBe(false);
  });

  it('without a config file: the demo login in the demo data folder', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'cb-mqtt-login-demo-'));
    cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
    const { code, text } = await run([], cwd);
    expect(code).toBe(0);
    expect(text).toContain('DEMO');
    const { password } = JSON.parse(readFileSync(path.join(cwd, 'data', 'mqtt-login.json'), 'utf8'));
    expect(text).toContain(password);
  });

  it('reports a broken configuration and an unknown option', async () => {
    const { file } = configDir('mqtt:\n  embedded_broker:\n    username: ha\n');
    const broken = await run(['--config', file]);
    expect(broken.code).toBe(1);
    expect(broken.text).toContain('mqtt.embedded_broker.password');
    expect((await run(['--verbose'])).code).toBe(2);
  });
});

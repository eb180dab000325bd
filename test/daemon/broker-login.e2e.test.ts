/**
 * The embedded broker is not open to the LAN by default: without a configured login the daemon
 * creates one in its data folder (0600) and requires it; anonymous clients only with
 * allow_anonymous: true. The real daemon, started from YAML as `chargebridge run` does.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { connectAsync, type IClientOptions } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { type RunningDaemon, startDaemon } from '../../src/daemon.js';
import { createLogger, type Logger, silentLogger } from '../../src/log.js';
import { resolveBrokerLogin } from '../../src/mqtt/broker-login.js';
import { freePort } from '../helpers/mosquitto.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-broker-login-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function boot(
  dir: string,
  brokerYaml = '',
  logger: Logger = silentLogger(),
): Promise<{ daemon: RunningDaemon; url: string }> {
  const yaml = [
    `data_dir: ${dir}`,
    'timezone: Europe/Berlin',
    'mqtt:',
    '  embedded_broker:',
    '    host: 127.0.0.1',
    `    port: ${await freePort()}`,
    brokerYaml,
    'chargers:',
    '  - { id: garage, type: bs20, transport: simulated, max_current: 16 }',
  ].join('\n');
  const loaded = parseConfigText(yaml, { path: path.join(dir, 'configuration.yaml'), env: {} });
  const daemon = await startDaemon({ loaded, logger, clock: new ManualClock(Date.UTC(2026, 5, 1, 8)) });
  let stopped = false;
  const stop = async () => {
    if (!stopped) await daemon.stop();
    stopped = true;
  };
  cleanups.push(stop);
  return { daemon, url: daemon.mqttUrl };
}

/** 'accepted', or the broker's reason for refusing. */
async function attempt(url: string, options: IClientOptions): Promise<string> {
  try {
    const client = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3_000, ...options });
    await client.endAsync(true);
    return 'accepted';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function readLogin(dataDir: string): { username: string; password: string; created: string } {
  return JSON.parse(readFileSync(path.join(dataDir, 'mqtt-login.json'), 'utf8'));
}

function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  return { logger: createLogger({ destination: stream, level: 'trace' }), lines };
}

describe('the embedded broker login', () => {
  it('is created on first start (0600, strong password), works for an outside client and is reused on the next start', async () => {
    const dir = tempDir();
    const first = await boot(dir);
    const file = path.join(dir, 'mqtt-login.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = readLogin(dir);
    expect(saved.username).toBe('homeassistant');
    // 24 base64url characters: 144 random bits.
    expect(saved.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(Number.isNaN(Date.parse(saved.created))).toBe(false);
    expect(first.daemon.brokerLogin).toMatchObject({
      username: saved.username,
      password: saved.password,
      source: 'file',
      createdNow: true,
    });
    // The daemon's own client got in with it.
    expect(first.daemon.connection.isConnected).toBe(true);

    // Home Assistant with the login from the file sees the bridge.
    const ha = await MqttProbe.connect(first.url, { username: saved.username, password: saved.password });
    cleanups.push(() => ha.close());
    await ha.subscribe('chargebridge/#');
    expect(JSON.parse((await ha.waitFor('chargebridge/bridge/state')).text)).toEqual({ state: 'online' });
    await ha.close();
    expect(await attempt(first.url, { username: 'homeassistant', password: `${saved.password}x` })).toMatch(
      /bad user ?name or password/i,
    );
    await first.daemon.stop();

    const before = readFileSync(file, 'utf8');
    const second = await boot(dir);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(second.daemon.brokerLogin).toMatchObject({ password: saved.password, createdNow: false });
    expect(await attempt(second.url, { username: saved.username, password: saved.password })).toBe(
      'accepted',
    );
  });

  it('refuses anonymous clients at MQTT 5 and 3.1.1 by default', async () => {
    const { url, daemon } = await boot(tempDir());
    expect(await attempt(url, { protocolVersion: 5 })).toMatch(/not authori[sz]ed/i);
    expect(await attempt(url, { protocolVersion: 4 })).toMatch(/not authori[sz]ed/i);
    const login = daemon.brokerLogin!;
    for (const protocolVersion of [5, 4] as const) {
      expect(
        await attempt(url, { protocolVersion, username: login.username, password: login.password }),
      ).toBe('accepted');
    }
  });

  it('lets anonymous clients in with allow_anonymous: true, and the login still works', async () => {
    const dir = tempDir();
    const { url } = await boot(dir, '    allow_anonymous: true');
    expect(await attempt(url, { protocolVersion: 5 })).toBe('accepted');
    expect(await attempt(url, { protocolVersion: 4 })).toBe('accepted');
    const saved = readLogin(dir);
    expect(await attempt(url, { username: saved.username, password: saved.password })).toBe('accepted');
  });

  it('uses a configured login and writes no login file', async () => {
    const dir = tempDir();
    const { url, daemon } = await boot(dir, '    username: ha-user\n    password: "conf1gured-Pa55"');
    expect(existsSync(path.join(dir, 'mqtt-login.json'))).toBe(false);
    expect(daemon.brokerLogin).toEqual({
      username: 'ha-user',
      password: 'conf1gured-Pa55',
      source: 'config',
    });
    expect(daemon.connection.isConnected).toBe(true);
    expect(await attempt(url, { username: 'ha-user', password: 'conf1gured-Pa55' })).toBe('accepted');
    expect(await attempt(url, {})).toMatch(/not authori[sz]ed/i);
  });

  it('moves a damaged login file aside (never deletes it) and creates a new login, with an error in the log', async () => {
    const dir = tempDir();
    const damaged = '{"username": "homeassistant", "password": "half-writ';
    writeFileSync(path.join(dir, 'mqtt-login.json'), damaged);
    const { logger, lines } = capturedLogger();
    const { url, daemon } = await boot(dir, '', logger);

    const aside = readdirSync(dir).filter((f) => f.startsWith('mqtt-login.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(path.join(dir, aside[0]!), 'utf8')).toBe(damaged);
    const fresh = readLogin(dir);
    expect(fresh.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(daemon.brokerLogin?.password).toBe(fresh.password);
    expect(await attempt(url, { username: fresh.username, password: fresh.password })).toBe('accepted');

    const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0].msg).toMatch(/moved aside.*new login/);
    expect(errors[0].movedTo).toBe(path.join(dir, aside[0]!));
  });

  it('never writes the password to a log line, whoever connects', async () => {
    const dir = tempDir();
    const { logger, lines } = capturedLogger();
    const { url, daemon } = await boot(dir, '', logger);
    const { username, password } = readLogin(dir);
    expect(await attempt(url, { username, password })).toBe('accepted');
    expect(await attempt(url, { username, password: `${password}-wrong` })).not.toBe('accepted');
    expect(await attempt(url, {})).not.toBe('accepted');
    await daemon.stop();
    expect(lines.some((l) => l.includes('created a login'))).toBe(true);
    expect(lines.filter((l) => l.includes(password.slice(0, 12)))).toEqual([]);
  });

  it('a login file readable by others is set back to 0600, with a warning', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'mqtt-login.json');
    writeFileSync(file, JSON.stringify({ username: 'homeassistant', password: 'restored-From-backup-1' }), {
      mode: 0o644,
    });
    const { logger, lines } = capturedLogger();
    const { daemon } = await boot(dir, '', logger);
    expect(daemon.brokerLogin?.password).toBe('restored-From-backup-1');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(lines.some((l) => /readable by others/.test(l))).toBe(true);
  });

  it('two processes creating the login at once (the daemon and mqtt-login) end up with one login', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const resolve = () => resolveBrokerLogin({ broker: {}, dataDir, logger: silentLogger() });
    const [a, b] = await Promise.all([resolve(), resolve()]);
    expect(a.password).toBe(b.password);
    expect([a.createdNow, b.createdNow].sort()).toEqual([false, true]);
    expect(readLogin(dataDir).password).toBe(a.password);
    // No temp file left behind.
    expect(readdirSync(dataDir)).toEqual(['mqtt-login.json']);
  });

  it('demo mode (no config file) creates the login in the demo data folder', async () => {
    const cwd = tempDir();
    const port = await freePort();
    const loaded = loadConfig({
      cwd,
      args: [],
      env: {
        CHARGEBRIDGE_MQTT__EMBEDDED_BROKER__HOST: '127.0.0.1',
        CHARGEBRIDGE_MQTT__EMBEDDED_BROKER__PORT: String(port),
      },
    });
    expect(loaded.isDemo).toBe(true);
    const daemon = await startDaemon({ loaded, logger: silentLogger(), clock: new ManualClock(0) });
    cleanups.push(() => daemon.stop());
    const saved = readLogin(path.join(cwd, 'data'));
    expect(statSync(path.join(cwd, 'data', 'mqtt-login.json')).mode & 0o777).toBe(0o600);
    expect(await attempt(daemon.mqttUrl, {})).toMatch(/not authori[sz]ed/i);
    expect(await attempt(daemon.mqttUrl, { username: saved.username, password: saved.password })).toBe(
      'accepted',
    );
  });
});

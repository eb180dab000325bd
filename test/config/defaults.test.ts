import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { load, loadError, tempDir } from './helpers.js';

describe('defaults', () => {
  it.each([
    ['0 bytes', ''],
    ['blanks', '  \n\n\t\n'],
    ['comments only', '# chargebridge\n# chargers:\n'],
    ['a lone ~', '~\n'],
    ['null', 'null'],
    ['an empty document', '---\n...\n'],
  ])('an empty file (%s) is refused, naming the file and what to do', (_name, text) => {
    const error = loadError(text);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.file).toMatch(/configuration\.yaml$/);
    expect(error.message).toContain(`Invalid configuration in ${error.file}`);
    expect(error.message).toMatch(/file is empty.*did not start/);
    expect(error.message).toMatch(/chargers: \[\]/);
  });

  it('a file with one key gives the documented defaults for everything else', () => {
    const { config, isDemo } = load('chargers:\n');
    expect(isDemo).toBe(false);
    expect(config.logLevel).toBe('info');
    expect(config.logFormat).toBe('auto');
    expect(config.timezone).toBe('Europe/Amsterdam');
    expect(config.mqtt).toEqual({
      embeddedBroker: {
        enabled: true,
        host: '0.0.0.0',
        port: 1883,
        allowAnonymous: false,
        persistRetained: true,
        retainedMaxMessageBytes: 1_048_576,
        retainedMaxTotalBytes: 67_108_864,
      },
      baseTopic: 'chargebridge',
      keepaliveS: 60,
      protocolVersion: 'auto',
      reconnectPeriodMs: 5000,
    });
    expect(config.homeassistant).toEqual({
      enabled: true,
      discoveryPrefix: 'homeassistant',
      statusTopic: 'homeassistant/status',
      expireAfterS: 60,
      deviceTriggers: true,
      scheduledStartEntity: 'datetime',
    });
    expect(config.ble).toEqual({ noblePackage: '@stoprocent/noble', scanTimeoutS: 10 });
    expect(config.chargers).toEqual([]);
  });

  it('data_dir defaults to the config file folder; relative values are taken from there', () => {
    const dir = tempDir({
      'conf/configuration.yaml': 'chargers: []\n',
      'conf2/configuration.yaml': 'data_dir: ../state\n',
    });
    const opts = { env: {}, cwd: '/', systemTimezone: 'UTC' };
    expect(
      loadConfig({ ...opts, args: ['--config', join(dir, 'conf/configuration.yaml')] }).config.dataDir,
    ).toBe(join(dir, 'conf'));
    expect(
      loadConfig({ ...opts, args: ['--config', join(dir, 'conf2/configuration.yaml')] }).config.dataDir,
    ).toBe(join(dir, 'state'));
  });

  it('keys written with an empty value fall back to their defaults', () => {
    const { config } = load('log_level:\nmqtt:\nhomeassistant:\n  expire_after_s:\nchargers:\n');
    expect(config.logLevel).toBe('info');
    expect(config.logFormat).toBe('auto');
    expect(config.mqtt.baseTopic).toBe('chargebridge');
    expect(config.homeassistant.expireAfterS).toBe(60);
    expect(config.chargers).toEqual([]);
  });

  it('the time zone is checked with Intl and stored in canonical spelling', () => {
    expect(load('timezone: europe/berlin\n').config.timezone).toBe('Europe/Berlin');
    expect(load('timezone: UTC\n').config.timezone).toBe('UTC');
  });

  it('the system time zone is used when none is set', () => {
    const dir = tempDir({ 'configuration.yaml': 'chargers: []\n' });
    const loaded = loadConfig({ args: ['--config', join(dir, 'configuration.yaml')], env: {} });
    expect(loaded.config.timezone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('a BLE charger gets its defaults and a name equal to its id', () => {
    const yaml = `chargers:
  - id: garage
    type: bs20
    ble_name: "ACP#EVSE0158"
    pin: "000123"
    max_current: 16
`;
    expect(load(yaml).config.chargers).toEqual([
      {
        id: 'garage',
        name: 'garage',
        type: 'bs20',
        transport: 'ble',
        address: undefined,
        bleName: 'ACP#EVSE0158',
        pin: '000123',
        maxCurrent: 16,
        phases: undefined,
        staleAfterS: 35,
        reconnectMaxDelayS: 60,
      },
    ]);
  });

  it('a simulated charger gets a full simulator block, PIN and ceiling from the simulated hardware', () => {
    const [charger] = load('chargers:\n  - id: sim\n    type: bs20\n    transport: simulated\n').config
      .chargers;
    expect(charger).toMatchObject({
      id: 'sim',
      transport: 'simulated',
      pin: '123456',
      maxCurrent: 32,
      simulator: {
        phases: 1,
        hardwareMaxCurrent: 32,
        pin: '123456',
        car: { pluggedAtStart: false, demandA: 16, batteryKwh: 40 },
      },
    });
  });

  it('YAML anchors and merge keys work, e.g. for chargers that share settings', () => {
    const yaml = `chargers:
  - &common { id: a, type: bs20, transport: simulated, stale_after_s: 50 }
  - { <<: *common, id: b }
`;
    expect(load(yaml).config.chargers.map((c) => [c.id, c.staleAfterS])).toEqual([
      ['a', 50],
      ['b', 50],
    ]);
  });

  it('the simulator accepts a PIN of its own (to try a wrong PIN) and its own hardware', () => {
    const yaml = `chargers:
  - id: sim
    type: bs20
    transport: simulated
    pin: "111111"
    max_current: 10
    simulator:
      phases: 3
      hardware_max_current: 16
      pin: "222222"
      car: { plugged_at_start: true, demand_a: 10, battery_kwh: 60 }
`;
    const [charger] = load(yaml).config.chargers;
    expect(charger).toMatchObject({
      pin: '111111',
      maxCurrent: 10,
      simulator: {
        phases: 3,
        hardwareMaxCurrent: 16,
        pin: '222222',
        car: { pluggedAtStart: true, demandA: 10, batteryKwh: 60 },
      },
    });
  });
});

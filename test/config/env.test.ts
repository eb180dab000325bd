import { describe, expect, it } from 'vitest';
import { BLE_CHARGER, issuesOf, load, problems } from './helpers.js';

/** A file with one key: an empty file is refused unless the environment gives the chargers. */
const ONE_KEY = 'timezone: Europe/Amsterdam\n';

describe('environment overrides', () => {
  it('an empty file is fine when the environment gives the chargers, refused when it does not', () => {
    const charger = {
      CHARGEBRIDGE_CHARGERS__0__ID: 'garage',
      CHARGEBRIDGE_CHARGERS__0__TYPE: 'bs20',
      CHARGEBRIDGE_CHARGERS__0__TRANSPORT: 'simulated',
    };
    expect(load('', { env: charger }).config.chargers.map((c) => c.id)).toEqual(['garage']);
    expect(problems('', { env: { CHARGEBRIDGE_LOG_LEVEL: 'debug' } })).toEqual([
      expect.stringMatching(/the file is empty .* or give the chargers in CHARGEBRIDGE_CHARGERS__/),
    ]);
  });

  it('set nested keys, with numbers and booleans parsed', () => {
    const { config } = load(ONE_KEY, {
      env: {
        CHARGEBRIDGE_LOG_LEVEL: 'debug',
        CHARGEBRIDGE_MQTT__EMBEDDED_BROKER__PORT: '1884',
        CHARGEBRIDGE_MQTT__EMBEDDED_BROKER__PERSIST_RETAINED: 'false',
        CHARGEBRIDGE_HOMEASSISTANT__EXPIRE_AFTER_S: '120',
        CHARGEBRIDGE_MQTT__BASE_TOPIC: '1234',
      },
    });
    expect(config.logLevel).toBe('debug');
    expect(config.mqtt.embeddedBroker.port).toBe(1884);
    expect(config.mqtt.embeddedBroker.persistRetained).toBe(false);
    expect(config.homeassistant.expireAfterS).toBe(120);
    // A text key keeps digits as text.
    expect(config.mqtt.baseTopic).toBe('1234');
  });

  it('override values from the file', () => {
    const { config } = load('mqtt:\n  url: mqtt://file.lan\n', {
      env: { CHARGEBRIDGE_MQTT__URL: 'mqtts://env.lan:8883' },
    });
    expect(config.mqtt.url).toBe('mqtts://env.lan:8883');
  });

  it('address list items by number; a PIN stays text with its leading zero', () => {
    const { config } = load(`chargers:${BLE_CHARGER}`, {
      env: { CHARGEBRIDGE_CHARGERS__0__PIN: '012345', CHARGEBRIDGE_CHARGERS__0__MAX_CURRENT: '32' },
    });
    expect(config.chargers[0]?.pin).toBe('012345');
    expect(config.chargers[0]?.maxCurrent).toBe(32);
  });

  it('can add a whole charger, item by item or as one YAML value', () => {
    const byKey = load('', {
      env: {
        CHARGEBRIDGE_CHARGERS__0__ID: 'sim',
        CHARGEBRIDGE_CHARGERS__0__TYPE: 'bs20',
        CHARGEBRIDGE_CHARGERS__0__TRANSPORT: 'simulated',
        CHARGEBRIDGE_CHARGERS__1__ID: 'sim2',
        CHARGEBRIDGE_CHARGERS__1__TYPE: 'bs20',
        CHARGEBRIDGE_CHARGERS__1__TRANSPORT: 'simulated',
        CHARGEBRIDGE_CHARGERS__1__SIMULATOR__PHASES: '3',
      },
    });
    expect(byKey.config.chargers.map((c) => c.id)).toEqual(['sim', 'sim2']);
    expect(
      byKey.config.chargers[1]?.transport === 'simulated' && byKey.config.chargers[1].simulator.phases,
    ).toBe(3);

    const asYaml = load('', {
      env: { CHARGEBRIDGE_CHARGERS: '[{id: a, type: bs20, transport: simulated}]' },
    });
    expect(asYaml.config.chargers.map((c) => c.id)).toEqual(['a']);
  });

  it('an empty value removes the key so its default applies', () => {
    const { config } = load('mqtt:\n  url: mqtt://file.lan\n', { env: { CHARGEBRIDGE_MQTT__URL: '' } });
    expect(config.mqtt.url).toBeUndefined();
    expect(config.mqtt.embeddedBroker.enabled).toBe(true);
  });

  it('CHARGEBRIDGE_CONFIG is the file path, not a key', () => {
    expect(load(ONE_KEY, { env: { CHARGEBRIDGE_CONFIG: '/somewhere' } }).config.logLevel).toBe('info');
  });

  it('bad values name the variable, with no line number', () => {
    const issues = issuesOf(ONE_KEY, { env: { CHARGEBRIDGE_MQTT__EMBEDDED_BROKER__PORT: 'abc' } });
    expect(issues).toEqual([
      {
        path: 'mqtt.embedded_broker.port',
        message:
          'must be a whole number from 1 to 65535; got "abc" (text) (set by CHARGEBRIDGE_MQTT__EMBEDDED_BROKER__PORT)',
      },
    ]);
  });

  it('a misspelt variable is an unknown key with a suggestion', () => {
    expect(problems(ONE_KEY, { env: { CHARGEBRIDGE_MQTT__URLL: 'mqtt://x' } })).toEqual([
      'mqtt.urll: unknown key (did you mean "url"?); allowed here: embedded_broker, url, username, password, client_id, tls, base_topic, keepalive_s, protocol_version, reconnect_period_ms (set by CHARGEBRIDGE_MQTT__URLL)',
    ]);
  });

  it('a PIN from the environment that is wrong is redacted', () => {
    const found = problems(`chargers:${BLE_CHARGER}`, { env: { CHARGEBRIDGE_CHARGERS__0__PIN: '98765' } });
    expect(found).toEqual([
      'chargers[0].pin: must be exactly 6 digits in quotes, e.g. pin: "012345"; got [redacted] (set by CHARGEBRIDGE_CHARGERS__0__PIN)',
    ]);
  });

  it('list indices must continue the list, and lists need numbers', () => {
    expect(problems(`chargers:${BLE_CHARGER}`, { env: { CHARGEBRIDGE_CHARGERS__3__PIN: '123456' } })).toEqual(
      [
        'chargers[3].pin: cannot be set by CHARGEBRIDGE_CHARGERS__3__PIN: chargers has 1 item, so a new item must be number 1',
      ],
    );
    expect(problems(`chargers:${BLE_CHARGER}`, { env: { CHARGEBRIDGE_CHARGERS__PIN: '123456' } })).toEqual([
      'chargers.pin: cannot be set by CHARGEBRIDGE_CHARGERS__PIN: chargers is a list; use an item number, e.g. CHARGERS__0__…',
    ]);
    expect(problems(ONE_KEY, { env: { CHARGEBRIDGE_MQTT__0: 'x' } })).toEqual([
      'mqtt[0]: cannot be set by CHARGEBRIDGE_MQTT__0: mqtt is a mapping of keys, not a list',
    ]);
  });

  it('malformed names and YAML are reported', () => {
    expect(problems(ONE_KEY, { env: { CHARGEBRIDGE_MQTT___URL: 'x' } })).toEqual([
      ': environment variable CHARGEBRIDGE_MQTT___URL is not a valid override: write CHARGEBRIDGE_ then keys joined by a double underscore, e.g. CHARGEBRIDGE_MQTT__URL',
    ]);
    expect(problems('', { env: { CHARGEBRIDGE_CHARGERS: '[unclosed' } })[0]).toMatch(
      /^chargers: cannot be set by CHARGEBRIDGE_CHARGERS: not a valid YAML value \(.+\)$/,
    );
    expect(problems('mqtt:\n  base_topic: x\n', { env: { CHARGEBRIDGE_MQTT__BASE_TOPIC__X: '1' } })).toEqual([
      'mqtt.base_topic.x: cannot be set by CHARGEBRIDGE_MQTT__BASE_TOPIC__X: mqtt.base_topic holds a single value in the file, so it has no keys to set',
    ]);
  });
});

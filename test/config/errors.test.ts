import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { issuesOf, loadError, problems } from './helpers.js';

describe('unknown keys', () => {
  it('are errors with a "did you mean" and the keys allowed there', () => {
    expect(problems('mqtt:\n  embeded_broker:\n    port: 1884\n')).toEqual([
      'mqtt.embeded_broker: unknown key (did you mean "embedded_broker"?); allowed here: embedded_broker, url, username, password, client_id, tls, base_topic, keepalive_s, protocol_version, reconnect_period_ms',
    ]);
  });

  it('suggest the snake_case spelling for camelCase and truncated keys', () => {
    expect(problems('logLevel: info\nhomeassistant:\n  discovery: ha\n')).toEqual([
      'logLevel: unknown key (did you mean "log_level"?); allowed here: data_dir, log_level, log_format, timezone, mqtt, homeassistant, ble, chargers, users, tariff, http, ocpp_server',
      'homeassistant.discovery: unknown key (did you mean "discovery_prefix"?); allowed here: enabled, discovery_prefix, status_topic, expire_after_s, device_triggers, scheduled_start_entity',
    ]);
  });

  it('inside a charger, one problem per key, no suggestion when nothing is close', () => {
    const yaml = 'chargers:\n  - { id: s, type: bs20, transport: simulated, pim: "1", colour: red }\n';
    const found = problems(yaml);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(
      /^chargers\[0\]\.pim: unknown key \(did you mean "pin"\?\); allowed here: id, name, type, /,
    );
    expect(found[1]).toMatch(/^chargers\[0\]\.colour: unknown key; allowed here: id, /);
  });

  it('an empty unknown key is still reported', () => {
    expect(problems('mqttt:\n')[0]).toMatch(/^mqttt: unknown key \(did you mean "mqtt"\?\)/);
  });
});

describe('YAML syntax errors', () => {
  it('report line and column', () => {
    const issues = issuesOf('log_level: info\nmqtt:\n  base_topic: [unclosed\nchargers: []\n');
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatchObject({ path: '', line: 4, column: 1 });
    expect(issues[0]?.message).toMatch(/^YAML syntax error: /);
  });

  it('never quote the broken text: it may be a password', () => {
    // A stray bracket left over from an edit, right before the password.
    const text = 'mqtt:\n  url: mqtt://broker:1883\n]Hunter2-secret\n';
    const issues = issuesOf(text);
    expect(issues.length).toBeGreaterThan(0);
    expect(JSON.stringify(issues)).not.toContain('Hunter2-secret');
    expect(issues[0]).toMatchObject({ line: 3 });
  });

  it('a broken alias or merge key is a configuration error, not a crash', () => {
    expect(issuesOf('mqtt:\n  base_topic: *nowhere\n')[0]?.message).toMatch(/^YAML/);
    expect(issuesOf('defaults: &d [1, 2]\nmqtt:\n  <<: *d\n')[0]?.message).toMatch(/^YAML/);
  });

  it('report duplicate keys at the second one', () => {
    const issues = issuesOf('log_level: info\nlog_level: debug\n');
    expect(issues).toEqual([
      { path: '', message: 'YAML syntax error: Map keys must be unique', line: 2, column: 1 },
    ]);
  });

  it('unknown tags are errors, not silently plain text', () => {
    expect(issuesOf('mqtt:\n  password: !secrets pw\n')).toEqual([
      {
        path: '',
        message:
          'unknown YAML tag !secrets; chargebridge understands only !secret, e.g. password: !secret mqtt_password',
        line: 2,
        column: 13,
      },
    ]);
  });

  it('a file that is not a mapping is rejected', () => {
    expect(problems('- a\n- b\n')).toEqual([
      ': the file must be a mapping of keys such as mqtt: and chargers:; got a list',
    ]);
  });
});

describe('ConfigError', () => {
  it('carries every issue with its line, and a readable message listing them', () => {
    const error = loadError('log_level: loud\nmqtt:\n  embedded_broker:\n    port: 0\n');
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.name).toBe('ConfigError');
    expect(error.issues).toEqual([
      {
        path: 'log_level',
        message: 'must be one of: trace, debug, info, warn, error, fatal; got "loud"',
        line: 1,
        column: 1,
      },
      {
        path: 'mqtt.embedded_broker.port',
        message: 'must be a whole number from 1 to 65535; got 0',
        line: 4,
        column: 5,
      },
    ]);
    expect(error.file).toMatch(/configuration\.yaml$/);
    expect(error.message).toBe(
      [
        `Invalid configuration in ${error.file} (2 problems):`,
        '  - log_level (line 1, column 1): must be one of: trace, debug, info, warn, error, fatal; got "loud"',
        '  - mqtt.embedded_broker.port (line 4, column 5): must be a whole number from 1 to 65535; got 0',
      ].join('\n'),
    );
  });

  it('says "1 problem" and places a syntax error by line', () => {
    const error = loadError('a: b: c\n');
    expect(error.message.split('\n')[0]).toMatch(/\(\d+ problems?\):$/);
    expect(error.message).toMatch(/ {2}- line 1, column \d+: YAML syntax error: /);
  });
});

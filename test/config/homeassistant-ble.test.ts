import { describe, expect, it } from 'vitest';
import { load, problems } from './helpers.js';

describe('homeassistant section', () => {
  it('takes its settings', () => {
    const yaml = `homeassistant:
  enabled: false
  discovery_prefix: ha/discovery
  status_topic: ha/status
  expire_after_s: 0
  device_triggers: false
  scheduled_start_entity: text
`;
    expect(load(yaml).config.homeassistant).toEqual({
      enabled: false,
      discoveryPrefix: 'ha/discovery',
      statusTopic: 'ha/status',
      expireAfterS: 0,
      deviceTriggers: false,
      scheduledStartEntity: 'text',
    });
  });

  it('rejects wildcard topics and out-of-range expiry with what is allowed', () => {
    const rule = 'must be an MQTT topic without wildcards ("+", "#") or spaces, like homeassistant/status';
    expect(
      problems(
        'homeassistant:\n  discovery_prefix: "homeassistant/#"\n  status_topic: "ha//status"\n  expire_after_s: 90000\n',
      ),
    ).toEqual([
      `homeassistant.discovery_prefix: ${rule}; got "homeassistant/#"`,
      `homeassistant.status_topic: ${rule} (no empty levels); got "ha//status"`,
      'homeassistant.expire_after_s: must be a whole number from 0 to 86400 (seconds); got 90000',
    ]);
  });
});

describe('ble section', () => {
  it('takes its settings', () => {
    const { ble } = load(
      'ble:\n  noble_package: "@abandonware/noble"\n  hci_device_id: 1\n  scan_timeout_s: 30\n',
    ).config;
    expect(ble).toEqual({ noblePackage: '@abandonware/noble', hciDeviceId: 1, scanTimeoutS: 30 });
  });

  it('names the two supported noble packages, with a suggestion for a near miss', () => {
    expect(problems('ble:\n  noble_package: "@abandonware/nobel"\n')).toEqual([
      'ble.noble_package: must be one of: @stoprocent/noble, @abandonware/noble (did you mean "@abandonware/noble"?); got "@abandonware/nobel"',
    ]);
    expect(problems('ble:\n  noble_package: bleno\n')).toEqual([
      'ble.noble_package: must be one of: @stoprocent/noble, @abandonware/noble; got "bleno"',
    ]);
  });

  it('checks the adapter number and scan timeout', () => {
    expect(problems('ble:\n  hci_device_id: hci0\n  scan_timeout_s: 0\n')).toEqual([
      'ble.hci_device_id: must be a whole number from 0 to 255; got "hci0" (text)',
      'ble.scan_timeout_s: must be a whole number from 1 to 300 (seconds); got 0',
    ]);
  });
});

describe('top-level keys', () => {
  it('log_level takes pino levels, with a suggestion', () => {
    expect(load('log_level: debug\n').config.logLevel).toBe('debug');
    expect(problems('log_level: warning\n')).toEqual([
      'log_level: must be one of: trace, debug, info, warn, error, fatal (did you mean "warn"?); got "warning"',
    ]);
  });

  it('timezone must be an IANA name', () => {
    const rule = 'must be an IANA time zone name like Europe/Berlin or UTC';
    expect(problems('timezone: Mars/Olympus\n')).toEqual([`timezone: ${rule}; got "Mars/Olympus"`]);
    expect(problems('timezone: "+01:00"\n')).toEqual([`timezone: ${rule}; got "+01:00"`]);
  });

  it('data_dir must be text', () => {
    expect(problems('data_dir: [a]\n')).toEqual(['data_dir: must be a folder path; got a list']);
  });
});

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { BLE_CHARGER, load, problems, tempDir } from './helpers.js';

describe('mqtt section', () => {
  it('an external broker turns the embedded one off by default', () => {
    const { config } = load(
      'mqtt:\n  url: mqtts://broker.lan:8883\n  username: ha\n  password: "s3cret!"\n  client_id: cb1\n',
    );
    expect(config.mqtt.embeddedBroker.enabled).toBe(false);
    expect(config.mqtt).toMatchObject({
      url: 'mqtts://broker.lan:8883',
      username: 'ha',
      password: 's3cret!',
      clientId: 'cb1',
    });
  });

  it('accepts the four broker URL schemes and rejects others, naming them', () => {
    for (const url of ['mqtt://h', 'mqtts://h:8883', 'ws://h/mqtt', 'wss://h:443/mqtt']) {
      expect(load(`mqtt:\n  url: ${url}\n`).config.mqtt.url).toBe(url);
    }
    expect(problems('mqtt:\n  url: http://broker.lan\n')).toEqual([
      'mqtt.url: must be a broker URL starting with mqtt://, mqtts://, ws:// or wss://, e.g. mqtt://192.168.1.10:1883; got "http://broker.lan"',
    ]);
    expect(problems('mqtt:\n  url: broker.lan\n')).toHaveLength(1);
  });

  it('never shows the password inside a rejected URL', () => {
    const [problem] = problems('mqtt:\n  url: http://bob:pa55word@broker.lan\n');
    expect(problem).toContain('got "http://bob:[redacted]@broker.lan"');
    expect(problem).not.toContain('pa55word');
  });

  it('rejects the embedded broker and an external URL at the same time', () => {
    expect(problems('mqtt:\n  url: mqtt://h\n  embedded_broker:\n    enabled: true\n')).toEqual([
      'mqtt.embedded_broker.enabled: cannot be true while mqtt.url is set: chargebridge uses either its own broker or yours; remove one of them',
    ]);
  });

  it('needs a URL when the embedded broker is switched off', () => {
    expect(problems('mqtt:\n  embedded_broker:\n    enabled: false\n')).toEqual([
      'mqtt.url: is required when mqtt.embedded_broker.enabled is false: give the address of your broker, e.g. mqtt://192.168.1.10:1883',
    ]);
  });

  it('points external-broker credentials used without a URL to the embedded broker keys', () => {
    expect(problems('mqtt:\n  username: ha\n  password: x\n')).toEqual([
      'mqtt.username: is only used with an external broker (mqtt.url); to protect the embedded broker set mqtt.embedded_broker.username',
      'mqtt.password: is only used with an external broker (mqtt.url); to protect the embedded broker set mqtt.embedded_broker.password',
    ]);
  });

  it('embedded broker credentials come in pairs', () => {
    expect(problems('mqtt:\n  embedded_broker:\n    username: ha\n')).toEqual([
      'mqtt.embedded_broker.password: is required: the embedded broker needs both username and password, or neither',
    ]);
    const { config } = load(
      'mqtt:\n  embedded_broker:\n    username: ha\n    password: pw\n    port: 1884\n    host: 127.0.0.1\n    persist_retained: false\n',
    );
    expect(config.mqtt.embeddedBroker).toEqual({
      enabled: true,
      host: '127.0.0.1',
      port: 1884,
      username: 'ha',
      password: 'pw',
      allowAnonymous: false,
      persistRetained: false,
      retainedMaxMessageBytes: 1_048_576,
      retainedMaxTotalBytes: 67_108_864,
    });
  });

  it('validates the port, keep-alive and reconnect period with their ranges', () => {
    expect(
      problems(
        'mqtt:\n  embedded_broker:\n    port: 70000\n  keepalive_s: 1.5\n  reconnect_period_ms: "5000"\n',
      ),
    ).toEqual([
      'mqtt.embedded_broker.port: must be a whole number from 1 to 65535; got 70000',
      'mqtt.keepalive_s: must be a whole number from 0 to 65535 (seconds); got 1.5 (a number)',
      'mqtt.reconnect_period_ms: must be a whole number from 100 to 3600000 (milliseconds); got "5000" (text) — remove the quotes',
    ]);
  });

  it('the base topic is one topic level without wildcards', () => {
    expect(load('mqtt:\n  base_topic: garage-ev_1\n').config.mqtt.baseTopic).toBe('garage-ev_1');
    const rule =
      'must be a single MQTT topic level of up to 64 characters: no "/", "+", "#" or spaces, not starting with "$"';
    expect(problems('mqtt:\n  base_topic: a/b\n')).toEqual([`mqtt.base_topic: ${rule}; got "a/b"`]);
    for (const bad of ['"ev+"', '"#"', '"my topic"', '"$SYS"', '""']) {
      expect(problems(`mqtt:\n  base_topic: ${bad}\n`)).toEqual([`mqtt.base_topic: ${rule}; got ${bad}`]);
    }
  });

  it('TLS files are resolved from the config folder and must exist', () => {
    const dir = tempDir({
      'configuration.yaml': 'mqtt:\n  url: mqtts://h\n  tls:\n    ca: certs/ca.pem\n',
      'certs/ca.pem': 'x',
    });
    const { config } = loadConfig({ args: ['--config', join(dir, 'configuration.yaml')], env: {} });
    expect(config.mqtt.tls).toEqual({ ca: join(dir, 'certs/ca.pem'), rejectUnauthorized: true });

    const [problem] = problems('mqtt:\n  url: mqtts://h\n  tls:\n    ca: missing.pem\n');
    expect(problem).toMatch(/^mqtt\.tls\.ca: must be an existing file; got ".*\/missing\.pem"$/);
  });

  it('TLS needs an encrypted URL, and a client certificate needs its key', () => {
    const files = { 'cert.pem': 'c' };
    expect(problems('mqtt:\n  url: mqtt://h\n  tls:\n    cert: cert.pem\n', { files })).toEqual([
      'mqtt.tls: needs an encrypted broker URL (mqtts:// or wss://) in mqtt.url',
      'mqtt.tls.key: is required: a client certificate needs both tls.cert and tls.key',
    ]);
  });

  it('reports problems from every section at once', () => {
    const found = problems(`mqtt:
  base_topic: "a/b"
homeassistant:
  enabled: yes
chargers:${BLE_CHARGER}    phases: 2
`);
    expect(found).toEqual([
      'mqtt.base_topic: must be a single MQTT topic level of up to 64 characters: no "/", "+", "#" or spaces, not starting with "$"; got "a/b"',
      'homeassistant.enabled: must be true or false; got "yes" (text) — write true or false, without quotes',
      'chargers[0].phases: must be one of: 1, 3; got 2',
    ]);
  });
});

describe('mqtt.protocol_version', () => {
  it('defaults to auto and takes 5 written as a number or text, and 3.1.1', () => {
    expect(load('chargers:\n').config.mqtt.protocolVersion).toBe('auto');
    const external = 'mqtt:\n  url: mqtt://192.168.1.10:1883\n  protocol_version: ';
    expect(load(`${external}5\n`).config.mqtt.protocolVersion).toBe('5');
    expect(load(`${external}"5"\n`).config.mqtt.protocolVersion).toBe('5');
    expect(load(`${external}"3.1.1"\n`).config.mqtt.protocolVersion).toBe('3.1.1');
  });

  it('names the allowed versions for anything else', () => {
    const external = 'mqtt:\n  url: mqtt://192.168.1.10:1883\n  protocol_version: ';
    expect(problems(`${external}4\n`)).toEqual([
      'mqtt.protocol_version: must be one of: auto, 5, 3.1.1; got 4',
    ]);
    expect(problems(`${external}v5\n`)).toEqual([
      'mqtt.protocol_version: must be one of: auto, 5, 3.1.1; got "v5"',
    ]);
  });
});

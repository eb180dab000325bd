import { describe, expect, it } from 'vitest';
import { REDACTED, redactConfig } from '../../src/config/redact.js';
import { SECRETS, YAML } from './fixtures.js';
import { load } from './helpers.js';

describe('redactConfig', () => {
  it('replaces every secret, leaves everything else, and does not touch the original', () => {
    const { config, secretValues } = load(YAML, {
      files: {
        'secrets.yaml': `mqtt_password: ${SECRETS.mqttPassword}\n`,
        'pin.txt': `${SECRETS.filePin}\n`,
      },
    });
    const redacted = redactConfig(config, secretValues);
    const text = JSON.stringify(redacted);
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);

    expect(redacted.mqtt.password).toBe(REDACTED);
    expect(redacted.mqtt.url).toBe(`mqtts://bob:${REDACTED}@broker.lan:8883`);
    expect(redacted.mqtt.username).toBe('bob');
    expect(redacted.chargers.map((c) => c.pin)).toEqual([REDACTED, REDACTED]);
    const sim = redacted.chargers[1];
    expect(sim?.transport === 'simulated' && sim.simulator.pin).toBe(REDACTED);
    expect(redacted.chargers[0]?.maxCurrent).toBe(16);

    // The original still has the real values.
    expect(config.mqtt.password).toBe(SECRETS.mqttPassword);
    expect(config.chargers[0]?.pin).toBe(SECRETS.blePin);
  });

  it('hides values from !secret wherever they land, even under a non-secret key', () => {
    const { config, secretValues } = load('mqtt:\n  base_topic: !secret topic\n', {
      files: { 'secrets.yaml': 'topic: private_topic\n' },
    });
    expect(config.mqtt.baseTopic).toBe('private_topic');
    expect(redactConfig(config, secretValues).mqtt.baseTopic).toBe(REDACTED);
  });

  it('redacts the embedded broker password and keeps absent secrets absent', () => {
    const { config } = load('mqtt:\n  embedded_broker:\n    username: ha\n    password: "Emb-Pa55"\n');
    const redacted = redactConfig(config);
    expect(redacted.mqtt.embeddedBroker.password).toBe(REDACTED);
    expect(JSON.stringify(redacted)).not.toContain('Emb-Pa55');
    expect('password' in redactConfig(load('chargers:\n').config).mqtt).toBe(false);
  });
});

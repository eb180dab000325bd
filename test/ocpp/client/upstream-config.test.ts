/** `chargers[].ocpp_upstream` in the configuration file: defaults, rules that span keys, secrets. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText, redactConfig } from '../../../src/config/index.js';
import { upstreamSettings } from '../../../src/ocpp/client/start.js';

function load(upstream: string) {
  const yaml = [
    'chargers:',
    '  - id: garage',
    '    type: bs20',
    '    transport: simulated',
    '    ocpp_upstream:',
    ...upstream
      .trim()
      .split('\n')
      .map((line) => `      ${line}`),
  ].join('\n');
  return parseConfigText(yaml, { path: '/etc/chargebridge/configuration.yaml', env: {} });
}

function problems(upstream: string): string[] {
  try {
    load(upstream);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

describe('ocpp_upstream config', () => {
  it('fills the defaults; the station id is the charger id', () => {
    const { config } = load('url: ws://steve.local:8180/steve/websocket/CentralSystemService');
    const upstream = config.chargers[0]?.ocppUpstream;
    expect(upstream).toEqual({
      enabled: true,
      url: 'ws://steve.local:8180/steve/websocket/CentralSystemService',
      stationId: 'garage',
      securityProfile: 0,
      passwordEncoding: 'auto',
      idTag: 'chargebridge',
      meterValueSampleIntervalS: 60,
      heartbeatIntervalS: 300,
      pingIntervalS: 30,
      callTimeoutS: 30,
      reconnectMaxDelayS: 60,
    });
    if (!upstream) throw new Error('missing');
    expect(upstreamSettings(upstream, '/etc/chargebridge/configuration.yaml')).toMatchObject({
      stationId: 'garage',
      securityProfile: 0,
      password: undefined,
      tls: undefined,
    });
  });

  it('names the fix when the security profile, URL and password disagree', () => {
    expect(problems('url: ws://x.local/ocpp\nsecurity_profile: 2\npassword: pw')).toEqual([
      'chargers[0].ocpp_upstream.url: must start with wss:// for security_profile 2 (TLS)',
    ]);
    expect(problems('url: wss://x.local/ocpp\nsecurity_profile: 1')[0]).toMatch(
      /password: is required for security_profile 1/,
    );
    expect(problems('url: ws://x.local/ocpp\npassword: pw')[0]).toMatch(
      /password: is only sent with security_profile 1 or 2/,
    );
    expect(problems('url: ws://x.local/ocpp\ntls:\n  reject_unauthorized: false')[0]).toMatch(
      /tls: needs an encrypted/,
    );
    expect(problems('url: http://x.local/ocpp')[0]).toMatch(/url: must be a websocket URL/);
    expect(problems('url: ws://x.local\nstation_id: "a/b"')[0]).toMatch(
      /station_id: must be the charge point id/,
    );
    expect(problems('url: ws://x.local\nid_tag: "123456789012345678901"')[0]).toMatch(/id_tag/);
    expect(problems('url: ws://x.local\nsecurity_profile: 3')[0]).toMatch(
      /security_profile: must be one of: 0, 1, 2/,
    );
  });

  it('keeps the password secret and resolves the CA file from the config folder', () => {
    const loaded = load(
      'url: wss://x.local/ocpp\nsecurity_profile: 2\npassword: "s3cret-station-key"\ntls:\n  ca: certs/ca.pem',
    );
    const redacted = redactConfig(loaded.config, loaded.secretValues);
    expect(JSON.stringify(redacted)).not.toContain('s3cret-station-key');
    const upstream = loaded.config.chargers[0]?.ocppUpstream;
    if (!upstream) throw new Error('missing');
    expect(() => upstreamSettings(upstream, '/etc/chargebridge/configuration.yaml')).toThrow(
      /\/etc\/chargebridge\/certs\/ca\.pem/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { load, loadError } from '../../config/helpers.js';

const messages = (yaml: string, files?: Record<string, string>) =>
  loadError(yaml, files ? { files } : {}).issues.map((i) => `${i.path}: ${i.message}`);

describe('ocpp_server config section', () => {
  it('is off with safe defaults when absent', () => {
    expect(load('log_level: info\n').config.ocppServer).toEqual({
      enabled: false,
      host: '0.0.0.0',
      port: 9000,
      path: '/ocpp',
      securityProfile: 0,
      unknownStations: 'pending',
      heartbeatIntervalS: 300,
      pingIntervalS: 30,
      callTimeoutS: 30,
      defaultIdTag: 'chargebridge',
      acceptUnknownIdTags: false,
      stations: [],
    });
  });

  it('fills station defaults, keeps the identity as written and reads passwords from secrets', () => {
    const { config, secretValues } = load(
      `ocpp_server:
  enabled: true
  security_profile: 2
  tls: { cert: ocpp.crt, key: ocpp.key }
  stations:
    - id: carport
      identity: "WB-0042"
      password: !secret carport
    - id: garage
      password: "sha256:${'ab'.repeat(32)}"
      connectors: 2
      phases: 3
      ping_interval_s: 0
`,
      { files: { 'ocpp.crt': 'x', 'ocpp.key': 'y', 'secrets.yaml': 'carport: s3cret-key\n' } },
    );
    const server = config.ocppServer;
    expect(server.tls?.cert).toMatch(/\/ocpp\.crt$/);
    expect(server.stations).toEqual([
      {
        id: 'carport',
        identity: 'WB-0042',
        name: 'carport',
        password: 's3cret-key',
        maxCurrent: 16,
        connectors: 1,
      },
      {
        id: 'garage',
        identity: 'garage',
        name: 'garage',
        password: `sha256:${'ab'.repeat(32)}`,
        maxCurrent: 16,
        phases: 3,
        connectors: 2,
        pingIntervalS: 0,
      },
    ]);
    expect([...secretValues]).toContain('s3cret-key');
  });

  it('names the fix for cross-key mistakes', () => {
    expect(
      messages(`ocpp_server:
  security_profile: 2
  stations:
    - id: a
      connectors: 2
    - id: a_2
    - id: b
      identity: a
`),
    ).toEqual([
      'ocpp_server.tls: is required for security_profile 2: give tls.cert and tls.key (PEM files)',
      "ocpp_server.stations[0].password: is required for security_profile 2: the station's Basic-auth password (AuthorizationKey)",
      'ocpp_server.stations[1].id: "a_2" is already used by stations[0]; each charger needs its own id',
      "ocpp_server.stations[1].password: is required for security_profile 2: the station's Basic-auth password (AuthorizationKey)",
      "ocpp_server.stations[2].password: is required for security_profile 2: the station's Basic-auth password (AuthorizationKey)",
      'ocpp_server.stations[2].identity: "a" is already used by stations[0]; one station, one entry',
    ]);
    expect(messages('ocpp_server:\n  unknown_stations: allow\n  path: ocpp\n')).toEqual([
      'ocpp_server.unknown_stations: must be one of: reject, pending, accept; got "allow"',
      'ocpp_server.path: must be a URL path starting with "/", e.g. /ocpp; got "ocpp"',
    ]);
  });
});

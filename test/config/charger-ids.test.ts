import { describe, expect, it } from 'vitest';
import { load, problems } from './helpers.js';

const BLE = (id: string, mac: string) => `
  - id: ${id}
    type: bs20
    address: "${mac}"
    pin: "123456"
    max_current: 16
`;

const chargers = `chargers:${BLE('driveway', 'A4:C1:38:12:34:55')}${BLE('garage', 'A4:C1:38:12:34:56')}`;

describe('charger ids across chargers: and ocpp_server.stations', () => {
  it('names the station key when its id is a charger id', () => {
    expect(
      problems(`${chargers}
ocpp_server:
  enabled: true
  stations:
    - id: garage
`),
    ).toEqual([
      'ocpp_server.stations[0].id: clashes with chargers[1].id "garage"; each charger needs its own id: rename one of them',
    ]);
  });

  it("names the station key when its second connector's id <id>_2 is a charger id", () => {
    expect(
      problems(`chargers:${BLE('wallbox_2', 'A4:C1:38:12:34:57')}
ocpp_server:
  enabled: true
  stations:
    - id: carport
    - id: wallbox
      connectors: 2
`),
    ).toEqual([
      'ocpp_server.stations[1].id: clashes with chargers[0].id "wallbox_2" (connector 2 of this station is the charger "wallbox_2"); each charger needs its own id: rename one of them',
    ]);
  });

  it('accepts distinct ids, and a disabled server (it makes no chargers)', () => {
    expect(() =>
      load(`${chargers}
ocpp_server:
  enabled: true
  stations:
    - id: carport
      connectors: 3
`),
    ).not.toThrow();
    expect(() =>
      load(`${chargers}
ocpp_server:
  stations:
    - id: garage
`),
    ).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { load, problems } from './helpers.js';

const charger = (lines: string) => `chargers:\n  - ${lines.trim().split('\n').join('\n    ')}\n`;

describe('chargers', () => {
  it('normalises the MAC address to lower case with colons', () => {
    for (const written of ['"A4:C1:38:12:34:56"', 'a4-c1-38-12-34-56', '"A4C138123456"']) {
      const yaml = charger(`id: g\ntype: bs20\naddress: ${written}\npin: "123456"\nmax_current: 16`);
      expect(load(yaml).config.chargers[0]?.address).toBe('a4:c1:38:12:34:56');
    }
  });

  it('rejects a malformed MAC address, and an unquoted all-digit one', () => {
    const rule =
      'must be a Bluetooth MAC address like a4:c1:38:12:34:56 (put it in quotes if it has no colons)';
    expect(
      problems(charger('id: g\ntype: bs20\naddress: "A4:C1:38:12:34"\npin: "123456"\nmax_current: 16')),
    ).toEqual([`chargers[0].address: ${rule}; got "A4:C1:38:12:34"`]);
    expect(
      problems(charger('id: g\ntype: bs20\naddress: 112233445566\npin: "123456"\nmax_current: 16')),
    ).toEqual([`chargers[0].address: ${rule}; got 112233445566 (a number)`]);
  });

  it('an unquoted PIN gets a clear "put it in quotes" error, without showing the digits', () => {
    for (const written of ['987654', '054321']) {
      const issues = problems(
        charger(`id: g\ntype: bs20\naddress: "a4:c1:38:12:34:56"\npin: ${written}\nmax_current: 16`),
      );
      expect(issues).toEqual([
        'chargers[0].pin: must be exactly 6 digits in quotes, e.g. pin: "012345"; without quotes YAML reads it as a number and drops leading zeros; got [redacted] (a number)',
      ]);
      expect(issues.join('\n')).not.toContain(written.replace(/^0/, '').slice(0, 5));
    }
  });

  it('a PIN must be exactly six digits', () => {
    for (const pin of ['"12345"', '"1234567"', '"12a456"']) {
      expect(problems(charger(`id: g\ntype: bs20\nble_name: x\npin: ${pin}\nmax_current: 16`))).toEqual([
        'chargers[0].pin: must be exactly 6 digits in quotes, e.g. pin: "012345"; got [redacted]',
      ]);
    }
  });

  it('a Bluetooth charger needs an address or BLE name, its PIN and the current ceiling', () => {
    expect(problems(charger('id: g\ntype: bs20'))).toEqual([
      'chargers[0].address: is required for a Bluetooth charger: give its address (MAC, e.g. a4:c1:38:12:34:56) or ble_name (e.g. ACP#EVSE0158), or both; `chargebridge scan` lists them',
      'chargers[0].pin: is required for a Bluetooth charger: its 6-digit PIN in quotes (factory default "123456")',
      'chargers[0].max_current: is required for a Bluetooth charger: the most amps your circuit and cable allow (6 to 80); chargebridge never sets more',
    ]);
  });

  it('max_current is a whole number of amps from 6 to 80', () => {
    const base = 'id: g\ntype: bs20\nble_name: x\npin: "123456"\n';
    expect(problems(charger(`${base}max_current: 5`))).toEqual([
      'chargers[0].max_current: must be a whole number from 6 to 80 (amps); got 5',
    ]);
    expect(problems(charger(`${base}max_current: 16.5`))).toEqual([
      'chargers[0].max_current: must be a whole number from 6 to 80 (amps); got 16.5 (a number)',
    ]);
    expect(load(charger(`${base}max_current: 80`)).config.chargers[0]?.maxCurrent).toBe(80);
  });

  it('the simulator block belongs to simulated chargers only', () => {
    expect(
      problems(
        charger('id: g\ntype: bs20\nble_name: x\npin: "123456"\nmax_current: 16\nsimulator:\n  phases: 3'),
      ),
    ).toEqual(['chargers[0].simulator: is only allowed with transport: simulated']);
  });

  it('checks transport, phases and simulator values with their allowed values', () => {
    expect(problems(charger('id: g\ntype: bs20\ntransport: bluetooth'))).toEqual([
      'chargers[0].transport: must be one of: ble, simulated; got "bluetooth"',
    ]);
    expect(problems(charger('id: g\ntype: bs20\ntransport: simulate'))).toEqual([
      'chargers[0].transport: must be one of: ble, simulated (did you mean "simulated"?); got "simulate"',
    ]);
    const sim =
      'id: s\ntype: bs20\ntransport: simulated\nsimulator:\n  phases: 2\n  hardware_max_current: 100\n  car:\n    demand_a: -1\n    battery_kwh: 0\n    plugged_at_start: 1';
    expect(problems(charger(sim))).toEqual([
      'chargers[0].simulator.phases: must be one of: 1, 3; got 2',
      'chargers[0].simulator.hardware_max_current: must be a whole number from 6 to 80 (amps); got 100',
      'chargers[0].simulator.car.demand_a: must be a whole number from 0 to 80 (amps); got -1',
      'chargers[0].simulator.car.battery_kwh: must be a whole number from 1 to 200 (kWh); got 0',
      'chargers[0].simulator.car.plugged_at_start: must be true or false; got 1 (a number)',
    ]);
  });

  it('ids are short lower-case slugs, with a suggestion built from what was written', () => {
    expect(problems(charger('id: Garage BS20\ntype: bs20\ntransport: simulated'))).toEqual([
      'chargers[0].id: must be a short id of lower-case letters, digits and _ (it becomes part of MQTT topics and entity ids), at most 32 characters, e.g. "garage_bs20"; got "Garage BS20"',
    ]);
    expect(problems(charger('type: bs20\ntransport: simulated'))).toEqual([
      'chargers[0].id: is required; must be a short id of lower-case letters, digits and _ (it becomes part of MQTT topics and entity ids), e.g. garage',
    ]);
    expect(problems(charger('id: bridge\ntype: bs20\ntransport: simulated'))).toEqual([
      `chargers[0].id: "bridge" is reserved for the daemon's own topics; pick another id; got "bridge"`,
    ]);
  });

  it('the charger type is required and must be a known one', () => {
    expect(problems(charger('id: g\ntransport: simulated'))).toEqual([
      'chargers[0].type: is required; must be one of: bs20',
    ]);
    expect(problems(charger('id: g\ntype: bs21'))).toEqual([
      'chargers[0].type: must be one of: bs20; got "bs21"',
    ]);
    expect(problems('chargers:\n  - garage\n')).toEqual([
      'chargers[0]: each charger must be a mapping with at least id and type, e.g. "- id: garage" then "type: bs20"; got "garage" (text)',
    ]);
    expect(problems('chargers:\n  id: g\n')).toEqual([
      'chargers: must be a list of chargers (each entry starting with "- "); got a mapping',
    ]);
  });

  it('duplicate ids, addresses and BLE names name both positions', () => {
    const yaml = `chargers:
  - { id: garage, type: bs20, address: "A4:C1:38:12:34:56", ble_name: "ACP#1", pin: "123456", max_current: 16 }
  - { id: carport, type: bs20, transport: simulated }
  - { id: garage, type: bs20, address: "a4-c1-38-12-34-56", ble_name: "ACP#1", pin: "123456", max_current: 16 }
`;
    expect(problems(yaml)).toEqual([
      'chargers[2].id: "garage" is already used by chargers[0]; each charger needs its own id',
      'chargers[2].address: "a4:c1:38:12:34:56" is already used by chargers[0]; two entries cannot be the same charger',
      'chargers[2].ble_name: "ACP#1" is already used by chargers[0]; two entries cannot be the same charger',
    ]);
  });

  it('duplicate ids are reported even when the entries have other problems', () => {
    const yaml = `chargers:
  - { id: garage, type: bs20, pin: 123456 }
  - { id: garage, type: bs20, transport: simulated, max_current: 99 }
`;
    expect(problems(yaml)).toEqual([
      'chargers[0].pin: must be exactly 6 digits in quotes, e.g. pin: "012345"; without quotes YAML reads it as a number and drops leading zeros; got [redacted] (a number)',
      'chargers[0].address: is required for a Bluetooth charger: give its address (MAC, e.g. a4:c1:38:12:34:56) or ble_name (e.g. ACP#EVSE0158), or both; `chargebridge scan` lists them',
      'chargers[0].max_current: is required for a Bluetooth charger: the most amps your circuit and cable allow (6 to 80); chargebridge never sets more',
      'chargers[1].max_current: must be a whole number from 6 to 80 (amps); got 99',
      'chargers[1].id: "garage" is already used by chargers[0]; each charger needs its own id',
    ]);
  });

  it('several chargers load in order, each with its own settings', () => {
    const yaml = `chargers:
  - { id: garage, name: Garage, type: bs20, ble_name: "ACP#EVSE0158", pin: "123456", max_current: 16, phases: 3, stale_after_s: 20, reconnect_max_delay_s: 120 }
  - { id: demo, type: bs20, transport: simulated }
`;
    const { chargers } = load(yaml).config;
    expect(
      chargers.map((c) => [c.id, c.name, c.transport, c.phases, c.staleAfterS, c.reconnectMaxDelayS]),
    ).toEqual([
      ['garage', 'Garage', 'ble', 3, 20, 120],
      ['demo', 'demo', 'simulated', undefined, 35, 60],
    ]);
  });
});

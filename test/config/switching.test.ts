/** The `switching:` blocks of chargers and OCPP stations, down to the rules the guard applies. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SWITCHING_RULES, switchingRulesFrom } from '../../src/core/switching-rules.js';
import { stationSwitchingRules } from '../../src/ocpp/server/create.js';
import { load, problems } from './helpers.js';

const simulated = (switching: string) =>
  `chargers:\n  - id: garage\n    type: bs20\n    transport: simulated\n${switching}`;

describe('switching', () => {
  it('is unset by default, which means the documented defaults', () => {
    const [charger] = load(simulated('')).config.chargers;
    expect(charger?.switching).toBeUndefined();
    expect(switchingRulesFrom(charger?.switching)).toEqual({
      minOffMs: 60_000,
      minOnMs: 60_000,
      currentSettleMs: 2_000,
    });
    expect(switchingRulesFrom(charger?.switching)).toEqual(DEFAULT_SWITCHING_RULES);
  });

  it('fills the keys a written block leaves out, and takes 0 as "off"', () => {
    const [charger] = load(simulated('    switching:\n      min_off_s: 0\n      current_settle_ms: 500\n'))
      .config.chargers;
    expect(charger?.switching).toEqual({ minOffS: 0, minOnS: 60, currentSettleMs: 500 });
    expect(switchingRulesFrom(charger?.switching)).toEqual({
      minOffMs: 0,
      minOnMs: 60_000,
      currentSettleMs: 500,
    });
  });

  it('refuses a protection too short to protect, and unknown keys', () => {
    expect(
      problems(simulated('    switching:\n      min_off_s: 5\n      min_on_s: 4000\n      min_of_s: 60\n')),
    ).toEqual([
      'chargers[0].switching.min_off_s: must be 0 (no protection: every switch is obeyed) or a whole number from 10 to 3600 (seconds); got 5',
      'chargers[0].switching.min_on_s: must be 0 (no protection: every switch is obeyed) or a whole number from 10 to 3600 (seconds); got 4000',
      'chargers[0].switching.min_of_s: unknown key (did you mean "min_off_s"?); allowed here: min_off_s, min_on_s, current_settle_ms',
    ]);
  });

  it('gives each connector of a station its station’s rules, and policy-accepted stations the defaults', () => {
    const { config } = load(
      [
        'ocpp_server:',
        '  enabled: true',
        '  stations:',
        '    - id: carport',
        '      connectors: 2',
        '      switching:',
        '        min_off_s: 300',
        '    - id: shed',
      ].join('\n'),
    );
    const rulesFor = stationSwitchingRules(config.ocppServer);
    expect(rulesFor('carport').minOffMs).toBe(300_000);
    expect(rulesFor('carport_2').minOffMs).toBe(300_000);
    expect(rulesFor('shed')).toEqual(DEFAULT_SWITCHING_RULES);
    expect(rulesFor('ocpp_wallbox_9')).toEqual(DEFAULT_SWITCHING_RULES);
  });
});

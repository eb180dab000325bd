/**
 * With no config file at the default path the daemon still starts, with one simulated BS20 on the
 * embedded broker, so a first `npx chargebridge run` shows entities in Home Assistant at once.
 */
export const DEMO_CHARGER_ID = 'demo_bs20';

/** The demo configuration, as it would be written in YAML (defaults fill the rest). */
export function demoConfigFile(): Record<string, unknown> {
  return {
    chargers: [{ id: DEMO_CHARGER_ID, name: 'Demo BS20', type: 'bs20', transport: 'simulated' }],
  };
}

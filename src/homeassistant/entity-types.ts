/**
 * The shape of one row in an entity table (charger or bridge) and the small template helpers the
 * rows use. discovery.ts turns rows into Home Assistant component configs.
 */
import type { ChargerCapabilities } from './capabilities.js';

export type Platform =
  | 'sensor'
  | 'binary_sensor'
  | 'switch'
  | 'number'
  | 'select'
  | 'text'
  | 'button'
  | 'datetime'
  | 'event';

export interface EntityOptions {
  /**
   * HA's MQTT `datetime` platform exists since HA 2026.5; older HA rejects the whole device payload
   * for an unknown platform, so `text` is the fallback for them. Applies to every date/time control
   * (scheduled start, charge-plan deadline).
   */
  scheduledStartPlatform: 'datetime' | 'text';
}

export interface EntityContext {
  caps: ChargerCapabilities;
  options: EntityOptions;
}

/** A value that may depend on the charger's capabilities or the discovery options. */
export type Dyn<T> = T | ((ctx: EntityContext) => T);

/** Where an entity reads its state from. */
export type StateSource = 'charger' | 'event' | 'bridge_state' | 'bridge_info';

/** Where an entity sends commands: the charger's `set/<key>` topic or a bridge request. */
export type CommandTarget = 'charger' | { bridgeRequest: string };

export interface EntityDef {
  key: string;
  platform: Dyn<Platform>;
  name: string;
  /** Only charger entities use it; absent = always present. */
  requires?: (caps: ChargerCapabilities) => boolean;
  deviceClass?: string;
  unit?: Dyn<string | null>;
  stateClass?: 'measurement' | 'total' | 'total_increasing';
  /** suggested_display_precision */
  precision?: number;
  category?: 'config' | 'diagnostic';
  /** Defaults to true. */
  enabledByDefault?: boolean;
  icon?: string;
  /** Absent for buttons and events. */
  source?: StateSource;
  valueTemplate?: Dyn<string>;
  /** json_attributes_template over the same state topic. */
  attributesTemplate?: string;
  options?: Dyn<readonly string[]>;
  /** A live measurement: gets expire_after so stale values do not look current. */
  live?: boolean;
  /** 'bridge': only the bridge's availability (for entities that must show the link being down). */
  availability?: 'both' | 'bridge' | 'none';
  command?: CommandTarget;
  /** Platform fields: min/max/step/mode, pattern, payload_on/off, payload_press, event_types… */
  fields?: Dyn<Record<string, unknown>>;
}

/** HA's button payload; commands.ts accepts exactly this. */
export const PAYLOAD_PRESS = 'PRESS';

/** `{{ value_json.key }}` */
export const jsonValue = (key: string) => `{{ value_json.${key} }}`;

/** ON/OFF from a boolean key, for binary sensors and switches. */
export const jsonOnOff = (key: string) => `{{ 'ON' if value_json.${key} else 'OFF' }}`;

/** A JSON attributes template exposing some state keys under attribute names. */
export function jsonAttributes(attributes: Record<string, string>): string {
  const pairs = Object.entries(attributes).map(([name, key]) => `'${name}': value_json.${key}`);
  return `{{ {${pairs.join(', ')}} | tojson }}`;
}

/**
 * Platform, template and fields of a date/time control reading `stateKey` (ISO 8601 or null): HA's
 * `datetime` platform, or a `text` field holding `YYYY-MM-DD HH:MM` for Home Assistant before 2026.5.
 */
export function dateTimeControl(stateKey: string): Pick<EntityDef, 'platform' | 'valueTemplate' | 'fields'> {
  return {
    platform: ({ options }) => options.scheduledStartPlatform,
    valueTemplate: ({ options }) =>
      options.scheduledStartPlatform === 'datetime'
        ? jsonValue(stateKey)
        : `{{ value_json.${stateKey}[:16] | replace('T', ' ') if value_json.${stateKey} else '' }}`,
    fields: ({ options }) =>
      options.scheduledStartPlatform === 'datetime'
        ? {}
        : {
            min: 0,
            max: 32,
            mode: 'text',
            pattern: '^$|^\\d{1,2}:\\d{2}$|^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}.*$',
          },
  };
}

/** Bridge rows have no charger context, so they must use plain values only. */
export function resolve<T>(value: Dyn<T>, ctx: EntityContext | null): T {
  if (typeof value !== 'function') return value;
  if (ctx === null) throw new Error('an entity row without a charger context must not use computed values');
  return (value as (c: EntityContext) => T)(ctx);
}

/**
 * The whole configuration file. Each top-level section lives in sections/<name>.ts and is plugged
 * in here; keys are snake_case as written in YAML. The code reads the camelCase `ChargebridgeConfig`,
 * produced from the parse result by casing.ts only.
 *
 * Adding a section: write sections/<name>.ts with a strict object (`.prefault({})` when every key
 * has a default), add it below, document it in docs/configuration.md and config/chargebridge.example.yaml
 * (a test checks both mention every key). Use lists of objects with an `id`, not maps keyed by
 * user-chosen names: those names would be re-cased like any other key.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import type { CamelCasedDeep } from './casing.js';
import { checkChargerIdsAcrossSections } from './charger-ids.js';
import type { SchemaContext } from './context.js';
import { EVEN_WITH_ERRORS, oneOf, text, timeZone } from './fields.js';
import { bleSection } from './sections/ble.js';
import { chargersSection } from './sections/chargers.js';
import { homeAssistantSection } from './sections/homeassistant.js';
import { httpSection } from './sections/http.js';
import { mqttSection } from './sections/mqtt.js';
import { ocppServerSection } from './sections/ocpp-server.js';
import { tariffSection } from './sections/tariff.js';
import { usersSection } from './sections/users.js';

export type { SchemaContext } from './context.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export const LOG_FORMATS = ['auto', 'pretty', 'json', 'journal'] as const;

export function createConfigSchema(ctx: SchemaContext) {
  return z
    .strictObject(
      {
        // Default: the folder holding the config file (./data for the default ./data/configuration.yaml).
        data_dir: text(4096, 'must be a folder path')
          .transform((dir) => resolve(ctx.configDir, dir))
          .prefault('.'),
        log_level: oneOf(LOG_LEVELS).default('info'),
        // auto: readable lines on a terminal, plain lines with priorities under systemd, JSON otherwise.
        log_format: oneOf(LOG_FORMATS).default('auto'),
        timezone: timeZone().prefault(ctx.systemTimezone),
        mqtt: mqttSection(ctx),
        homeassistant: homeAssistantSection,
        ble: bleSection,
        chargers: chargersSection,
        users: usersSection,
        tariff: tariffSection,
        http: httpSection,
        ocpp_server: ocppServerSection(ctx),
      },
      { error: 'must be a mapping of keys such as mqtt: and chargers:' },
    )
    .superRefine(checkChargerIdsAcrossSections, EVEN_WITH_ERRORS);
}

export type ConfigSchema = ReturnType<typeof createConfigSchema>;

/** The configuration as the snake_case YAML file spells it, after defaults. */
export type ChargebridgeConfigFile = z.output<ConfigSchema>;

/** The validated configuration the daemon uses: defaults applied, paths absolute, keys camelCase. */
export type ChargebridgeConfig = CamelCasedDeep<ChargebridgeConfigFile>;

export type LogLevel = ChargebridgeConfig['logLevel'];
export type LogFormat = ChargebridgeConfig['logFormat'];
export type MqttConfig = ChargebridgeConfig['mqtt'];
export type EmbeddedBrokerConfig = MqttConfig['embeddedBroker'];
export type MqttTlsConfig = NonNullable<MqttConfig['tls']>;
export type HomeAssistantConfig = ChargebridgeConfig['homeassistant'];
export type BleConfig = ChargebridgeConfig['ble'];
export type ChargerConfig = ChargebridgeConfig['chargers'][number];
export type Bs20ChargerConfig = Extract<ChargerConfig, { type: 'bs20' }>;
export type Bs20BleChargerConfig = Extract<Bs20ChargerConfig, { transport: 'ble' }>;
export type Bs20SimulatedChargerConfig = Extract<Bs20ChargerConfig, { transport: 'simulated' }>;
export type SimulatorConfig = Bs20SimulatedChargerConfig['simulator'];
export type UserConfigEntry = ChargebridgeConfig['users'][number];
/** Undefined when the file has no `tariff:` (no costs). */
export type TariffConfig = NonNullable<ChargebridgeConfig['tariff']>;
export type HttpConfig = ChargebridgeConfig['http'];
export type OcppServerConfig = ChargebridgeConfig['ocppServer'];
export type OcppStationConfigEntry = OcppServerConfig['stations'][number];

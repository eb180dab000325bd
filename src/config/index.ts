/** The configuration module's public face: load, types, errors, redaction. */
export { type CamelCasedDeep, camelizeKeys, snakifyKeys } from './casing.js';
export { DEMO_CHARGER_ID } from './demo.js';
export { CONFIG_PATH_VARIABLE, ENV_PREFIX } from './env.js';
export { ConfigError, type ConfigIssue } from './errors.js';
export {
  type ConfigLocation,
  DEFAULT_CONFIG_PATH,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  parseConfigText,
  resolveConfigPath,
} from './load.js';
export { isSecretKey, REDACTED, redactConfig } from './redact.js';
export type {
  BleConfig,
  Bs20BleChargerConfig,
  Bs20ChargerConfig,
  Bs20SimulatedChargerConfig,
  ChargebridgeConfig,
  ChargebridgeConfigFile,
  ChargerConfig,
  EmbeddedBrokerConfig,
  HomeAssistantConfig,
  HttpConfig,
  LogLevel,
  MqttConfig,
  MqttTlsConfig,
  SimulatorConfig,
  TariffConfig,
  UserConfigEntry,
} from './schema.js';
export { createConfigSchema, LOG_LEVELS } from './schema.js';

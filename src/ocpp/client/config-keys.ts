/**
 * The OCPP 1.6 configuration keys of the bridge (ocpp.md §2.6): their types, access, validation,
 * and the values a central system changed, kept on disk so they survive a restart.
 *
 * A stored value remembers the default it replaced: when the user edits the YAML default later,
 * the YAML wins again (otherwise a config change would silently do nothing).
 */
import { z } from 'zod';
import { parseMeasurandList, SUPPORTED_MEASURANDS } from './meter-values.js';

export type KeyAccess = 'R' | 'RW' | 'W';

interface KeyDefinition {
  key: string;
  access: KeyAccess;
  /** Why the value is refused, or null. Values arrive as text (≤ 500 chars). */
  check?: (value: string, current: ConfigurationKeys) => string | null;
  /** Canonical text for an accepted value ("TRUE" → "true"). */
  normalise?: (value: string) => string;
}

const bool = (value: string) => (/^(true|false)$/i.test(value) ? null : 'must be true or false');
const intIn = (min: number, max: number) => (value: string) =>
  /^\d+$/.test(value.trim()) && Number(value) >= min && Number(value) <= max
    ? null
    : `must be a whole number ${min}…${max}`;
const measurands = (value: string) => {
  const parsed = parseMeasurandList(value);
  return parsed.ok ? null : parsed.reason;
};
const lower = (value: string) => value.toLowerCase();
const trimmed = (value: string) => String(Number(value.trim()));
const measurandText = (value: string) => {
  const parsed = parseMeasurandList(value);
  return parsed.ok ? parsed.measurands.join(',') : value;
};
const PHASE_ROTATION = /^\d+\.(RST|RTS|SRT|STR|TRS|TSR|Unknown|NotApplicable)$/;

/** Every key we answer for; anything else is NotSupported / unknownKey. */
export const KEY_DEFINITIONS: readonly KeyDefinition[] = [
  { key: 'AllowOfflineTxForUnknownId', access: 'R' },
  { key: 'AuthorizationCacheEnabled', access: 'R' },
  { key: 'AuthorizeRemoteTxRequests', access: 'RW', check: bool, normalise: lower },
  { key: 'ClockAlignedDataInterval', access: 'RW', check: intIn(0, 86_400), normalise: trimmed },
  { key: 'ConnectionTimeOut', access: 'RW', check: intIn(1, 3600), normalise: trimmed },
  {
    key: 'ConnectorPhaseRotation',
    access: 'RW',
    check: (v) =>
      v.split(',').every((item) => PHASE_ROTATION.test(item.trim()))
        ? null
        : 'must be a list like 0.RST,1.RST',
  },
  { key: 'ConnectorPhaseRotationMaxLength', access: 'R' },
  { key: 'GetConfigurationMaxKeys', access: 'R' },
  { key: 'HeartbeatInterval', access: 'RW', check: intIn(0, 86_400), normalise: trimmed },
  { key: 'LocalAuthorizeOffline', access: 'R' },
  { key: 'LocalPreAuthorize', access: 'R' },
  { key: 'MeterValuesAlignedData', access: 'RW', check: measurands, normalise: measurandText },
  { key: 'MeterValuesAlignedDataMaxLength', access: 'R' },
  { key: 'MeterValuesSampledData', access: 'RW', check: measurands, normalise: measurandText },
  { key: 'MeterValuesSampledDataMaxLength', access: 'R' },
  { key: 'MeterValueSampleInterval', access: 'RW', check: intIn(0, 86_400), normalise: trimmed },
  { key: 'NumberOfConnectors', access: 'R' },
  { key: 'ResetRetries', access: 'RW', check: intIn(0, 10), normalise: trimmed },
  // A tethered BS20 ends its session when the cable leaves the car: nothing else is possible.
  { key: 'StopTransactionOnEVSideDisconnect', access: 'R' },
  { key: 'StopTransactionOnInvalidId', access: 'RW', check: bool, normalise: lower },
  { key: 'StopTxnAlignedData', access: 'RW', check: measurands, normalise: measurandText },
  { key: 'StopTxnAlignedDataMaxLength', access: 'R' },
  { key: 'StopTxnSampledData', access: 'RW', check: measurands, normalise: measurandText },
  { key: 'StopTxnSampledDataMaxLength', access: 'R' },
  { key: 'SupportedFeatureProfiles', access: 'R' },
  { key: 'SupportedFeatureProfilesMaxLength', access: 'R' },
  { key: 'TransactionMessageAttempts', access: 'RW', check: intIn(1, 10), normalise: trimmed },
  { key: 'TransactionMessageRetryInterval', access: 'RW', check: intIn(1, 3600), normalise: trimmed },
  { key: 'UnlockConnectorOnEVSideDisconnect', access: 'R' },
  { key: 'WebSocketPingInterval', access: 'RW', check: intIn(0, 3600), normalise: trimmed },
  { key: 'ChargeProfileMaxStackLevel', access: 'R' },
  { key: 'ChargingScheduleAllowedChargingRateUnit', access: 'R' },
  { key: 'ChargingScheduleMaxPeriods', access: 'R' },
  { key: 'MaxChargingProfilesInstalled', access: 'R' },
  {
    key: 'SecurityProfile',
    access: 'RW',
    check: (v, keys) => {
      if (!/^[0-3]$/.test(v.trim())) return 'must be 0, 1, 2 or 3';
      const wanted = Number(v);
      const current = keys.getInt('SecurityProfile');
      if (wanted < current) return 'a security profile can only be raised';
      if (wanted > keys.maxSecurityProfile)
        return `this connection supports security profile ${keys.maxSecurityProfile} at most`;
      if (wanted >= 1 && !keys.hasCredentials) return 'set AuthorizationKey first';
      return null;
    },
    normalise: trimmed,
  },
  {
    key: 'AuthorizationKey',
    access: 'W',
    // Security whitepaper: 16–40 bytes; most central systems send them as hex (32–80 characters).
    check: (v) => (v.length >= 16 && v.length <= 80 ? null : 'must be 16…80 characters'),
  },
];

export const SUPPORTED_FEATURE_PROFILES = 'Core,RemoteTrigger,SmartCharging';

/** Values of the read-only keys and the defaults of the others, as text. */
export function defaultKeyValues(options: {
  meterValueSampleIntervalS: number;
  heartbeatIntervalS: number;
  webSocketPingIntervalS: number;
  securityProfile: number;
}): Record<string, string> {
  return {
    AllowOfflineTxForUnknownId: 'false',
    AuthorizationCacheEnabled: 'false',
    AuthorizeRemoteTxRequests: 'false',
    ClockAlignedDataInterval: '0',
    ConnectionTimeOut: '60',
    ConnectorPhaseRotation: '0.Unknown,1.Unknown',
    ConnectorPhaseRotationMaxLength: '2',
    GetConfigurationMaxKeys: String(KEY_DEFINITIONS.length),
    HeartbeatInterval: String(options.heartbeatIntervalS),
    LocalAuthorizeOffline: 'false',
    LocalPreAuthorize: 'false',
    MeterValuesAlignedData: 'Energy.Active.Import.Register',
    MeterValuesAlignedDataMaxLength: String(SUPPORTED_MEASURANDS.length),
    MeterValuesSampledData:
      'Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,Temperature,Current.Offered',
    MeterValuesSampledDataMaxLength: String(SUPPORTED_MEASURANDS.length),
    MeterValueSampleInterval: String(options.meterValueSampleIntervalS),
    NumberOfConnectors: '1',
    ResetRetries: '1',
    StopTransactionOnEVSideDisconnect: 'true',
    StopTransactionOnInvalidId: 'true',
    StopTxnAlignedData: '',
    StopTxnAlignedDataMaxLength: String(SUPPORTED_MEASURANDS.length),
    StopTxnSampledData: 'Energy.Active.Import.Register',
    StopTxnSampledDataMaxLength: String(SUPPORTED_MEASURANDS.length),
    SupportedFeatureProfiles: SUPPORTED_FEATURE_PROFILES,
    SupportedFeatureProfilesMaxLength: '3',
    TransactionMessageAttempts: '3',
    TransactionMessageRetryInterval: '60',
    UnlockConnectorOnEVSideDisconnect: 'false',
    WebSocketPingInterval: String(options.webSocketPingIntervalS),
    ChargeProfileMaxStackLevel: '8',
    ChargingScheduleAllowedChargingRateUnit: 'Current,Power',
    ChargingScheduleMaxPeriods: '24',
    MaxChargingProfilesInstalled: '8',
    SecurityProfile: String(options.securityProfile),
    AuthorizationKey: '',
  };
}

/** What is kept on disk: per changed key, its value and the default it replaced. */
export const storedKeysSchema = z.object({
  version: z.literal(1),
  keys: z.record(z.string(), z.object({ value: z.string(), replacedDefault: z.string() })),
  /** ChangeAvailability survives a restart (§5.2); kept here with the other settings. */
  operative: z.boolean().optional(),
});
export type StoredKeys = z.infer<typeof storedKeysSchema>;

export type ChangeResult = 'Accepted' | 'Rejected' | 'RebootRequired' | 'NotSupported';

export interface KeyListing {
  configurationKey: Array<{ key: string; readonly: boolean; value?: string }>;
  unknownKey: string[];
}

export class ConfigurationKeys {
  private readonly defaults: Record<string, string>;
  private readonly changed = new Map<string, { value: string; replacedDefault: string }>();
  /** Highest profile the configured URL allows (ws → 1, wss → 2 or 3 with a client certificate). */
  readonly maxSecurityProfile: number;
  private readonly configuredCredentials: boolean;
  /** Connector availability (ChangeAvailability). */
  operative: boolean;

  constructor(
    defaults: Record<string, string>,
    stored: StoredKeys | null,
    options: { maxSecurityProfile: number; hasConfiguredPassword: boolean },
  ) {
    this.defaults = defaults;
    this.maxSecurityProfile = options.maxSecurityProfile;
    this.configuredCredentials = options.hasConfiguredPassword;
    this.operative = stored?.operative ?? true;
    for (const [key, entry] of Object.entries(stored?.keys ?? {})) {
      const definition = findKey(key);
      // Unknown (older version) or the YAML default moved on since: the YAML wins.
      if (!definition || defaults[definition.key] !== entry.replacedDefault) continue;
      this.changed.set(definition.key, entry);
    }
  }

  get(key: string): string {
    const definition = findKey(key);
    if (!definition) throw new Error(`unknown configuration key ${key}`);
    return this.changed.get(definition.key)?.value ?? this.defaults[definition.key] ?? '';
  }

  getInt(key: string): number {
    const n = Number(this.get(key));
    return Number.isFinite(n) ? n : 0;
  }

  getBool(key: string): boolean {
    return this.get(key).toLowerCase() === 'true';
  }

  get hasCredentials(): boolean {
    return this.configuredCredentials || this.get('AuthorizationKey') !== '';
  }

  /** GetConfiguration: all readable keys for an empty list; AuthorizationKey is never shown. */
  list(keys?: readonly string[]): KeyListing {
    const out: KeyListing = { configurationKey: [], unknownKey: [] };
    const wanted = keys && keys.length > 0 ? keys : KEY_DEFINITIONS.map((d) => d.key);
    for (const asked of wanted) {
      const definition = findKey(asked);
      if (!definition || definition.access === 'W') {
        if (keys && keys.length > 0) out.unknownKey.push(asked);
        continue;
      }
      out.configurationKey.push({
        key: definition.key,
        readonly: definition.access === 'R',
        value: this.get(definition.key),
      });
    }
    return out;
  }

  /** ChangeConfiguration; `Accepted` means the new value is in force (and must be saved). */
  change(key: string, value: string): { result: ChangeResult; key?: string; reason?: string } {
    const definition = findKey(key);
    if (!definition) return { result: 'NotSupported', reason: `unknown key ${key}` };
    if (definition.access === 'R') return { result: 'Rejected', key: definition.key, reason: 'read-only' };
    const reason = definition.check?.(value, this) ?? null;
    if (reason !== null) return { result: 'Rejected', key: definition.key, reason };
    const text = definition.normalise ? definition.normalise(value) : value;
    this.changed.set(definition.key, { value: text, replacedDefault: this.defaults[definition.key] ?? '' });
    return { result: 'Accepted', key: definition.key };
  }

  toStored(): StoredKeys {
    return { version: 1, keys: Object.fromEntries(this.changed), operative: this.operative };
  }
}

function findKey(key: string): KeyDefinition | undefined {
  const lowered = key.toLowerCase();
  return KEY_DEFINITIONS.find((d) => d.key.toLowerCase() === lowered);
}

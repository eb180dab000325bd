import { describe, expect, it } from 'vitest';
import {
  ConfigurationKeys,
  defaultKeyValues,
  KEY_DEFINITIONS,
} from '../../../src/ocpp/client/config-keys.js';
import { validateCall } from './frames.js';

const defaults = () =>
  defaultKeyValues({
    meterValueSampleIntervalS: 60,
    heartbeatIntervalS: 300,
    webSocketPingIntervalS: 30,
    securityProfile: 0,
  });

function keys(stored: ConstructorParameters<typeof ConfigurationKeys>[1] = null, maxSecurityProfile = 1) {
  return new ConfigurationKeys(defaults(), stored, { maxSecurityProfile, hasConfiguredPassword: false });
}

describe('GetConfiguration', () => {
  it('lists every readable key with its access and value; never AuthorizationKey', () => {
    const listing = keys().list();
    expect(listing.unknownKey).toEqual([]);
    expect(listing.configurationKey).toHaveLength(KEY_DEFINITIONS.length - 1);
    expect(listing.configurationKey.find((k) => k.key === 'AuthorizationKey')).toBeUndefined();
    expect(listing.configurationKey.find((k) => k.key === 'NumberOfConnectors')).toEqual({
      key: 'NumberOfConnectors',
      readonly: true,
      value: '1',
    });
    expect(listing.configurationKey.find((k) => k.key === 'MeterValueSampleInterval')).toEqual({
      key: 'MeterValueSampleInterval',
      readonly: false,
      value: '60',
    });
    expect(listing.configurationKey.find((k) => k.key === 'SupportedFeatureProfiles')?.value).toBe(
      'Core,RemoteTrigger,SmartCharging',
    );
    expect(
      Number(listing.configurationKey.find((k) => k.key === 'GetConfigurationMaxKeys')?.value),
    ).toBeGreaterThanOrEqual(listing.configurationKey.length);
    expect(validateCall('GetConfiguration', {})).toEqual([]);
  });

  it('answers named keys case-insensitively and reports unknown ones', () => {
    expect(keys().list(['heartbeatinterval', 'Foo', 'AuthorizationKey'])).toEqual({
      configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }],
      unknownKey: ['Foo', 'AuthorizationKey'],
    });
  });
});

describe('ChangeConfiguration', () => {
  it('accepts valid values and normalises them', () => {
    const k = keys();
    expect(k.change('MeterValueSampleInterval', '10').result).toBe('Accepted');
    expect(k.getInt('MeterValueSampleInterval')).toBe(10);
    expect(k.change('StopTransactionOnInvalidId', 'FALSE').result).toBe('Accepted');
    expect(k.get('StopTransactionOnInvalidId')).toBe('false');
    expect(k.change('MeterValuesSampledData', 'voltage,Energy.Active.Import.Register').result).toBe(
      'Accepted',
    );
    expect(k.get('MeterValuesSampledData')).toBe('Voltage,Energy.Active.Import.Register');
  });

  it('says NotSupported for unknown keys and Rejected for read-only keys or bad values (TC_040)', () => {
    const k = keys();
    expect(k.change('ThisKeyDoesNotExist', '1').result).toBe('NotSupported');
    expect(k.change('NumberOfConnectors', '2').result).toBe('Rejected');
    expect(k.change('MeterValueSampleInterval', '-5').result).toBe('Rejected');
    expect(k.change('MeterValueSampleInterval', 'ten').result).toBe('Rejected');
    expect(k.change('MeterValuesSampledData', 'SoC').result).toBe('Rejected');
    expect(k.change('AuthorizeRemoteTxRequests', 'yes').result).toBe('Rejected');
    expect(k.getInt('MeterValueSampleInterval')).toBe(60);
  });

  it('takes an AuthorizationKey but never shows it; raises SecurityProfile only with credentials', () => {
    const k = keys(null, 2);
    expect(k.change('SecurityProfile', '1').reason).toBe('set AuthorizationKey first');
    expect(k.change('AuthorizationKey', 'short').result).toBe('Rejected');
    expect(k.change('AuthorizationKey', '0011223344556677889900aabbccddeeff').result).toBe('Accepted');
    expect(k.get('AuthorizationKey')).toBe('0011223344556677889900aabbccddeeff');
    expect(JSON.stringify(k.list())).not.toContain('0011223344');
    expect(k.change('SecurityProfile', '3').result).toBe('Rejected');
    expect(k.change('SecurityProfile', '2').result).toBe('Accepted');
    expect(k.change('SecurityProfile', '1').reason).toBe('a security profile can only be raised');
  });
});

describe('persistence', () => {
  it('restores changed values and the availability', () => {
    const k = keys();
    k.change('HeartbeatInterval', '120');
    k.operative = false;
    const again = keys(k.toStored());
    expect(again.getInt('HeartbeatInterval')).toBe(120);
    expect(again.operative).toBe(false);
  });

  it('lets a new YAML default win over a value changed for the old default', () => {
    const k = keys();
    k.change('MeterValueSampleInterval', '15');
    const yamlChanged = new ConfigurationKeys(
      defaultKeyValues({
        meterValueSampleIntervalS: 30,
        heartbeatIntervalS: 300,
        webSocketPingIntervalS: 30,
        securityProfile: 0,
      }),
      k.toStored(),
      { maxSecurityProfile: 1, hasConfiguredPassword: false },
    );
    expect(yamlChanged.getInt('MeterValueSampleInterval')).toBe(30);
  });

  it('ignores stored keys it no longer knows', () => {
    const k = keys({ version: 1, keys: { Gone: { value: '1', replacedDefault: '0' } } });
    expect(k.list(['Gone']).unknownKey).toEqual(['Gone']);
  });
});

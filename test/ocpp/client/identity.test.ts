import { describe, expect, it } from 'vitest';
import { basicAuthPassword, bootRequestFor, endpointFor } from '../../../src/ocpp/client/identity.js';
import { validateCall } from './frames.js';

describe('basicAuthPassword', () => {
  it('sends 16–40 bytes written as hex as those bytes in auto mode (OCTT), anything else as typed', () => {
    const hex = '00112233445566778899AABBCCDDEEFF';
    expect(basicAuthPassword(hex, 'auto')).toEqual(Buffer.from(hex, 'hex'));
    expect(basicAuthPassword(hex, 'hex')).toEqual(Buffer.from(hex, 'hex'));
    expect(basicAuthPassword(hex, 'text')).toBe(hex);
    // 15 bytes, odd length, or not hex: text.
    expect(basicAuthPassword('00112233445566778899aabbccddee', 'auto')).toBe(
      '00112233445566778899aabbccddee',
    );
    expect(basicAuthPassword(`${hex}0`, 'auto')).toBe(`${hex}0`);
    expect(basicAuthPassword('correct horse battery staple', 'hex')).toBe('correct horse battery staple');
  });
});

describe('endpointFor', () => {
  it('takes the URL as the endpoint, or cuts off a station id the user already added', () => {
    expect(endpointFor('ws://h:8180/steve/websocket/CentralSystemService/', 'BS20')).toBe(
      'ws://h:8180/steve/websocket/CentralSystemService',
    );
    expect(endpointFor('ws://h:8180/steve/websocket/CentralSystemService/BS20', 'BS20')).toBe(
      'ws://h:8180/steve/websocket/CentralSystemService',
    );
    expect(endpointFor('wss://csms.example/ocpp/DE%2A1', 'DE*1')).toBe('wss://csms.example/ocpp');
    expect(endpointFor('ws://evcc.local:8887', 'BS20')).toBe('ws://evcc.local:8887');
  });
});

describe('bootRequestFor', () => {
  it('names the charger within the 1.6 field lengths', () => {
    const request = bootRequestFor({
      manufacturer: 'Besen',
      model: 'BS20',
      serialNumber: '1122334455667788',
      firmwareVersion: 'C'.repeat(60),
      hardwareVersion: null,
      phases: 1,
      hardwareMaxCurrentA: 32,
      maxPowerW: null,
      bleAddress: null,
    });
    expect(request).toEqual({
      chargePointVendor: 'Besen',
      chargePointModel: 'BS20',
      chargePointSerialNumber: '1122334455667788',
      chargeBoxSerialNumber: '1122334455667788',
      firmwareVersion: 'C'.repeat(50),
    });
    expect(validateCall('BootNotification', request)).toEqual([]);
  });
});

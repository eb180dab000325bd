import { describe, expect, it } from 'vitest';
import { createTopics, deviceIdFor } from '../../src/homeassistant/topics.js';

describe('topics', () => {
  const topics = createTopics({ baseTopic: 'chargebridge', discoveryPrefix: 'homeassistant' });

  it('builds the documented layout', () => {
    expect(topics.chargerStateTopic('garage')).toBe('chargebridge/garage');
    expect(topics.chargerAvailabilityTopic('garage')).toBe('chargebridge/garage/availability');
    expect(topics.chargerCommandTopic('garage', 'max_current')).toBe('chargebridge/garage/set/max_current');
    expect(topics.chargerCommandTopicFilter()).toBe('chargebridge/+/set/+');
    expect(topics.chargerEventTopic('garage')).toBe('chargebridge/garage/event');
    expect(topics.bridgeStateTopic()).toBe('chargebridge/bridge/state');
    expect(topics.bridgeInfoTopic()).toBe('chargebridge/bridge/info');
    expect(topics.bridgeEventTopic()).toBe('chargebridge/bridge/event');
    expect(topics.bridgeRequestTopic('sessions/list')).toBe('chargebridge/bridge/request/sessions/list');
    expect(topics.bridgeResponseTopic('sessions/list')).toBe('chargebridge/bridge/response/sessions/list');
    expect(topics.bridgeRequestTopicFilter()).toBe('chargebridge/bridge/request/#');
    expect(topics.deviceDiscoveryTopic('chargebridge_garage')).toBe(
      'homeassistant/device/chargebridge_garage/config',
    );
    expect(topics.homeAssistantStatusTopic()).toBe('homeassistant/status');
  });

  it('parses its own command topics back', () => {
    expect(topics.parseChargerCommandTopic(topics.chargerCommandTopic('garage', 'charging'))).toEqual({
      chargerId: 'garage',
      key: 'charging',
    });
  });

  it('rejects topics that are not charger commands', () => {
    for (const topic of [
      'chargebridge/garage',
      'chargebridge/garage/set',
      'chargebridge/garage/set/',
      'chargebridge/garage/set/max_current/extra',
      'chargebridge/garage/get/max_current',
      'chargebridge/bridge/set/log_level',
      'chargebridge//set/charging',
      'chargebridge/garage/set/Max-Current',
      'other/garage/set/charging',
      'chargebridgeX/garage/set/charging',
      '',
    ]) {
      expect(topics.parseChargerCommandTopic(topic), topic).toBeNull();
    }
  });

  it('works with a nested base topic and trailing slashes', () => {
    const nested = createTopics({ baseTopic: 'home/ev/', discoveryPrefix: 'ha/' });
    expect(nested.chargerStateTopic('a')).toBe('home/ev/a');
    expect(nested.deviceDiscoveryTopic('x')).toBe('ha/device/x/config');
    expect(nested.parseChargerCommandTopic('home/ev/a/set/charging')).toEqual({
      chargerId: 'a',
      key: 'charging',
    });
    expect(nested.parseChargerCommandTopic('home/a/set/charging')).toBeNull();
  });

  it('parses bridge request names, including nested ones', () => {
    expect(topics.parseBridgeRequestTopic('chargebridge/bridge/request/restart')).toBe('restart');
    expect(topics.parseBridgeRequestTopic('chargebridge/bridge/request/sessions/export')).toBe(
      'sessions/export',
    );
    expect(topics.parseBridgeRequestTopic('chargebridge/bridge/request/')).toBeNull();
    expect(topics.parseBridgeRequestTopic('chargebridge/bridge/request/a//b')).toBeNull();
    expect(topics.parseBridgeRequestTopic('chargebridge/bridge/response/restart')).toBeNull();
  });

  it('derives discovery-safe device ids', () => {
    expect(deviceIdFor('garage')).toBe('chargebridge_garage');
    expect(deviceIdFor('car port.1')).toBe('chargebridge_car_port_1');
    expect(deviceIdFor('car port.1')).toMatch(/^[a-zA-Z0-9_-]+$/);
  });
});

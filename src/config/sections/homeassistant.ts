/** `homeassistant:` — MQTT discovery for Home Assistant. */
import { z } from 'zod';
import { flag, oneOf, topic, wholeNumber } from '../fields.js';

export const homeAssistantSection = z
  .strictObject({
    enabled: flag().default(true),
    discovery_prefix: topic().default('homeassistant'),
    // HA publishes `online` here when it (re)starts; we then re-send discovery and states.
    status_topic: topic().default('homeassistant/status'),
    // Measurements from the charger turn unavailable when not refreshed for this long; 0 = never.
    expire_after_s: wholeNumber(0, 86_400, 'seconds').default(60),
    // Device triggers (the automation editor's "device" triggers) next to the event entities.
    device_triggers: flag().default(true),
    // MQTT `datetime` entities need Home Assistant 2026.5+; older versions reject the whole device.
    scheduled_start_entity: oneOf(['datetime', 'text']).default('datetime'),
  })
  .prefault({});

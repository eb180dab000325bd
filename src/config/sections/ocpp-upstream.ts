/**
 * `chargers[].ocpp_upstream` of a BS20: present the charger to an OCPP 1.6J central system
 * (SteVe, a company backend, evcc, chargebridge's own server) as a charge point. Rules that span
 * keys (security profile vs URL scheme and password) are checked here so the message names the fix.
 */
import { z } from 'zod';
import {
  EVEN_WITH_ERRORS,
  flag,
  oneOf,
  oneOfNumbers,
  pattern,
  reportAt,
  text,
  wholeNumber,
} from '../fields.js';

const URL_RULE =
  'must be a websocket URL starting with ws:// or wss://, e.g. ws://192.168.1.20:8180/steve/websocket/CentralSystemService';

function centralSystemUrl() {
  return text(2048, URL_RULE).refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'ws:' || url.protocol === 'wss:') && url.hostname !== '';
      } catch {
        return false;
      }
    },
    { error: URL_RULE },
  );
}

const STATION_ID_RULE =
  'must be the charge point id registered in the central system: 1 to 48 printable characters without spaces, "/", "?" or "#"';

export const ocppUpstreamSection = z
  .strictObject({
    enabled: flag().default(true),
    url: centralSystemUrl(),
    // Default: the charger's id.
    station_id: pattern(/^[\x21-\x7e]{1,48}$/, STATION_ID_RULE)
      .refine((id) => !/[/?#]/.test(id), { error: STATION_ID_RULE })
      .optional(),
    security_profile: oneOfNumbers([0, 1, 2]).default(0),
    password: text(255).optional(),
    password_encoding: oneOf(['auto', 'hex', 'text']).default('auto'),
    tls: z
      .strictObject({
        // A file path, relative to the config file's folder.
        ca: text(4096, 'must be a file path').optional(),
        reject_unauthorized: flag().default(true),
      })
      .optional(),
    id_tag: text(20, 'must be an idTag of 1 to 20 characters').default('chargebridge'),
    meter_value_sample_interval_s: wholeNumber(0, 3600, 'seconds').default(60),
    heartbeat_interval_s: wholeNumber(0, 86_400, 'seconds').default(300),
    ping_interval_s: wholeNumber(0, 3600, 'seconds').default(30),
    call_timeout_s: wholeNumber(5, 300, 'seconds').default(30),
    reconnect_max_delay_s: wholeNumber(1, 3600, 'seconds').default(60),
  })
  .superRefine((upstream, check) => {
    const url = typeof upstream.url === 'string' ? upstream.url : '';
    // A URL that is not ws/wss at all already has its own message.
    const scheme = /^wss:\/\//i.test(url) ? 'wss:' : /^ws:\/\//i.test(url) ? 'ws:' : null;
    const profile = upstream.security_profile;
    // An invalid profile already has its own message; the rules below would only add noise.
    if (profile !== 0 && profile !== 1 && profile !== 2) return;
    if (profile === 2 && scheme === 'ws:') {
      reportAt(check, ['url'], 'must start with wss:// for security_profile 2 (TLS)');
    }
    if (profile === 0 && upstream.password !== undefined) {
      reportAt(
        check,
        ['password'],
        'is only sent with security_profile 1 or 2; set security_profile: 1 or remove it',
      );
    }
    if (profile !== 0 && upstream.password === undefined) {
      reportAt(
        check,
        ['password'],
        `is required for security_profile ${profile}: the password (AuthorizationKey) the central system has for this station`,
      );
    }
    if (upstream.tls !== undefined && scheme === 'ws:') {
      reportAt(check, ['tls'], 'needs an encrypted central system URL (wss://)');
    }
  }, EVEN_WITH_ERRORS);

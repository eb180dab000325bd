/**
 * `ocpp_server:` — chargebridge's own OCPP 1.6J central system. Chargers with OCPP firmware (a BS20
 * with the OCPP app, any wallbox with an "OCPP backend URL" setting) connect to
 * `ws://<host>:<port><path>/<identity>` and appear in Home Assistant like a Bluetooth BS20. Rules
 * that span keys (profile vs passwords and TLS files, unique ids) are checked here so the message
 * names the fix.
 */
import { z } from 'zod';
import type { SchemaContext } from '../context.js';
import {
  EVEN_WITH_ERRORS,
  EVEN_WITH_ERRORS_IN_LIST,
  existingFile,
  flag,
  oneOf,
  oneOfNumbers,
  pattern,
  reportAt,
  text,
  wholeNumber,
} from '../fields.js';
import { chargerId, MAX_CURRENT_RANGE_A } from './bs20.js';
import { switchingSection } from './switching.js';

const IDENTITY_RULE =
  'must be the charge point id the station puts at the end of its URL: 1 to 48 printable characters without spaces, "/", "?" or "#"';

const station = z.strictObject({
  // chargebridge's id (MQTT topics, entity ids); connectors 2… get `<id>_<n>`.
  id: chargerId(),
  // Default: the id. The station's own chargeBoxId when it differs (case matters).
  identity: pattern(/^[\x21-\x7e]{1,48}$/, IDENTITY_RULE)
    .refine((id) => !/[/?#]/.test(id), { error: IDENTITY_RULE })
    .optional(),
  name: text(64).optional(),
  // In clear, or `sha256:<hex>` / `scrypt:<salt>:<key>` (see docs/ocpp-server.md).
  password: text(512).optional(),
  max_current: wholeNumber(MAX_CURRENT_RANGE_A.min, MAX_CURRENT_RANGE_A.max, 'amps').default(16),
  // Unset: learnt from the meter values (per-phase readings on L2/L3 mean 3).
  phases: oneOfNumbers([1, 3]).optional(),
  connectors: wholeNumber(1, 8).default(1),
  // Unset: ocpp_server.ping_interval_s.
  ping_interval_s: wholeNumber(0, 3600, 'seconds').optional(),
  // Unset: the defaults of core/switching-rules.ts (each connector is switched on its own).
  switching: switchingSection,
});

function checkStations(stations: unknown[], check: z.RefinementCtx): void {
  const ids = new Map<string, number>();
  const identities = new Map<string, number>();
  stations.forEach((entry, index) => {
    const s = entry as { id?: unknown; identity?: unknown; connectors?: unknown } | null;
    if (typeof s?.id !== 'string') return;
    const connectors = typeof s.connectors === 'number' ? s.connectors : 1;
    // Connector n ≥ 2 of a station becomes its own charger `<id>_<n>`.
    const claimed = [
      s.id,
      ...Array.from({ length: Math.max(0, connectors - 1) }, (_, i) => `${s.id}_${i + 2}`),
    ];
    for (const id of claimed) {
      const first = ids.get(id);
      if (first !== undefined && first !== index) {
        reportAt(
          check,
          [index, 'id'],
          `"${id}" is already used by stations[${first}]; each charger needs its own id`,
        );
      }
      ids.set(id, index);
    }
    const identity = typeof s.identity === 'string' ? s.identity : s.id;
    const firstIdentity = identities.get(identity);
    if (firstIdentity !== undefined) {
      reportAt(
        check,
        [index, 'identity'],
        `"${identity}" is already used by stations[${firstIdentity}]; one station, one entry`,
      );
    }
    identities.set(identity, index);
  });
}

const tlsFiles = (ctx: SchemaContext) =>
  z.strictObject({
    cert: existingFile(ctx.configDir, ctx.fileExists),
    key: existingFile(ctx.configDir, ctx.fileExists),
  });

export function ocppServerSection(ctx: SchemaContext) {
  return z
    .strictObject({
      enabled: flag().default(false),
      host: text(
        253,
        'must be the address to listen on, e.g. 0.0.0.0 (all interfaces) or 192.168.1.5',
      ).default('0.0.0.0'),
      port: wholeNumber(1, 65535).default(9000),
      path: pattern(
        /^\/[A-Za-z0-9._~\-/]{0,63}$/,
        'must be a URL path starting with "/", e.g. /ocpp',
      ).default('/ocpp'),
      security_profile: oneOfNumbers([0, 1, 2]).default(0),
      tls: tlsFiles(ctx).optional(),
      unknown_stations: oneOf(['reject', 'pending', 'accept']).default('pending'),
      heartbeat_interval_s: wholeNumber(10, 86_400, 'seconds').default(300),
      ping_interval_s: wholeNumber(0, 3600, 'seconds').default(30),
      call_timeout_s: wholeNumber(5, 300, 'seconds').default(30),
      default_id_tag: text(20, 'must be an idTag of 1 to 20 characters').default('chargebridge'),
      accept_unknown_id_tags: flag().default(false),
      stations: z
        .array(station, { error: 'must be a list of stations (each entry starting with "- id: …")' })
        .superRefine(checkStations, EVEN_WITH_ERRORS_IN_LIST)
        .default([]),
    })
    .superRefine((server, check) => {
      const profile = server.security_profile;
      const stations = Array.isArray(server.stations) ? server.stations : [];
      if (profile === 2 && server.tls === undefined) {
        reportAt(check, ['tls'], 'is required for security_profile 2: give tls.cert and tls.key (PEM files)');
      }
      if (profile !== 2 && server.tls !== undefined) {
        reportAt(
          check,
          ['tls'],
          'is only used with security_profile 2; set security_profile: 2 or remove it',
        );
      }
      stations.forEach((s, index) => {
        if (profile !== 0 && s?.password === undefined) {
          reportAt(
            check,
            ['stations', index, 'password'],
            `is required for security_profile ${profile}: the station's Basic-auth password (AuthorizationKey)`,
          );
        }
      });
    }, EVEN_WITH_ERRORS)
    .transform((server) => ({
      ...server,
      stations: server.stations.map((s) => ({ ...s, identity: s.identity ?? s.id, name: s.name ?? s.id })),
    }))
    .prefault({});
}

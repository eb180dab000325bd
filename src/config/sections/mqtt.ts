/**
 * `mqtt:` — either the embedded broker (default: nothing to install) or an external broker given
 * by `url`. Rules that span keys live in one refinement so the messages can name the fix.
 */
import { z } from 'zod';
import type { SchemaContext } from '../context.js';
import {
  EVEN_WITH_ERRORS,
  existingFile,
  flag,
  oneOf,
  reportAt,
  ruleError,
  text,
  topicLevel,
  wholeNumber,
} from '../fields.js';

const URL_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];
const URL_RULE =
  'must be a broker URL starting with mqtt://, mqtts://, ws:// or wss://, e.g. mqtt://192.168.1.10:1883';

function brokerUrl() {
  return text(2048, URL_RULE).refine(
    (value) => {
      try {
        const url = new URL(value);
        return URL_SCHEMES.includes(url.protocol) && url.hostname !== '';
      } catch {
        return false;
      }
    },
    { error: URL_RULE },
  );
}

const embeddedBroker = z
  .strictObject({
    // Undefined here means "decide from mqtt.url" (see the mqtt transform below).
    enabled: flag().optional(),
    host: text(253, 'must be the address to listen on, e.g. 0.0.0.0 (all interfaces) or 127.0.0.1').default(
      '0.0.0.0',
    ),
    port: wholeNumber(1, 65535).default(1883),
    username: text(256).optional(),
    password: text(256).optional(),
    // Off by default: without a configured login the daemon creates one (data_dir/mqtt-login.json).
    allow_anonymous: flag().default(false),
    persist_retained: flag().default(true),
    // Bounds on what other clients can make the broker keep (memory and disk).
    retained_max_message_bytes: wholeNumber(1024, 268_435_455, 'bytes').default(1_048_576),
    retained_max_total_bytes: wholeNumber(65_536, 4_294_967_295, 'bytes').default(67_108_864),
  })
  .prefault({});

/** Which MQTT version the daemon's own client speaks to an external broker. */
export const MQTT_PROTOCOL_VERSIONS = ['auto', '5', '3.1.1'] as const;

function tlsOptions(ctx: SchemaContext) {
  return z.strictObject({
    ca: existingFile(ctx.configDir, ctx.fileExists).optional(),
    cert: existingFile(ctx.configDir, ctx.fileExists).optional(),
    key: existingFile(ctx.configDir, ctx.fileExists).optional(),
    reject_unauthorized: flag().default(true),
  });
}

export function mqttSection(ctx: SchemaContext) {
  return z
    .strictObject({
      embedded_broker: embeddedBroker,
      url: brokerUrl().optional(),
      username: text(256).optional(),
      password: text(256).optional(),
      client_id: text(128, 'must be an MQTT client id of 1 to 128 characters').optional(),
      tls: tlsOptions(ctx).optional(),
      base_topic: topicLevel().default('chargebridge'),
      keepalive_s: wholeNumber(0, 65535, 'seconds').default(60),
      // auto: MQTT 5, and 3.1.1 only when the broker refuses 5 (said in the log).
      // `5` unquoted is a YAML number; it means the same as '5'.
      protocol_version: z
        .union([oneOf(MQTT_PROTOCOL_VERSIONS), z.literal(5).transform(() => '5' as const)], {
          error: ruleError(`must be one of: ${MQTT_PROTOCOL_VERSIONS.join(', ')}`),
        })
        .default('auto'),
      reconnect_period_ms: wholeNumber(100, 3_600_000, 'milliseconds').default(5000),
    })
    .superRefine((mqtt, check) => {
      const external = typeof mqtt.url === 'string';
      const broker = mqtt.embedded_broker ?? {};
      if (external && broker.enabled === true) {
        reportAt(
          check,
          ['embedded_broker', 'enabled'],
          'cannot be true while mqtt.url is set: chargebridge uses either its own broker or yours; remove one of them',
        );
      }
      if (!external && broker.enabled === false) {
        reportAt(
          check,
          ['url'],
          'is required when mqtt.embedded_broker.enabled is false: give the address of your broker, e.g. mqtt://192.168.1.10:1883',
        );
      }
      if (!external) {
        for (const key of ['username', 'password', 'client_id', 'tls'] as const) {
          if (mqtt[key] === undefined) continue;
          reportAt(
            check,
            [key],
            key === 'username' || key === 'password'
              ? `is only used with an external broker (mqtt.url); to protect the embedded broker set mqtt.embedded_broker.${key}`
              : 'is only used with an external broker (mqtt.url)',
          );
        }
      }
      if (external && mqtt.tls !== undefined && !/^(mqtts|wss):/i.test(String(mqtt.url))) {
        reportAt(check, ['tls'], 'needs an encrypted broker URL (mqtts:// or wss://) in mqtt.url');
      }
      const tls: { cert?: string; key?: string } = mqtt.tls ?? {};
      if ((tls.cert === undefined) !== (tls.key === undefined)) {
        reportAt(
          check,
          ['tls', tls.cert === undefined ? 'cert' : 'key'],
          'is required: a client certificate needs both tls.cert and tls.key',
        );
      }
      if ((broker.username === undefined) !== (broker.password === undefined)) {
        reportAt(
          check,
          ['embedded_broker', broker.username === undefined ? 'username' : 'password'],
          'is required: the embedded broker needs both username and password, or neither',
        );
      }
    }, EVEN_WITH_ERRORS)
    .transform(({ embedded_broker: { enabled, ...broker }, ...mqtt }) => ({
      embedded_broker: { enabled: enabled ?? mqtt.url === undefined, ...broker },
      ...mqtt,
    }))
    .prefault({});
}

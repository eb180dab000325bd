/**
 * `/healthz`: healthy while the daemon runs and MQTT is connected (without MQTT, Home Assistant sees
 * nothing, and a restart may help). A charger out of range does not make the daemon unhealthy: a
 * restart cannot bring it back, so its link is listed for information only.
 *
 * The route answers without the token (Docker HEALTHCHECK, systemd, uptime monitors), so the body
 * holds only what is safe to show anyone who can reach the port: no versions, no addresses, no
 * error texts (they can name hosts), and no charging or plug state (it tells whether a car is home).
 */
import type { Charger, ChargerKind, LinkState } from '../core/charger.js';
import type { ConnectionState } from '../mqtt/connection.js';
import type { MqttStatus } from './providers.js';

export interface HealthBody {
  status: 'ok' | 'unavailable';
  /** Why the daemon is unavailable; empty when ok. */
  reasons: string[];
  uptime_s: number;
  mqtt: { connected: boolean; state: ConnectionState | 'none' };
  chargers: Array<{ id: string; kind: ChargerKind; link: LinkState }>;
}

export interface HealthReport {
  healthy: boolean;
  body: HealthBody;
}

const MQTT_REASONS: Record<ConnectionState, string> = {
  idle: 'mqtt: not connected yet',
  connecting: 'mqtt: connecting to the broker',
  connected: '',
  reconnecting: 'mqtt: connection to the broker lost; reconnecting',
  refused: 'mqtt: the broker refused our credentials',
  closed: 'mqtt: connection closed (shutting down)',
};

export function healthReport(input: {
  mqtt: MqttStatus | null;
  chargers: readonly Charger[];
  uptimeS: number;
}): HealthReport {
  const reasons: string[] = [];
  const { mqtt } = input;
  if (mqtt && !mqtt.isConnected) reasons.push(MQTT_REASONS[mqtt.state] || `mqtt: ${mqtt.state}`);
  const healthy = reasons.length === 0;
  return {
    healthy,
    body: {
      status: healthy ? 'ok' : 'unavailable',
      reasons,
      uptime_s: Math.max(0, Math.floor(input.uptimeS)),
      mqtt: mqtt ? { connected: mqtt.isConnected, state: mqtt.state } : { connected: false, state: 'none' },
      chargers: input.chargers.map((c) => ({ id: c.id, kind: c.kind, link: c.getState().link })),
    },
  };
}

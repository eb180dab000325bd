/**
 * Everything `/metrics` shows, gathered at scrape time: the daemon itself, the chargers and their
 * links, the MQTT connection, and whatever optional providers (sessions, OCPP) are plugged in.
 */
import type { Charger } from '../core/charger.js';
import { chargerFamilies, linkFamilies } from './charger-metrics.js';
import type { ProcessMetrics } from './process-metrics.js';
import type { MetricFamily } from './prometheus.js';
import type {
  ChargerSessionMetrics,
  MqttStatus,
  OcppCounters,
  OcppMetricsProvider,
  SessionMetricsProvider,
} from './providers.js';

export interface MetricsSources {
  chargers: readonly Charger[];
  mqtt: MqttStatus | null;
  sessions?: SessionMetricsProvider | undefined;
  ocpp?: readonly OcppMetricsProvider[] | undefined;
  process?: ProcessMetrics | undefined;
  version: string;
  uptimeS: number;
}

export async function collectMetrics(sources: MetricsSources): Promise<MetricFamily[]> {
  const sessions = sources.sessions ? await sources.sessions.sessionMetrics() : null;
  return [
    {
      name: 'chargebridge_info',
      help: 'Always 1; the version label says which chargebridge runs',
      type: 'gauge',
      samples: [{ labels: { version: sources.version }, value: 1 }],
    },
    gauge('chargebridge_uptime_seconds', 'Seconds since the daemon started', sources.uptimeS),
    ...chargerFamilies(sources.chargers),
    ...linkFamilies(sources.chargers),
    ...mqttFamilies(sources.mqtt),
    ...(sessions ? sessionFamilies(sessions) : []),
    ...ocppFamilies((sources.ocpp ?? []).map((p) => p.ocppCounters())),
    ...(sources.process?.families() ?? []),
  ];
}

function gauge(name: string, help: string, value: number): MetricFamily {
  return { name, help, type: 'gauge', samples: [{ value }] };
}

function counter(name: string, help: string, value: number): MetricFamily {
  return { name, help, type: 'counter', samples: [{ value }] };
}

function mqttFamilies(mqtt: MqttStatus | null): MetricFamily[] {
  if (!mqtt) return [];
  const c = mqtt.counters();
  return [
    gauge('chargebridge_mqtt_connected', '1 while connected to the MQTT broker', mqtt.isConnected ? 1 : 0),
    counter('chargebridge_mqtt_messages_published_total', 'Messages handed to the broker', c.published),
    counter('chargebridge_mqtt_messages_received_total', 'Messages received from the broker', c.received),
    counter(
      'chargebridge_mqtt_reconnects_total',
      'Reconnects to the broker after the first connect',
      c.reconnects,
    ),
    counter(
      'chargebridge_mqtt_publish_failures_total',
      'Publishes that failed or were dropped',
      c.publishFailures,
    ),
    gauge('chargebridge_mqtt_queued_messages', 'Publishes waiting for the broker', c.queued),
  ];
}

function sessionFamilies(rows: readonly ChargerSessionMetrics[]): MetricFamily[] {
  const per = (value: (r: ChargerSessionMetrics) => number | null) =>
    rows.flatMap((r) => {
      const v = value(r);
      return v === null ? [] : [{ labels: { charger: r.chargerId }, value: v }];
    });
  return [
    {
      name: 'chargebridge_sessions_completed_total',
      help: 'Charging sessions completed (in the session store)',
      type: 'counter',
      samples: per((r) => r.completedSessions),
    },
    {
      name: 'chargebridge_sessions_energy_kwh_total',
      help: 'Energy of the completed charging sessions',
      type: 'counter',
      samples: per((r) => r.completedEnergyKwh),
    },
    {
      name: 'chargebridge_session_active',
      help: '1 while a charging session is open',
      type: 'gauge',
      samples: per((r) => (r.active ? 1 : 0)),
    },
    {
      name: 'chargebridge_session_energy_kwh',
      help: 'Energy of the open charging session so far',
      type: 'gauge',
      samples: per((r) => (r.active ? r.activeEnergyKwh : null)),
    },
  ];
}

/** Providers of the same role (several upstream clients) are added up into one series. */
function ocppFamilies(all: readonly OcppCounters[]): MetricFamily[] {
  const byRole = new Map<string, OcppCounters>();
  for (const c of all) {
    const sum = byRole.get(c.role);
    byRole.set(
      c.role,
      sum
        ? {
            role: c.role,
            connections: sum.connections + c.connections,
            messagesReceived: sum.messagesReceived + c.messagesReceived,
            messagesSent: sum.messagesSent + c.messagesSent,
          }
        : { ...c },
    );
  }
  const rows = [...byRole.values()];
  const per = (value: (c: OcppCounters) => number) =>
    rows.map((c) => ({ labels: { role: c.role }, value: value(c) }));
  return [
    {
      name: 'chargebridge_ocpp_connections',
      help: 'Server: stations connected to our central system. Client: open upstream connections',
      type: 'gauge',
      samples: per((c) => c.connections),
    },
    {
      name: 'chargebridge_ocpp_messages_received_total',
      help: 'OCPP messages received',
      type: 'counter',
      samples: per((c) => c.messagesReceived),
    },
    {
      name: 'chargebridge_ocpp_messages_sent_total',
      help: 'OCPP messages sent',
      type: 'counter',
      samples: per((c) => c.messagesSent),
    },
  ];
}

/**
 * What the HTTP endpoint reads from the rest of the daemon. Everything but the chargers is optional:
 * the daemon plugs in the session tracker, the session export and the OCPP server/client when they
 * exist, and the endpoint leaves out (or answers 404 for) what is missing.
 */
import type { Charger } from '../core/charger.js';
import type { ConnectionState, MqttConnectionCounters } from '../mqtt/connection.js';

/** The daemon's MQTT connection as health and metrics see it (`MqttConnection` fits as is). */
export interface MqttStatus {
  readonly state: ConnectionState;
  readonly isConnected: boolean;
  counters(): MqttConnectionCounters;
}

/** Running totals of a charger's link (`Bs20Charger.linkCounters()` returns these for BLE). */
export interface LinkCounters {
  reconnects: number;
  linkLosses: number;
  framesReceived: number;
  badFrames: number;
  discardedBytes: number;
  malformedMessages: number;
  commandsSent: number;
  commandsFailed: number;
  commandsTimedOut: number;
}

/** Optional capability of a Charger: counters of the link underneath. */
export interface ChargerWithLinkCounters extends Charger {
  linkCounters(): LinkCounters;
}

export function hasLinkCounters(charger: Charger): charger is ChargerWithLinkCounters {
  return typeof (charger as Partial<ChargerWithLinkCounters>).linkCounters === 'function';
}

/** One charger's sessions, for `chargebridge_sessions_*`. */
export interface ChargerSessionMetrics {
  chargerId: string;
  /** Closed sessions in the store. */
  completedSessions: number;
  /** Energy of those closed sessions. */
  completedEnergyKwh: number;
  /** A session is open right now. */
  active: boolean;
  /** Energy of the open session so far; null when none is open or it is not known yet. */
  activeEnergyKwh: number | null;
}

/** Implemented by (an adapter over) the session tracker. */
export interface SessionMetricsProvider {
  sessionMetrics(): readonly ChargerSessionMetrics[] | Promise<readonly ChargerSessionMetrics[]>;
}

/** Counters of one OCPP side: our central system (`server`) or the upstream client (`client`). */
export interface OcppCounters {
  role: 'server' | 'client';
  /** Server: stations connected now. Client: upstream connections that are open now. */
  connections: number;
  messagesReceived: number;
  messagesSent: number;
}

/** Implemented by the OCPP server and the OCPP client; several providers of one role are summed. */
export interface OcppMetricsProvider {
  ocppCounters(): OcppCounters;
}

export type SessionExportFormat = 'csv' | 'json';

/** A validated `/sessions/export` request; null means "no filter". */
export interface SessionExportQuery {
  format: SessionExportFormat;
  /** `YYYY-MM`, local month of the session start. */
  month: string | null;
  user: string | null;
  charger: string | null;
}

/**
 * Turns a query into the export text (CSV with CRLF lines, or JSON). The HTTP side sets the
 * content type and file name. A thrown error becomes a 500 with a generic message (logged in full).
 */
export interface SessionExportProvider {
  exportSessions(query: SessionExportQuery): string | Promise<string>;
}

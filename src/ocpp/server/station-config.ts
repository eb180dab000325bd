/**
 * What the central system needs to know about a station, independent of the YAML layout (the
 * daemon maps `ocpp_server.stations` to this), and the ids its connectors get as Chargers.
 */
import { StationPassword } from './passwords.js';

export interface StationConfig {
  /** chargebridge id of connector 1 (MQTT topics, entity ids); connector n ≥ 2 is `<id>_<n>`. */
  id: string;
  /** The OCPP chargeBoxId: the last path segment of the URL the station connects to. */
  identity: string;
  name: string;
  /** Configured password (clear, `sha256:` or `scrypt:` form); null = no Basic auth for it. */
  password: string | null;
  /** Ceiling for current limits, amps. */
  maxCurrentA: number;
  /** null: learnt from the meter values (1 until L2/L3 readings arrive). */
  phases: 1 | 3 | null;
  /** Connectors exposed as Chargers (1 for a home wallbox). */
  connectors: number;
  /** Server-side websocket ping for this station; null = the server's setting; 0 = off. */
  pingIntervalS: number | null;
}

export function connectorChargerId(stationId: string, connectorId: number): string {
  return connectorId === 1 ? stationId : `${stationId}_${connectorId}`;
}

/** A charger id for a station that is not in the config (`unknown_stations: accept`). */
export function idForIdentity(identity: string): string {
  const slug = identity
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 28);
  return `ocpp_${slug || 'station'}`;
}

export interface StationEntry {
  config: StationConfig;
  password: StationPassword | null;
}

/** Looks stations up by identity (case-sensitive: chargeBoxIds are compared as sent). */
export class StationDirectory {
  private readonly byIdentity = new Map<string, StationEntry>();

  constructor(stations: readonly StationConfig[]) {
    for (const config of stations) {
      if (this.byIdentity.has(config.identity))
        throw new Error(`two stations have the identity '${config.identity}'`);
      this.byIdentity.set(config.identity, {
        config,
        password: config.password === null ? null : new StationPassword(config.password),
      });
    }
  }

  get(identity: string): StationEntry | undefined {
    return this.byIdentity.get(identity);
  }

  all(): StationEntry[] {
    return [...this.byIdentity.values()];
  }
}

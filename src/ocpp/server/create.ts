/**
 * Builds the central system from the `ocpp_server` config: the transaction ledger in the data
 * directory, the idTag authorizer over the configured users, the TLS files, and one station per
 * entry, plus the stations an earlier run accepted by policy. The daemon adds `chargers()` to its list
 * before Home Assistant starts, and follows `chargers_added` for stations accepted while it runs;
 * both hand out each connector behind its station's switching rules (core/switching-guard.ts).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { OcppServerConfig } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import { guardCharger } from '../../core/switching-guard.js';
import { type SwitchingRules, switchingRulesFrom } from '../../core/switching-rules.js';
import type { Logger } from '../../log.js';
import type { UserConfig } from '../../sessions/users.js';
import { ACCEPTED_STATIONS_FILE, AcceptedStations } from './accepted-stations.js';
import { createUserAuthorizer } from './authorizer.js';
import { OcppCentralSystem } from './central-system.js';
import type { OcppStationCharger } from './station-charger.js';
import { connectorChargerId, type StationConfig } from './station-config.js';
import { TransactionLedger } from './transactions.js';

export interface CentralSystemBuildDeps {
  config: OcppServerConfig;
  users: readonly UserConfig[];
  dataDir: string;
  /** Ids already taken by other chargers (a clash is a configuration error naming both). */
  takenIds: readonly string[];
  clock: Clock;
  logger: Logger;
}

export const LEDGER_FILE = 'ocpp-transactions.json';

export function stationConfigs(config: OcppServerConfig): StationConfig[] {
  return config.stations.map((s) => ({
    id: s.id,
    identity: s.identity,
    name: s.name,
    password: s.password ?? null,
    maxCurrentA: s.maxCurrent,
    phases: s.phases ?? null,
    connectors: s.connectors,
    pingIntervalS: s.pingIntervalS ?? null,
  }));
}

/** Switching rules per connector charger id; stations accepted by policy get the defaults. */
export function stationSwitchingRules(config: OcppServerConfig): (chargerId: string) => SwitchingRules {
  const byId = new Map<string, SwitchingRules>();
  for (const s of config.stations) {
    const rules = switchingRulesFrom(s.switching);
    for (let n = 1; n <= s.connectors; n++) byId.set(connectorChargerId(s.id, n), rules);
  }
  const defaults = switchingRulesFrom(undefined);
  return (chargerId) => byId.get(chargerId) ?? defaults;
}

export async function createCentralSystem(deps: CentralSystemBuildDeps): Promise<OcppCentralSystem> {
  const { config, clock, logger } = deps;
  const stations = stationConfigs(config);
  const rulesFor = stationSwitchingRules(config);
  const taken = new Set(deps.takenIds);
  for (const station of stations) {
    for (let n = 1; n <= station.connectors; n++) {
      const id = connectorChargerId(station.id, n);
      if (taken.has(id)) {
        throw new Error(
          `ocpp_server.stations: the charger id '${id}' is also used in chargers:; give the station another id`,
        );
      }
    }
  }
  const ledger = await TransactionLedger.open({ path: path.join(deps.dataDir, LEDGER_FILE), clock, logger });
  const accepted = await AcceptedStations.open({
    path: path.join(deps.dataDir, ACCEPTED_STATIONS_FILE),
    nowMs: clock.now(),
    logger,
  });
  const tls =
    config.securityProfile === 2 && config.tls
      ? { cert: await readFile(config.tls.cert), key: await readFile(config.tls.key) }
      : undefined;
  return new OcppCentralSystem({
    host: config.host,
    port: config.port,
    path: config.path,
    securityProfile: config.securityProfile,
    ...(tls ? { tls } : {}),
    unknownStations: config.unknownStations,
    stations,
    heartbeatIntervalS: config.heartbeatIntervalS,
    pingIntervalS: config.pingIntervalS,
    callTimeoutS: config.callTimeoutS,
    ledger,
    accepted,
    takenIds: deps.takenIds,
    authorizer: createUserAuthorizer({
      users: deps.users,
      defaultIdTag: config.defaultIdTag,
      acceptUnknown: config.acceptUnknownIdTags,
    }),
    guardCharger: (charger: OcppStationCharger) => guardCharger(charger, rulesFor(charger.id), clock, logger),
    clock,
    logger,
  });
}

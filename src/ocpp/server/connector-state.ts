/**
 * Pure: the facts the central system knows about one connector (link, last status, newest meter
 * readings, the current or last transaction, the limit we set) → the core ChargerState, and the
 * discrete events between two states. Recomputed from the facts on every change, so the order in
 * which a charger sends Status, MeterValues and Start/StopTransaction does not matter.
 */
import type {
  ChargerEvent,
  ChargerSession,
  ChargerState,
  LinkState,
  PhaseReading,
} from '../../core/charger.js';
import { emptyReading, isPlausibleRegisterWh, type MeterReading } from './meter-values.js';
import { type ConnectorStatus, errorNames, meaningOf } from './status.js';

export interface TransactionView {
  id: number;
  idTag: string;
  /** Configured user of the tag (or the one a remote start was made for). */
  user: string | null;
  /** false for our own default tag: it names nobody, so the session tracker should not see it. */
  reportIdTag: boolean;
  startedAt: number;
  meterStartWh: number;
  stoppedAt: number | null;
  meterStopWh: number | null;
  stopReason: string | null;
}

export interface ConnectorFacts {
  connectorId: number;
  link: LinkState;
  /** Epoch ms of the last frame from the station (Home Assistant's "last seen"). */
  lastSeenAt: number;
  status: ConnectorStatus | null;
  /** Connector 0: the whole station (Unavailable / Faulted apply to every connector). */
  stationStatus: ConnectorStatus | null;
  meter: MeterReading;
  /** Current or last transaction on this connector. */
  transaction: TransactionView | null;
  /** The limit we last had accepted (SetChargingProfile), amps. */
  limitA: number | null;
  phases: 1 | 3;
  /** The station has been connected at least once since we started. */
  everOnline: boolean;
  /** A StopTransaction came after the last StatusNotification (which may still say Charging). */
  stoppedSinceStatus: boolean;
}

export function initialFacts(connectorId: number, phases: 1 | 3, now: number): ConnectorFacts {
  return {
    connectorId,
    link: 'offline',
    lastSeenAt: now,
    status: null,
    stationStatus: null,
    meter: emptyReading(),
    transaction: null,
    limitA: null,
    phases,
    stoppedSinceStatus: false,
    everOnline: false,
  };
}

/** Newest readings win, but the lifetime register never goes down (Energy dashboard). */
export function mergeReading(old: MeterReading, next: MeterReading): MeterReading {
  const pick = <T>(a: T | null, b: T | null): T | null => (b !== null ? b : a);
  const energy =
    old.energyImportWh !== null && next.energyImportWh !== null
      ? Math.max(old.energyImportWh, next.energyImportWh)
      : pick(old.energyImportWh, next.energyImportWh);
  const phases = (a: MeterReading['currentPhaseA'], b: MeterReading['currentPhaseA']) =>
    a.map((v, i) => pick(v, b[i] ?? null)) as MeterReading['currentPhaseA'];
  return {
    at: pick(old.at, next.at),
    energyImportWh: energy,
    powerImportW: pick(old.powerImportW, next.powerImportW),
    currentPhaseA: phases(old.currentPhaseA, next.currentPhaseA),
    currentA: pick(old.currentA, next.currentA),
    voltagePhaseV: phases(old.voltagePhaseV, next.voltagePhaseV),
    voltageV: pick(old.voltageV, next.voltageV),
    currentOfferedA: pick(old.currentOfferedA, next.currentOfferedA),
    powerOfferedW: pick(old.powerOfferedW, next.powerOfferedW),
    temperatureC: pick(old.temperatureC, next.temperatureC),
    socPercent: pick(old.socPercent, next.socPercent),
  };
}

export function deriveState(facts: ConnectorFacts, previous: ChargerState, now: number): ChargerState {
  const tx = facts.transaction;
  const txOpen = tx !== null && tx.stoppedAt === null;
  let own = facts.status
    ? meaningOf(facts.status.status, txOpen)
    : { plugged: txOpen, charging: false, status: txOpen ? ('suspended' as const) : ('available' as const) };
  // The transaction ended; the Finishing/Available status is on its way.
  if (facts.stoppedSinceStatus && own.charging) own = { plugged: true, charging: false, status: 'finished' };
  let status = own.status;
  const station = facts.stationStatus?.status;
  if (station === 'Faulted') status = 'error';
  else if (station === 'Unavailable' && !own.charging) status = 'offline';
  if (facts.link !== 'online') status = 'offline';
  const { meter } = facts;
  const energyWh = maxOf(
    meter.energyImportWh,
    tx?.meterStartWh ?? null,
    tx?.meterStopWh ?? null,
    previous.energyTotalKwh === null ? null : previous.energyTotalKwh * 1000,
  );
  const phases = phaseReadings(meter, facts.phases);
  const measuredPowerW = meter.powerImportW ?? sumPower(phases);
  const offered = meter.currentOfferedA;
  return {
    link: facts.link,
    status,
    plugged: own.plugged,
    charging: own.charging,
    powerW: own.charging ? measuredPowerW : facts.link === 'online' ? 0 : previous.powerW,
    energyTotalKwh: energyWh === null ? null : energyWh / 1000,
    phases,
    temperatureInnerC: meter.temperatureC,
    temperatureOuterC: null,
    maxCurrentA: facts.limitA ?? (offered !== null && offered >= 6 ? offered : null),
    errors: [
      ...new Set([
        ...errorNames(facts.stationStatus?.errorCode ?? 'NoError'),
        ...errorNames(facts.status?.errorCode ?? 'NoError'),
      ]),
    ],
    session: tx ? sessionOf(tx, meter, now, facts.limitA) : null,
    scheduledStartAt: null,
    settings: previous.settings,
    rssiDbm: null,
    raw: {
      ocppStatus: facts.status?.status ?? null,
      ocppErrorCode: facts.status?.errorCode ?? null,
      ocppVendorErrorCode: facts.status?.vendorErrorCode ?? null,
      ocppInfo: facts.status?.info ?? null,
      ocppStationStatus: station ?? null,
      connectorId: facts.connectorId,
      transactionId: txOpen ? tx.id : null,
      currentOfferedA: offered,
      powerOfferedW: meter.powerOfferedW,
      socPercent: meter.socPercent,
    },
    updatedAt: facts.lastSeenAt,
  };
}

function sessionOf(
  tx: TransactionView,
  meter: MeterReading,
  now: number,
  limitA: number | null,
): ChargerSession {
  // Some chargers report meterStop 0 or a register below meterStart: never a negative session.
  // A negative or absurd meterStart is no register at all: the session's energy is then unknown.
  const stopWh = tx.meterStopWh !== null && isPlausibleRegisterWh(tx.meterStopWh) ? tx.meterStopWh : null;
  const lastWh = stopWh ?? meter.energyImportWh;
  const endWh =
    lastWh === null || !isPlausibleRegisterWh(tx.meterStartWh) ? null : Math.max(lastWh, tx.meterStartWh);
  const end = tx.stoppedAt ?? now;
  return {
    chargerSessionId: String(tx.id),
    startedAt: tx.startedAt,
    energyKwh: endWh === null ? null : (endWh - tx.meterStartWh) / 1000,
    durationS: Math.max(0, Math.round((end - tx.startedAt) / 1000)),
    userId: tx.user,
    idTag: tx.reportIdTag ? tx.idTag : null,
    currentA: limitA,
    limitEnergyKwh: null,
    limitMinutes: null,
    endedAt: tx.stoppedAt,
    stopReason: tx.stopReason,
  };
}

function phaseReadings(meter: MeterReading, phases: 1 | 3): PhaseReading[] {
  const out: PhaseReading[] = [];
  for (let i = 0; i < phases; i++) {
    out.push({
      voltageV: meter.voltagePhaseV[i] ?? (i === 0 ? meter.voltageV : null),
      currentA: meter.currentPhaseA[i] ?? (i === 0 ? meter.currentA : null),
    });
  }
  return out;
}

function sumPower(phases: PhaseReading[]): number | null {
  let total: number | null = null;
  for (const p of phases) {
    if (p.voltageV !== null && p.currentA !== null) total = (total ?? 0) + p.voltageV * p.currentA;
  }
  return total === null ? null : Math.round(total);
}

/** The highest register value; negative or absurd ones are broken meters, not readings. */
function maxOf(...values: Array<number | null>): number | null {
  const known = values.filter((v): v is number => v !== null && isPlausibleRegisterWh(v));
  return known.length === 0 ? null : Math.max(...known);
}

/**
 * The same events every charger reports (link, plug, charging, errors); `charging_stopped` carries
 * the StopTransaction reason when the transaction ended with it.
 */
export function diffEvents(
  previous: ChargerState,
  next: ChargerState,
  at: number,
  stopReason: string | null,
): ChargerEvent[] {
  const events: ChargerEvent[] = [];
  if (previous.link !== next.link) {
    if (next.link === 'online') events.push({ type: 'link_up', at });
    else if (previous.link === 'online') events.push({ type: 'link_lost', at, data: { link: next.link } });
  }
  // While the station is away its last values are stale: a drop is not an unplug.
  if (next.link !== 'online') return events;
  if (!previous.plugged && next.plugged) events.push({ type: 'plugged', at });
  if (previous.plugged && !next.plugged) events.push({ type: 'unplugged', at });
  if (!previous.charging && next.charging) events.push({ type: 'charging_started', at });
  if (previous.charging && !next.charging) {
    events.push({ type: 'charging_stopped', at, ...(stopReason ? { data: { reason: stopReason } } : {}) });
  }
  for (const error of next.errors) {
    if (!previous.errors.includes(error)) events.push({ type: 'error_raised', at, data: { error } });
  }
  for (const error of previous.errors) {
    if (!next.errors.includes(error)) events.push({ type: 'error_cleared', at, data: { error } });
  }
  return events;
}

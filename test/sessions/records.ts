/** Builds closed session records for store, export and benchmark tests. */
import { type SessionRecord, sessionIdFor } from '../../src/sessions/record.js';
import { costSession, type Tariff } from '../../src/sessions/tariff.js';

export interface RecordInput {
  chargerId?: string;
  startedAt: number;
  minutes: number;
  kw: number;
  meterStartKwh?: number;
  user?: string | null;
  idTag?: string | null;
  idTagKnown?: boolean | null;
  stopReason?: string;
  tariff?: Tariff | null;
  timeZone?: string;
  notes?: string[];
}

/** A session at constant power, sampled every 5 minutes. */
export function makeRecord(input: RecordInput): SessionRecord {
  const chargerId = input.chargerId ?? 'garage';
  const meterStart = input.meterStartKwh ?? 1000;
  const endedAt = input.startedAt + input.minutes * 60_000;
  const samples = [];
  for (let at = input.startedAt; at < endedAt; at += 5 * 60_000) {
    samples.push({ at, meterKwh: round3(meterStart + (input.kw * (at - input.startedAt)) / 3_600_000) });
  }
  const meterStop = round3(meterStart + (input.kw * input.minutes) / 60);
  samples.push({ at: endedAt, meterKwh: meterStop });
  return {
    id: sessionIdFor(chargerId, input.startedAt),
    chargerId,
    chargerSessionId: null,
    startedAt: input.startedAt,
    endedAt,
    meterStartKwh: meterStart,
    meterStopKwh: meterStop,
    energyKwh: round3(meterStop - meterStart),
    samples,
    peakPowerW: input.kw * 1000,
    maxCurrentA: Math.round((input.kw * 1000) / 230),
    user: input.user ?? null,
    userSource: input.user ? 'selected' : null,
    idTag: input.idTag ?? null,
    idTagKnown: input.idTagKnown ?? null,
    stopReason: input.stopReason ?? 'finished',
    cost: input.tariff ? costSession(samples, input.tariff, input.timeZone ?? 'Europe/Berlin') : null,
    notes: (input.notes ?? []).map((text, i) => ({ at: endedAt + i, text })),
  };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

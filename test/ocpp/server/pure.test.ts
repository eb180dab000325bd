/** The pure parts of the central system: meter values, statuses, passwords, the connector state. */
import { describe, expect, it } from 'vitest';
import { emptyState } from '../../../src/core/charger.js';
import {
  deriveState,
  diffEvents,
  initialFacts,
  mergeReading,
} from '../../../src/ocpp/server/connector-state.js';
import { emptyReading, parseMeterValues } from '../../../src/ocpp/server/meter-values.js';
import { hashStationPassword, passwordForm, StationPassword } from '../../../src/ocpp/server/passwords.js';
import { errorNames, meaningOf, parseChargePointStatus } from '../../../src/ocpp/server/status.js';

const sample = (value: unknown, extra: Record<string, unknown> = {}) => ({ value, ...extra });

describe('parseMeterValues', () => {
  it('converts units, keeps phases apart and takes the newest value of each measurand', () => {
    const parsed = parseMeterValues({
      connectorId: 1,
      transactionId: 7,
      meterValue: [
        {
          timestamp: '2026-03-10T18:05:00Z',
          sampledValue: [sample('12.5', { measurand: 'Energy.Active.Import.Register', unit: 'kWh' })],
        },
        {
          timestamp: '2026-03-10T18:00:00Z',
          sampledValue: [
            sample('11000'),
            sample('7', { measurand: 'Current.Import', phase: 'L2', unit: 'A' }),
            sample('231', { measurand: 'Voltage', phase: 'L3-N' }),
            sample('400', { measurand: 'Voltage', phase: 'L1-L2' }),
            sample('68', { measurand: 'Temperature', unit: 'Fahrenheit' }),
            sample('80', { measurand: 'SoC', unit: 'Percent', location: 'EV' }),
            sample('3.6', { measurand: 'Power.Offered', unit: 'kW' }),
          ],
        },
      ],
    });
    expect(parsed.connectorId).toBe(1);
    expect(parsed.transactionId).toBe(7);
    expect(parsed.reading).toMatchObject({
      at: Date.UTC(2026, 2, 10, 18, 5),
      energyImportWh: 12_500,
      currentPhaseA: [null, 7, null],
      voltagePhaseV: [null, null, 231],
      temperatureC: 20,
      socPercent: 80,
      powerOfferedW: 3600,
    });
    expect(parsed.issues).toEqual(['meterValue[1].sampledValue[3]: phase "L1-L2" is not used for Voltage']);
  });

  it('sums per-phase power and energy when no total is given', () => {
    const { reading } = parseMeterValues({
      connectorId: 1,
      meterValue: [
        {
          timestamp: '2026-03-10T18:00:00Z',
          sampledValue: [1, 2, 3].flatMap((n) => [
            sample(String(n * 1000), { measurand: 'Power.Active.Import', phase: `L${n}`, unit: 'W' }),
            sample(String(n), { measurand: 'Energy.Active.Import.Register', phase: `L${n}`, unit: 'kWh' }),
          ]),
        },
      ],
    });
    expect(reading.powerImportW).toBe(6000);
    expect(reading.energyImportWh).toBe(6000);
  });

  it('refuses energy registers no meter can show: negative, or beyond 10 GWh', () => {
    const parsed = parseMeterValues({
      connectorId: 1,
      meterValue: [
        {
          timestamp: '2026-03-10T18:00:00Z',
          sampledValue: [
            sample('-5'),
            sample('1e308'),
            sample('20000000', { unit: 'kWh' }),
            sample('9999', { measurand: 'Energy.Active.Import.Register', unit: 'Wh' }),
          ],
        },
      ],
    });
    expect(parsed.issues).toEqual([
      expect.stringMatching(/negative energy register/),
      expect.stringMatching(/beyond any real meter/),
      expect.stringMatching(/beyond any real meter/),
    ]);
    expect(parsed.reading.energyImportWh).toBe(9999);
  });

  it('reports what it cannot use and never throws', () => {
    for (const junk of [
      null,
      'x',
      42,
      { meterValue: 'no' },
      { meterValue: [null, { sampledValue: [null, 5] }] },
    ]) {
      const parsed = parseMeterValues(junk);
      expect(parsed.issues.length).toBeGreaterThan(0);
      expect(parsed.reading).toEqual(emptyReading());
    }
    const odd = parseMeterValues({
      connectorId: 1,
      meterValue: [
        {
          timestamp: 'yesterday',
          sampledValue: [
            sample('5', { measurand: 'Frequency', unit: 'Hz' }),
            sample('5', { measurand: 'Warp.Factor' }),
            sample('abc', { measurand: 'Power.Active.Import' }),
            sample('9', { measurand: 'Current.Import', unit: 'mA' }),
            sample('1', { format: 'SignedData' }),
            sample('1,5', { measurand: 'Current.Import' }),
          ],
        },
      ],
    });
    expect(odd.reading.currentA).toBe(1.5);
    expect(odd.reading.at).toBeNull();
    expect(odd.issues).toHaveLength(5);
  });
});

describe('connector status', () => {
  it('reads status names without case and maps them to the core words', () => {
    expect(parseChargePointStatus('suspendedevse')).toBe('SuspendedEVSE');
    expect(parseChargePointStatus('Sleeping')).toBeNull();
    expect(meaningOf('Preparing', false)).toEqual({ plugged: true, charging: false, status: 'plugged' });
    expect(meaningOf('Finishing', true).status).toBe('suspended');
    expect(meaningOf('Finishing', false).status).toBe('finished');
    expect(meaningOf('Faulted', false).status).toBe('error');
    expect(errorNames('GroundFailure')).toEqual(['ground_failure']);
    expect(errorNames('NoError')).toEqual([]);
  });

  it('builds the charger state from the facts, whatever order they came in', () => {
    const now = Date.UTC(2026, 2, 10, 18);
    const facts = initialFacts(1, 3, now);
    facts.link = 'online';
    facts.status = { status: 'Charging', errorCode: 'NoError', info: null, vendorErrorCode: null, at: now };
    facts.transaction = {
      id: 5,
      idTag: 'T',
      user: 'alice',
      reportIdTag: true,
      startedAt: now - 60_000,
      meterStartWh: 1000,
      stoppedAt: null,
      meterStopWh: null,
      stopReason: null,
    };
    facts.meter = mergeReading(emptyReading(), {
      ...emptyReading(),
      energyImportWh: 1500,
      currentPhaseA: [10, 10, 10],
      voltagePhaseV: [230, 230, 230],
    });
    const state = deriveState(facts, emptyState(now), now);
    expect(state).toMatchObject({ status: 'charging', charging: true, powerW: 6900, energyTotalKwh: 1.5 });
    expect(state.session).toMatchObject({
      chargerSessionId: '5',
      energyKwh: 0.5,
      durationS: 60,
      userId: 'alice',
    });
    // StopTransaction before the status changes: energy no longer flows.
    facts.transaction.stoppedAt = now;
    facts.transaction.meterStopWh = 1600;
    facts.stoppedSinceStatus = true;
    const stopped = deriveState(facts, state, now);
    expect(stopped).toMatchObject({ charging: false, status: 'finished', energyTotalKwh: 1.6, powerW: 0 });
    expect(diffEvents(state, stopped, now, 'EVDisconnected')).toEqual([
      { type: 'charging_stopped', at: now, data: { reason: 'EVDisconnected' } },
    ]);
    // A lower register (a glitch, a replaced meter) never takes the lifetime energy down.
    facts.meter = mergeReading(facts.meter, { ...emptyReading(), energyImportWh: 10 });
    expect(deriveState(facts, stopped, now).energyTotalKwh).toBe(1.6);
    // Nor does an absurd meterStop (the last meter reading counts) or meterStart (energy unknown).
    facts.transaction.meterStopWh = 1e308;
    expect(deriveState(facts, stopped, now)).toMatchObject({
      energyTotalKwh: 1.6,
      session: { energyKwh: 0.5 },
    });
    facts.transaction.meterStartWh = -40;
    expect(deriveState(facts, stopped, now).session?.energyKwh).toBeNull();
    facts.transaction.meterStartWh = 1000;
    facts.transaction.meterStopWh = 1600;
    facts.link = 'offline';
    const gone = deriveState(facts, stopped, now);
    expect(gone.status).toBe('offline');
    expect(diffEvents(stopped, gone, now, null)).toEqual([
      { type: 'link_lost', at: now, data: { link: 'offline' } },
    ]);
  });
});

describe('station passwords', () => {
  const bytes = (text: string) => Buffer.from(text, 'utf8');

  it('checks clear, sha256 and scrypt forms', () => {
    for (const stored of [
      's3cret',
      hashStationPassword('s3cret', 'sha256'),
      hashStationPassword('s3cret', 'scrypt'),
    ]) {
      const password = new StationPassword(stored);
      expect(password.matches(bytes('s3cret'))).toBe(true);
      expect(password.matches(bytes('s3cret '))).toBe(false);
      expect(password.matches(undefined)).toBe(false);
      expect(password.matches(Buffer.alloc(0))).toBe(false);
    }
    expect(passwordForm(hashStationPassword('x', 'scrypt'))).toBe('scrypt');
    expect(passwordForm('sha256:abc')).toBe('plain');
  });

  it('accepts an AuthorizationKey as hex text or as the bytes it encodes', () => {
    const hex = '0123456789abcdef0123456789ABCDEF';
    const decoded = Buffer.from(hex, 'hex');
    for (const stored of [hex, hashStationPassword(hex.toLowerCase(), 'sha256')]) {
      const password = new StationPassword(stored);
      expect(password.matches(decoded)).toBe(true);
      expect(password.matches(Buffer.from(hex.toLowerCase()))).toBe(true);
    }
    expect(new StationPassword(hex).matches(bytes(hex))).toBe(true);
  });
});

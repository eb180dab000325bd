import { describe, expect, it } from 'vitest';
import { Cmd } from '../../../src/evse-master/protocol/commands.js';
import {
  encodeFee,
  encodeLanguageSetting,
  encodeOfflineChargeSetting,
  encodeSystemTimeRequest,
  encodeTemperatureUnitSetting,
} from '../../../src/evse-master/protocol/messages/settings.js';
import { emTimeFromUnixMs } from '../../../src/evse-master/protocol/time.js';
import { advanceAnswering, createLoggedInRig, TZ } from './harness.js';

describe('SimulatedBs20 settings', () => {
  it('sets and gets language, temperature unit and offline charge', async () => {
    const { client, sim } = await createLoggedInRig();
    await client.send(Cmd.SetGetLanguage, encodeLanguageSetting({ action: 1, language: 3 }));
    await client.send(Cmd.SetGetLanguage, encodeLanguageSetting({ action: 2, language: null }));
    expect(client.of('language').map((m) => [m.action, m.language])).toEqual([
      [1, 3],
      [2, 3],
    ]);
    await client.send(Cmd.SetGetTemperatureUnit, encodeTemperatureUnitSetting({ action: 1, unit: 2 }));
    await client.send(Cmd.SetGetTemperatureUnit, encodeTemperatureUnitSetting({ action: 2, unit: null }));
    expect(client.last('temperature_unit')).toMatchObject({ action: 2, unit: 2, unitName: 'fahrenheit' });
    await client.send(Cmd.SetGetOfflineCharge, encodeOfflineChargeSetting({ action: 1, status: 1 }));
    expect(client.last('offline_charge')).toMatchObject({ action: 1, status: 1 });
    expect(sim.state.settings).toMatchObject({ language: 3, temperatureUnit: 2, offlineCharge: 1 });
  });

  it('echoes the fee frames byte for byte (B6/B7)', async () => {
    const { client } = await createLoggedInRig();
    const payload = encodeFee({ action: 1, data: Uint8Array.of(1, 0, 0) });
    await client.send(Cmd.SetGetChargeFee, payload);
    await client.send(Cmd.SetGetServiceFee, payload);
    expect(client.commands()).toEqual([Cmd.ChargeFee, Cmd.ServiceFee]);
    for (const r of client.received) expect(r.frame.payload).toEqual(Uint8Array.of(1, 1, 0, 0));
  });

  it('keeps its own clock: SET echoes the time, GET reports it running on', async () => {
    const rig = await createLoggedInRig({ deviceClockSkewMs: -7 * 86_400_000 });
    const { client, clock } = rig;
    await client.send(Cmd.SetGetSystemTime, encodeSystemTimeRequest({ action: 2, time: null }));
    const skewed = client.last('system_time');
    expect(skewed.action).toBe(2);
    expect(skewed.time?.unixMs).toBe(Math.floor((clock.now() - 7 * 86_400_000) / 1000) * 1000);
    const now = emTimeFromUnixMs(clock.now(), TZ);
    await client.send(Cmd.SetGetSystemTime, encodeSystemTimeRequest({ action: 1, time: now }));
    expect(client.last('system_time')).toMatchObject({ action: 1, time: { raw: now.raw } });
    await advanceAnswering(rig, 3_600_000, 10_000);
    await client.send(Cmd.SetGetSystemTime, encodeSystemTimeRequest({ action: 2, time: null }));
    expect(client.last('system_time').time?.raw).toBe(now.raw + 3600);
  });

  it('answers 0x800D with a 0x000D status and 0x8006 with a 0x0006 charging status', async () => {
    const { client, sim } = await createLoggedInRig();
    sim.plugIn();
    await client.send(Cmd.RequestStatusRecord);
    const record = client.last('status');
    expect(record.command).toBe(Cmd.StatusRecord);
    expect(record).toMatchObject({ currentState: 13, plugState: 2, energyTotalKwh: 1234.56 });
    await client.send(Cmd.RequestChargingStatus, Uint8Array.of(0));
    const status = client.last('charging_status');
    expect(status.command).toBe(Cmd.ChargingStatusResponse);
    expect(status).toMatchObject({
      currentState: 13,
      chargeId: '',
      energyCounterKwh: 1234.56,
      sessionEnergyKwh: 0,
    });
  });

  it('records every client frame with its decoded message', async () => {
    const { client, sim } = await createLoggedInRig({ receivedFramesLimit: 3 });
    const seen: number[] = [];
    sim.events.on('received', (r) => seen.push(r.frame.command));
    for (let i = 0; i < 5; i++) await client.send(Cmd.StatusAck, Uint8Array.of(1));
    expect(seen).toEqual([Cmd.StatusAck, Cmd.StatusAck, Cmd.StatusAck, Cmd.StatusAck, Cmd.StatusAck]);
    expect(sim.receivedFrames).toHaveLength(3);
    expect(sim.receivedFrames[0]!.message.type).toBe('status_ack');
    expect(client.received).toHaveLength(0);
  });
});

/**
 * The bridge requests for station operations, answered by an independent charge point (ocpp-ts,
 * which validates every call it receives): what the station said comes back; bad input and an
 * absent station come back as errors.
 */
import { OcppClient } from 'ocpp-ts';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { BridgeApi } from '../../../src/mqtt/bridge-api.js';
import { registerOcppRequests } from '../../../src/ocpp/server/bridge-requests.js';
import { CsRig, stationConfig } from './harness.js';

let rig: CsRig;
let client: OcppClient | null = null;

afterEach(async () => {
  (
    client as unknown as { connection: { socket: { terminate(): void } } | null } | null
  )?.connection?.socket.terminate();
  client = null;
  await rig.stop();
});

function bridge(): BridgeApi {
  const connection = {
    publish: async () => undefined,
    subscribe: async () => undefined,
    on: () => () => undefined,
  };
  const api = new BridgeApi({ connection: connection as never, baseTopic: 'cb', logger: silentLogger() });
  registerOcppRequests(api, rig.cs);
  return api;
}

const ask = (api: BridgeApi, name: string, body: unknown = {}) =>
  api.handle(name, Buffer.from(JSON.stringify(body)));

describe('ocpp/* bridge requests', () => {
  it('carry station operations to the charge point and its answers back', async () => {
    rig = await CsRig.start({ stations: [stationConfig('carport', { identity: 'CARPORT', connectors: 2 })] });
    const api = bridge();
    const offline = await ask(api, 'ocpp/reset', { station: 'carport' });
    expect(offline).toMatchObject({
      status: 'error',
      error: 'station carport is not connected; Reset was not sent',
    });

    client = new OcppClient('CARPORT');
    const seen: Array<[string, unknown]> = [];
    const answer = (action: string, response: unknown) =>
      (client as OcppClient).on(action as 'Reset', (req, cb) => {
        seen.push([action, req]);
        cb(response as never);
      });
    answer('Reset', { status: 'Accepted' });
    answer('ChangeAvailability', { status: 'Scheduled' });
    answer('UnlockConnector', { status: 'NotSupported' });
    answer('TriggerMessage', { status: 'Accepted' });
    answer('GetConfiguration', {
      configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }],
      unknownKey: ['Nope'],
    });
    answer('ChangeConfiguration', { status: 'RebootRequired' });
    answer('ClearChargingProfile', { status: 'Unknown' });
    answer('DataTransfer', { status: 'Accepted', data: 'pong' });
    await new Promise<void>((resolve, reject) => {
      client?.on('connect', resolve);
      client?.on('error', reject);
      client?.connect(`${rig.url}/`);
    });
    await client.callRequest('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'Duo' });

    expect(await ask(api, 'ocpp/stations')).toMatchObject({
      status: 'ok',
      data: {
        stations: [
          {
            id: 'carport',
            identity: 'CARPORT',
            connected: true,
            model: 'Duo',
            chargers: ['carport', 'carport_2'],
          },
        ],
      },
    });
    expect((await ask(api, 'ocpp/reset', { station: 'carport', type: 'hard' })).data).toEqual({
      status: 'Accepted',
    });
    expect(
      (await ask(api, 'ocpp/availability', { station: 'carport', connector: 2, operative: false })).data,
    ).toEqual({ status: 'Scheduled' });
    expect((await ask(api, 'ocpp/unlock', { station: 'carport' })).data).toEqual({ status: 'NotSupported' });
    expect(
      (await ask(api, 'ocpp/trigger', { station: 'carport', message: 'MeterValues', connector: 1 })).data,
    ).toEqual({ status: 'Accepted' });
    expect(
      (await ask(api, 'ocpp/get_configuration', { station: 'carport', keys: ['HeartbeatInterval', 'Nope'] }))
        .data,
    ).toEqual({
      configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }],
      unknownKey: ['Nope'],
    });
    expect(
      (
        await ask(api, 'ocpp/change_configuration', {
          station: 'carport',
          key: 'MeterValueSampleInterval',
          value: '10',
        })
      ).data,
    ).toEqual({
      status: 'RebootRequired',
    });
    expect((await ask(api, 'ocpp/clear_limit', { station: 'carport', connector: 2 })).data).toEqual({
      status: 'Unknown',
    });
    expect(
      (await ask(api, 'ocpp/data_transfer', { station: 'carport', vendor_id: 'acme', message_id: 'ping' }))
        .data,
    ).toEqual({
      status: 'Accepted',
      data: 'pong',
    });
    expect(seen).toEqual(
      expect.arrayContaining([
        ['Reset', { type: 'Hard' }],
        ['ChangeAvailability', { connectorId: 2, type: 'Inoperative' }],
        ['UnlockConnector', { connectorId: 1 }],
        ['TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 }],
        ['ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '10' }],
        ['ClearChargingProfile', { id: 7702 }],
        ['DataTransfer', { vendorId: 'acme', messageId: 'ping' }],
      ]),
    );

    expect(await ask(api, 'ocpp/unlock', { station: 'carport', connector: 3 })).toMatchObject({
      status: 'error',
      error: 'connector must be 1…2 for station carport',
    });
    expect(await ask(api, 'ocpp/reset', { station: 'shed' })).toMatchObject({
      status: 'error',
      error: "unknown OCPP station 'shed' (configured: carport)",
    });
    expect(await ask(api, 'ocpp/trigger', { station: 'carport', message: 'Coffee' })).toMatchObject({
      status: 'error',
    });
    expect(rig.frames.problems()).toEqual([]);
  });
});

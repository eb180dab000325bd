/**
 * A two-connector station (ocpp-ts as the charge point): each connector is its own charger, the
 * station-wide connector 0 reaches both, and a client without a common subprotocol is refused.
 */
import { OcppClient } from 'ocpp-ts';
import { afterEach, describe, expect, it } from 'vitest';
import { createRpcClient, type RpcClient } from '../../../src/ocpp/rpc.js';
import { CsRig, stationConfig } from './harness.js';

let rig: CsRig;
let client: OcppClient | null = null;
const rpcClients: RpcClient[] = [];

afterEach(async () => {
  (
    client as unknown as { connection: { socket: { terminate(): void } } | null } | null
  )?.connection?.socket.terminate();
  client = null;
  for (const c of rpcClients.splice(0)) await c.close({ force: true });
  await rig.stop();
});

function connect(identity: string): Promise<OcppClient> {
  const c = new OcppClient(identity);
  client = c;
  return new Promise((resolve, reject) => {
    c.on('connect', () => resolve(c));
    c.on('error', reject);
    c.connect(`${rig.url}/`);
  });
}

describe('connectors and subprotocols', () => {
  it('maps each connector to its own charger and connector 0 to all of them', async () => {
    rig = await CsRig.start({ stations: [stationConfig('duo', { identity: 'DUO', connectors: 2 })] });
    expect(rig.cs.chargers().map((c) => [c.id, c.name, c.connectorId])).toEqual([
      ['duo', 'Station duo', 1],
      ['duo_2', 'Station duo 2', 2],
    ]);
    const cp = await connect('DUO');
    await cp.callRequest('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'Duo' });
    await cp.callRequest('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Preparing' });
    await cp.callRequest('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    const [one, two] = [rig.charger('duo'), rig.charger('duo_2')];
    expect([one.getState().status, two.getState().status]).toEqual(['available', 'plugged']);
    const { transactionId } = await cp.callRequest('StartTransaction', {
      connectorId: 2,
      idTag: '04A1B2C3',
      meterStart: 10,
      timestamp: new Date(rig.clock.now()).toISOString(),
    });
    expect(two.getState().session).toMatchObject({
      chargerSessionId: String(transactionId),
      userId: 'alice',
    });
    expect(one.getState().session).toBeNull();

    await cp.callRequest('StatusNotification', {
      connectorId: 0,
      errorCode: 'GroundFailure',
      status: 'Faulted',
    });
    expect([one.getState().status, two.getState().status]).toEqual(['error', 'error']);
    expect(two.getState().errors).toEqual(['ground_failure']);
    // A connector the config does not know is ignored (and logged once), not an error for the station.
    await expect(
      cp.callRequest('StatusNotification', { connectorId: 3, errorCode: 'NoError', status: 'Available' }),
    ).resolves.toEqual({});
    expect(rig.frames.problems()).toEqual([]);
  });

  it('refuses a client that offers only other OCPP versions, and lets one that offers none in', async () => {
    rig = await CsRig.start();
    const refused: number[] = [];
    rig.cs.events.on('connection_refused', (r) => refused.push(r.status));
    const client = (protocols: string[]) => {
      const c = createRpcClient({
        endpoint: rig.url,
        identity: 'GARAGE',
        protocols,
        reconnect: false,
        pingIntervalMs: 0,
      });
      rpcClients.push(c);
      return c;
    };
    await expect(client(['ocpp2.0.1', 'ocpp2.1']).connect()).rejects.toThrow(/Bad Request/);
    expect(refused).toEqual([400]);
    expect(rig.charger().getState().link).toBe('offline');
    await client([]).connect();
    expect(rig.charger().getState().link).toBe('online');
  });
});

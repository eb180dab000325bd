/**
 * chargebridge talking to itself: the BS20 presented by the charge-point bridge, received by
 * chargebridge's own central system, where it is a core Charger again (OcppStationCharger). Starting,
 * limiting and stopping that charger reaches the simulated BS20 over BLE bytes.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { createUserAuthorizer } from '../../../src/ocpp/server/authorizer.js';
import { OcppCentralSystem } from '../../../src/ocpp/server/central-system.js';
import { TransactionLedger } from '../../../src/ocpp/server/transactions.js';
import { cleanupWorld, MINUTE, makeRig, makeWorld, type World, waitFor } from './rig.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function centralSystem(world: World) {
  const logger = silentLogger();
  const ledger = await TransactionLedger.open({
    path: join(world.dataDir, 'ocpp-transactions.json'),
    clock: world.clock,
    logger,
  });
  const cs = new OcppCentralSystem({
    host: '127.0.0.1',
    port: 0,
    path: '/ocpp',
    securityProfile: 0,
    unknownStations: 'reject',
    stations: [
      {
        id: 'carport',
        identity: 'BS20-GARAGE',
        name: 'Carport',
        password: null,
        maxCurrentA: 16,
        phases: null,
        connectors: 1,
        pingIntervalS: null,
      },
    ],
    heartbeatIntervalS: 300,
    pingIntervalS: 0,
    callTimeoutS: 30,
    ledger,
    authorizer: createUserAuthorizer({
      users: [{ name: 'alice', idTags: ['04A1B2C3'] }],
      defaultIdTag: 'chargebridge',
      acceptUnknown: true,
    }),
    clock: world.clock,
    logger,
  });
  const problems: string[] = [];
  await cs.start();
  cleanups.push(() => cs.stop());
  return { cs, problems };
}

describe('charge point against chargebridge’s own central system', () => {
  it('is a charger there: started, limited and stopped from the server side', async () => {
    const world = makeWorld();
    cleanups.push(() => cleanupWorld(world));
    const { cs } = await centralSystem(world);
    const rig = await makeRig({ url: `ws://127.0.0.1:${cs.port}/ocpp`, world });
    cleanups.push(() => rig.stop());
    const station = cs.chargers().find((c) => c.id.startsWith('carport'));
    if (!station) throw new Error('no station charger');
    await waitFor(
      () => station.getState().link === 'online' && rig.bridge.connection.ready,
      'station online',
    );
    expect(station.getInfo()).toMatchObject({
      manufacturer: 'Besen',
      model: 'BS20',
      serialNumber: '1122334455667788',
    });

    rig.sim.plugIn({ demandA: 32 });
    await rig.clock.advance(10_000);
    await waitFor(() => station.getState().plugged, 'plugged at the server');

    await station.startCharging({ idTag: '04A1B2C3' });
    await waitFor(() => rig.sim.state.chargePhase === 'charging', 'the BS20 charging');
    await rig.clock.advance(10_000);
    await waitFor(() => station.getState().charging, 'charging at the server');
    expect(rig.bridge.tracker.open?.idTag).toBe('04A1B2C3');

    const before = rig.currentSets().length;
    await station.setMaxCurrent(10);
    await waitFor(() => rig.currentSets().length > before, 'the limit at the BS20');
    expect(rig.currentSets().at(-1)?.[1]).toBe(10);
    expect(rig.sim.state.configuredCurrentA).toBe(10);

    await rig.clock.advance(2 * MINUTE);
    await waitFor(() => (station.getState().powerW ?? 0) > 2000, 'power reported to the server');
    expect(station.getState().powerW).toBeCloseTo(2300, -1);

    await station.stopCharging();
    await waitFor(() => rig.sim.state.chargePhase !== 'charging', 'the BS20 stopped');
    await rig.clock.advance(10_000);
    await waitFor(() => !station.getState().charging && rig.bridge.queue.size === 0, 'stopped at the server');
    expect(rig.bridge.tracker.open).toBeNull();
    expect(rig.frames.problems).toEqual([]);
  });
});

/**
 * The BS20 charge point against ocpp-ts's OcppServer (a second independent 1.6J implementation,
 * with an authorization hook): security profile 1, Pending/Rejected boots, configuration keys,
 * and the central-system calls a tethered BS20 answers in its own way.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { OcppUpstreamSettings } from '../../../src/ocpp/client/charge-point.js';
import { OcppTsCentralSystem } from './peers.js';
import { cleanupWorld, makeRig, makeWorld, type Rig, turns, waitFor } from './rig.js';

/** A self-signed certificate for 127.0.0.1, valid 2020–2120 (test fixture, not a secret). */
const TEST_CERT = readFileSync(new URL('./fixtures/csms-test.crt', import.meta.url));
const TEST_KEY = readFileSync(new URL('./fixtures/csms-test.key', import.meta.url));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function setup(
  options: {
    settings?: Partial<OcppUpstreamSettings>;
    prepare?: (cs: OcppTsCentralSystem) => void;
    booted?: boolean;
  } = {},
): Promise<{ cs: OcppTsCentralSystem; rig: Rig }> {
  const world = makeWorld();
  cleanups.push(() => cleanupWorld(world));
  const cs = await OcppTsCentralSystem.create(world.clock);
  cleanups.push(() => cs.stop());
  options.prepare?.(cs);
  const rig = await makeRig({ url: cs.url, world, settings: options.settings });
  cleanups.push(() => rig.stop());
  if (options.booted !== false)
    await waitFor(() => cs.of('Heartbeat').length === 1, 'boot, status and heartbeat');
  return { cs, rig };
}

const basic = (user: string, password: Buffer | string) =>
  `Basic ${Buffer.concat([Buffer.from(`${user}:`), Buffer.from(password)]).toString('base64')}`;

describe('charge point against ocpp-ts', () => {
  it('sends the AuthorizationKey as Basic auth: hex decoded to bytes (OCTT), or as text when told so', async () => {
    const key = '00112233445566778899aabbccddeeff';
    const expected = basic('BS20-GARAGE', Buffer.from(key, 'hex'));
    const { cs } = await setup({
      settings: { securityProfile: 1, password: key },
      prepare: (c) => {
        c.requiredAuthorization = expected;
      },
    });
    expect(cs.lastAuthorization).toBe(expected);

    const asText = await setup({
      settings: { securityProfile: 1, password: key, passwordEncoding: 'text' },
      prepare: (c) => {
        c.requiredAuthorization = basic('BS20-GARAGE', key);
      },
    });
    expect(asText.cs.of('BootNotification')).toHaveLength(1);
  });

  it('connects over TLS with security profile 2, trusting only the given CA', async () => {
    const world = makeWorld();
    cleanups.push(() => cleanupWorld(world));
    const cs = await OcppTsCentralSystem.create(world.clock, { cert: TEST_CERT, key: TEST_KEY });
    cleanups.push(() => cs.stop());
    const password = 'a-long-station-password';
    cs.requiredAuthorization = basic('BS20-GARAGE', password);
    expect(cs.url).toMatch(/^wss:/);

    // Without the CA the certificate is not trusted: no HTTP request ever reaches the server.
    const untrusting = await makeRig({
      url: cs.url,
      world,
      settings: { securityProfile: 2, password, tls: { rejectUnauthorized: true } },
    });
    await turns(200);
    await untrusting.clock.advance(5_000);
    await turns(200);
    expect(cs.lastAuthorization).toBeUndefined();
    expect(untrusting.bridge.connection.isOpen).toBe(false);
    await untrusting.stop();

    const rig = await makeRig({
      url: cs.url,
      world,
      settings: { securityProfile: 2, password, tls: { ca: TEST_CERT, rejectUnauthorized: true } },
    });
    cleanups.push(() => rig.stop());
    await waitFor(() => cs.of('Heartbeat').length === 1, 'boot over TLS', {
      clock: world.clock,
      stepMs: 1_000,
    });
    expect(cs.lastAuthorization).toBe(basic('BS20-GARAGE', password));
    expect(rig.frames.problems).toEqual([]);
  });

  it('keeps retrying a refused login, and reconnects with a new AuthorizationKey (TC_073)', async () => {
    const oldKey = 'first-password-of-the-station';
    const newKey = 'ffeeddccbbaa99887766554433221100';
    const { cs, rig } = await setup({
      settings: { securityProfile: 1, password: oldKey },
      prepare: (c) => {
        c.requiredAuthorization = 'Basic nobody';
      },
      booted: false,
    });
    // 401 again and again: no boot, and still trying (ocpp-rpc alone would try once, then give up).
    await waitFor(() => cs.lastAuthorization === basic('BS20-GARAGE', oldKey), 'a refused attempt');
    cs.lastAuthorization = undefined;
    await waitFor(() => cs.lastAuthorization !== undefined, 'another attempt', {
      clock: rig.clock,
      stepMs: 2_000,
    });
    expect(cs.of('BootNotification')).toEqual([]);

    cs.requiredAuthorization = basic('BS20-GARAGE', oldKey);
    await waitFor(() => cs.of('Heartbeat').length === 1, 'accepted at last', {
      clock: rig.clock,
      stepMs: 2_000,
    });
    expect(await cs.send('ChangeConfiguration', { key: 'AuthorizationKey', value: newKey })).toEqual({
      status: 'Accepted',
    });
    cs.requiredAuthorization = basic('BS20-GARAGE', Buffer.from(newKey, 'hex'));
    await waitFor(
      () => cs.lastAuthorization === cs.requiredAuthorization && cs.connected(),
      'reconnected with the new key',
    );
    await waitFor(() => rig.bridge.connection.ready, 'ready');
    // The key is never readable.
    const all = await cs.send('GetConfiguration', {});
    expect(JSON.stringify(all)).not.toContain(newKey);
    expect(rig.frames.problems).toEqual([]);
  });

  it('waits while Pending, answers the central system meanwhile, and boots again after the interval', async () => {
    const { cs, rig } = await setup({
      prepare: (c) => {
        c.bootStatus = 'Pending';
        c.bootIntervalS = 30;
      },
      booted: false,
    });
    await waitFor(() => cs.of('BootNotification').length === 1, 'first boot');
    await waitFor(() => cs.connected(), 'connection seen');
    const config = await cs.send('GetConfiguration', { key: ['HeartbeatInterval'] });
    expect(config).toEqual({
      configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }],
      unknownKey: [],
    });
    expect(
      await cs.send('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 }),
    ).toEqual({
      status: 'Accepted',
    });
    await waitFor(() => cs.of('StatusNotification').length === 1, 'the triggered status');
    expect(cs.received.map((r) => r.action)).toEqual(['BootNotification', 'StatusNotification']);

    cs.bootStatus = 'Accepted';
    await rig.clock.advance(29_000);
    await turns(5);
    expect(cs.of('BootNotification')).toHaveLength(1);
    await rig.clock.advance(1_000);
    await waitFor(() => cs.of('Heartbeat').length === 1, 'accepted boot');
    expect(cs.received.map((r) => r.action)).toEqual([
      'BootNotification',
      'StatusNotification',
      'BootNotification',
      'StatusNotification',
      'StatusNotification',
      'Heartbeat',
    ]);
    expect(rig.frames.problems).toEqual([]);
  });

  it('stays silent while Rejected, then boots again after the interval', async () => {
    const { cs, rig } = await setup({
      prepare: (c) => {
        c.bootStatus = 'Rejected';
        c.bootIntervalS = 60;
      },
      booted: false,
    });
    await waitFor(() => cs.of('BootNotification').length === 1 && cs.connected(), 'first boot');
    void cs.send('GetConfiguration', {}).catch(() => undefined);
    await waitFor(() => rig.frames.received.length === 1, 'the call to arrive');
    await turns(50);
    expect(rig.frames.received[0]?.answer).toBeUndefined();
    cs.bootStatus = 'Accepted';
    await rig.clock.advance(60_000);
    await waitFor(() => cs.of('Heartbeat').length === 1, 'accepted boot');
    expect(cs.of('BootNotification')).toHaveLength(2);
    expect(cs.received.slice(0, 2).map((r) => r.action)).toEqual(['BootNotification', 'BootNotification']);
  });

  it('answers configuration requests: unknown keys NotSupported, read-only Rejected, changes applied', async () => {
    const { cs, rig } = await setup();
    expect(await cs.send('ChangeConfiguration', { key: 'NoSuchKey', value: '1' })).toEqual({
      status: 'NotSupported',
    });
    expect(await cs.send('ChangeConfiguration', { key: 'NumberOfConnectors', value: '2' })).toEqual({
      status: 'Rejected',
    });
    expect(await cs.send('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: 'x' })).toEqual({
      status: 'Rejected',
    });
    expect(await cs.send('GetConfiguration', { key: ['NoSuchKey', 'NumberOfConnectors'] })).toEqual({
      configurationKey: [{ key: 'NumberOfConnectors', readonly: true, value: '1' }],
      unknownKey: ['NoSuchKey'],
    });
    // evcc's set-up: one measurand at a time, then the interval.
    expect(await cs.send('ChangeConfiguration', { key: 'MeterValuesSampledData', value: 'SoC' })).toEqual({
      status: 'Rejected',
    });
    expect(
      await cs.send('ChangeConfiguration', {
        key: 'MeterValuesSampledData',
        value: 'Energy.Active.Import.Register,Current.Offered',
      }),
    ).toEqual({ status: 'Accepted' });
    expect(await cs.send('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '10' })).toEqual({
      status: 'Accepted',
    });
    rig.sim.plugIn({ demandA: 16 });
    await rig.clock.advance(10_000);
    await rig.charger.startCharging({ currentA: 10 });
    await rig.clock.advance(30_000);
    await waitFor(() => cs.of('MeterValues').length >= 2, 'meter values every 10 s');
    const sample = firstMeterValue(cs.of('MeterValues')[0]);
    expect(sample?.sampledValue.map((v) => v.measurand)).toEqual([
      'Energy.Active.Import.Register',
      'Current.Offered',
    ]);

    // Survives a restart of the daemon.
    await rig.stop();
    const again = await makeRig({ url: cs.url, world: rig.world });
    cleanups.push(() => again.stop());
    expect(again.bridge.keys.getInt('MeterValueSampleInterval')).toBe(10);
    expect(rig.frames.problems).toEqual([]);
  });

  it('answers what a tethered BS20 cannot do, and what it can', async () => {
    const { cs, rig } = await setup();
    expect(await cs.send('UnlockConnector', { connectorId: 1 })).toEqual({ status: 'NotSupported' });
    expect(await cs.send('DataTransfer', { vendorId: 'com.example' })).toEqual({ status: 'UnknownVendorId' });
    expect(await cs.send('TriggerMessage', { requestedMessage: 'DiagnosticsStatusNotification' })).toEqual({
      status: 'NotImplemented',
    });
    await expect(
      cs.send('ReserveNow', {
        connectorId: 1,
        expiryDate: '2026-01-16T00:00:00Z',
        idTag: 'A',
        reservationId: 1,
      }),
    ).rejects.toMatchObject({
      code: 'NotImplemented',
    });

    expect(await cs.send('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 })).toEqual({
      status: 'Accepted',
    });
    await waitFor(() => cs.of('MeterValues').length === 1, 'triggered meter values');
    const triggered = firstMeterValue(cs.of('MeterValues')[0]);
    expect(triggered?.sampledValue.every((v) => v.context === 'Trigger')).toBe(true);

    expect(await cs.send('ChangeAvailability', { connectorId: 0, type: 'Inoperative' })).toEqual({
      status: 'Accepted',
    });
    await waitFor(
      () => cs.of('StatusNotification').filter((s) => s.status === 'Unavailable').length === 2,
      'Unavailable',
    );
    expect(await cs.send('RemoteStartTransaction', { idTag: 'X' })).toEqual({ status: 'Rejected' });
    expect(await cs.send('ChangeAvailability', { connectorId: 0, type: 'Operative' })).toEqual({
      status: 'Accepted',
    });
    await waitFor(() => cs.of('StatusNotification').at(-1)?.status === 'Available', 'Available');

    // Unlock during a transaction ends it (TC_017_2), still answering NotSupported.
    rig.sim.plugIn({ demandA: 16 });
    await rig.clock.advance(10_000);
    expect(await cs.send('RemoteStartTransaction', { idTag: 'U' })).toEqual({ status: 'Accepted' });
    await waitFor(() => cs.of('StartTransaction').length === 1, 'started');
    expect(await cs.send('ChangeAvailability', { connectorId: 1, type: 'Inoperative' })).toEqual({
      status: 'Scheduled',
    });
    expect(await cs.send('UnlockConnector', { connectorId: 1 })).toEqual({ status: 'NotSupported' });
    await waitFor(() => rig.sim.state.chargePhase !== 'charging', 'the BS20 stopped');
    await rig.clock.advance(10_000);
    await waitFor(() => cs.of('StopTransaction').length === 1, 'stopped');
    expect(cs.of('StopTransaction')[0]?.reason).toBe('UnlockCommand');
    // The scheduled Inoperative applies once the transaction is over.
    await waitFor(
      () => cs.of('StatusNotification').at(-1)?.status === 'Unavailable',
      'Unavailable after the transaction',
    );

    expect(await cs.send('Reset', { type: 'Soft' })).toEqual({ status: 'Accepted' });
    await waitFor(() => cs.of('BootNotification').length === 2, 'boot after the reset', {
      clock: rig.clock,
      stepMs: 1_000,
    });
    expect(await cs.send('TriggerMessage', { requestedMessage: 'BootNotification' })).toEqual({
      status: 'Accepted',
    });
    await waitFor(() => cs.of('BootNotification').length === 3, 'triggered boot');
    expect(rig.frames.problems).toEqual([]);
  });
});

function firstMeterValue(
  request: Record<string, unknown> | undefined,
): { sampledValue: Array<Record<string, string>> } | undefined {
  return (request?.meterValue as Array<{ sampledValue: Array<Record<string, string>> }> | undefined)?.[0];
}

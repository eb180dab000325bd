/**
 * An OCPP station as Home Assistant and the session store see it: discovery with the entities an
 * OCPP charger supports, availability and last seen from its connection, a current limit and a
 * charging switch from Home Assistant becoming OCPP calls at an independent charge point, a session
 * recorded with the idTag's user, and commands to an absent station refused on bridge/event.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { bridgeWill } from '../../../src/homeassistant/bridge-publisher.js';
import { HomeAssistantExtension } from '../../../src/homeassistant/extension.js';
import { silentLogger } from '../../../src/log.js';
import { BridgeApi } from '../../../src/mqtt/bridge-api.js';
import { MqttConnection } from '../../../src/mqtt/connection.js';
import { SessionStore } from '../../../src/sessions/store.js';
import { type SessionEvent, SessionTracker } from '../../../src/sessions/tracker.js';
import { brokers, type TestBroker } from '../../helpers/brokers.js';
import { MqttProbe } from '../../helpers/mqtt-probe.js';
import { describeEach } from '../../helpers/system-programs.js';
import { CsRig, stationConfig, USERS, untilState } from './harness.js';
import { connectPeer, type Peer } from './voltbras-peer.js';

let seq = 0;

describeEach(brokers)('an OCPP station in Home Assistant over $name', (kind) => {
  let broker: TestBroker;
  let rig: CsRig;
  let peer: Peer | null;
  let probe: MqttProbe;
  let connection: MqttConnection;
  let ext: HomeAssistantExtension;
  let tracker: SessionTracker;
  let store: SessionStore;
  const completed: SessionEvent[] = [];
  let base = '';
  let prefix = '';

  beforeAll(async () => {
    broker = await kind.start();
  });
  afterAll(() => broker.stop());

  afterEach(async () => {
    peer?.cp.close();
    await ext.stop();
    await tracker.stop();
    await connection.close();
    await probe.close();
    await rig.stop();
  });

  async function start(): Promise<void> {
    const n = ++seq;
    base = `ocb${n}`;
    prefix = `oha${n}`;
    peer = null;
    completed.length = 0;
    rig = await CsRig.start({
      stations: [stationConfig('carport', { identity: 'CARPORT', maxCurrentA: 20 })],
    });
    const logger = silentLogger();
    const chargers = rig.cs.chargers();
    store = await SessionStore.open({
      dataDir: join(rig.dataDir, 'sessions'),
      timeZone: 'UTC',
      clock: rig.clock,
      logger,
    });
    tracker = new SessionTracker({
      store,
      chargers,
      users: USERS,
      timeZone: 'UTC',
      clock: rig.clock,
      logger,
      announceDelayMs: 0,
    });
    tracker.events.on('session_completed', (e) => completed.push(e));
    connection = new MqttConnection({
      url: broker.url,
      clientId: `ocpp-ha-${process.pid}-${n}`,
      will: bridgeWill(base),
      keepaliveS: 30,
      reconnectPeriodMs: 100,
      logger,
    });
    const bridgeApi = new BridgeApi({ connection, baseTopic: base, logger });
    ext = new HomeAssistantExtension({
      connection,
      bridgeApi,
      chargers,
      topics: { baseTopic: base, discoveryPrefix: prefix, statusTopic: `${prefix}/status` },
      discoveryEnabled: true,
      expireAfterS: 0,
      origin: { name: 'chargebridge', sw_version: 'test', support_url: 'https://example.invalid' },
      dataDir: rig.dataDir,
      clock: rig.clock,
      logger,
      bridgeInfo: () => ({}),
      stateThrottleMs: 0,
      sessionFeatures: () => ({ users: tracker.users.names(), currency: null }),
      stateExtras: (id) => tracker.summaryFor(id),
      sessionHooks: (id) => ({
        userSelected: (user) => tracker.selectUser(id, user),
        stopRequested: () => tracker.noteStopRequested(id),
        chargerUserId: (user) => tracker.users.chargerUserIdFor(user),
      }),
    });
    probe = await MqttProbe.connect(broker.url);
    await probe.subscribe(`${base}/#`);
    await probe.subscribe(`${prefix}/#`);
    await connection.connect();
    tracker.start();
    await ext.start();
  }

  const stateTopic = () => `${base}/carport`;
  const state = (predicate: (s: Record<string, unknown>) => boolean) =>
    probe.waitFor(stateTopic(), (m) => predicate(JSON.parse(m.text) as Record<string, unknown>));

  it('shows the station, sets its current limit, records its session and refuses commands while it is away', async () => {
    await start();
    const discovery = JSON.parse(
      (await probe.waitFor(`${prefix}/device/chargebridge_carport/config`)).text,
    ) as {
      components: Record<string, { p: string; max?: number }>;
    };
    const keys = Object.keys(discovery.components);
    expect(keys).toEqual(
      expect.arrayContaining([
        'charging',
        'max_current',
        'power',
        'energy_total',
        'ocpp_status',
        'link',
        'restart',
        'user',
      ]),
    );
    expect(keys).not.toEqual(expect.arrayContaining(['rssi']));
    expect(
      keys.filter((k) => /temperature|language|plug_state|scheduled_start|session_limit/.test(k)),
    ).toEqual([]);
    expect(discovery.components.max_current?.max).toBe(20);
    await probe.waitFor(`${base}/carport/availability`, (m) => m.text === 'offline');

    peer = await connectPeer(rig.url, 'CARPORT');
    await peer.send('BootNotification', { chargePointVendor: 'Besen', chargePointModel: 'BS20-OCPP' });
    await probe.waitFor(`${base}/carport/availability`, (m) => m.text === 'online');
    await peer.send('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
    await state(
      (s) => s.ocpp_status === 'preparing' && s.plugged === true && typeof s.last_seen === 'string',
    );

    // A current limit from Home Assistant becomes a TxDefaultProfile at the station.
    const profile = peer.next('SetChargingProfile');
    await probe.publish(`${base}/carport/set/max_current`, '12');
    expect(await profile).toMatchObject({
      connectorId: 1,
      csChargingProfiles: {
        chargingProfilePurpose: 'TxDefaultProfile',
        chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ limit: 12 }] },
      },
    });
    await state((s) => s.max_current_a === 12);
    await probe.publish(`${base}/carport/set/max_current`, '25');
    const rejected = await probe.waitFor(`${base}/bridge/event`, (m) => m.text.includes('command_rejected'));
    expect(rejected.text).toMatch(/20/);
    expect(peer.received.filter((r) => r.action === 'SetChargingProfile')).toHaveLength(1);

    // The charging switch with bob selected: the remote start carries bob's card.
    await probe.publish(`${base}/carport/set/user`, 'bob');
    const remoteStart = peer.next('RemoteStartTransaction');
    await probe.publish(`${base}/carport/set/charging`, 'ON');
    expect(await remoteStart).toMatchObject({ connectorId: 1, idTag: 'BOBCARD' });
    const ts = (minute: number) => new Date(rig.clock.now() + minute * 60_000).toISOString();
    const { transactionId } = (await peer.send('StartTransaction', {
      connectorId: 1,
      idTag: 'BOBCARD',
      meterStart: 40_000,
      timestamp: ts(0),
    })) as { transactionId: number };
    await peer.send('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    await rig.clock.advance(10 * 60_000);
    await peer.send('MeterValues', {
      connectorId: 1,
      transactionId,
      meterValue: [
        {
          timestamp: ts(0),
          sampledValue: [
            { value: '41.8', measurand: 'Energy.Active.Import.Register', unit: 'kWh' },
            { value: '11000', measurand: 'Power.Active.Import', unit: 'W' },
          ],
        },
      ],
    });
    await state((s) => s.power_w === 11000 && s.energy_total_kwh === 41.8 && s.charging_active === true);
    const remoteStop = peer.next('RemoteStopTransaction');
    await probe.publish(`${base}/carport/set/charging`, 'OFF');
    expect((await remoteStop).transactionId).toBe(transactionId);
    await rig.clock.advance(60_000);
    await peer.send('StopTransaction', {
      transactionId,
      meterStop: 42_500,
      timestamp: ts(0),
      reason: 'Remote',
    });
    await peer.send('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    await untilState(rig.charger('carport'), (s) => s.status === 'available');
    await tracker.idle();
    expect(completed).toHaveLength(1);
    const [session] = store.query({ chargerId: 'carport' });
    expect(session).toMatchObject({
      chargerSessionId: String(transactionId),
      user: 'bob',
      userSource: 'id_tag',
      idTag: 'BOBCARD',
      idTagKnown: true,
      meterStartKwh: 40,
      meterStopKwh: 42.5,
      energyKwh: 2.5,
      stopReason: 'remote',
    });

    // The station goes away: Home Assistant sees it, and a command is refused with the reason.
    peer.cp.close();
    peer = null;
    await probe.waitFor(
      `${base}/carport/availability`,
      (m) => m.text === 'offline' && probe.on(`${base}/carport/availability`).length > 2,
    );
    const mark = probe.received.length;
    await probe.publish(`${base}/carport/set/max_current`, '8');
    const refused = await probe.waitFor(
      `${base}/bridge/event`,
      (m) => probe.received.indexOf(m) >= mark && m.text.includes('command_rejected'),
    );
    expect(refused.text).toMatch(/station carport is not connected \(last seen .*\); nothing was sent/);
  });
});

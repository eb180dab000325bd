import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Cmd, SettingAction } from '../../src/evse-master/protocol/commands.js';
import { brokers, type TestBroker } from '../helpers/brokers.js';
import type { ReceivedMessage } from '../helpers/mqtt-probe.js';
import { describeEach } from '../helpers/system-programs.js';
import { HaRig } from './ha-rig.js';

type Json = Record<string, unknown>;
const json = (m: ReceivedMessage) => JSON.parse(m.text) as Json;

describeEach(brokers)('Home Assistant state and commands against $name', (kind) => {
  let broker: TestBroker;
  const rigs: HaRig[] = [];

  beforeAll(async () => {
    broker = await kind.start();
  });
  afterAll(() => broker.stop());
  afterEach(async () => {
    for (const rig of rigs.splice(0)) await rig.close();
  });

  async function onlineRig(options: Parameters<typeof HaRig.create>[1] = {}): Promise<HaRig> {
    const r = await HaRig.create(broker, options);
    rigs.push(r);
    await r.ext.start();
    await r.chargerOnline();
    await r.probe.waitFor(r.stateTopic, (m) => json(m).link === 'online');
    return r;
  }

  it('follows the simulated car: plugged, then charging after set/charging ON (0x8007), stopped after OFF (0x8008)', async () => {
    const r = await onlineRig();
    let mark = r.probe.received.length;
    r.sim.plugIn();
    await r.clock.advance(10_000);
    const plugged = await r.waitAfter(mark, r.stateTopic, (m) => json(m).plugged === true);
    expect(json(plugged)).toMatchObject({
      status: 'plugged',
      charging_active: false,
      plug_state: 'connected',
    });
    expect(json(await r.waitAfter(mark, `${r.base}/garage/event`))).toMatchObject({ event_type: 'plugged' });
    expect(json(await r.waitAfter(mark, r.bridgeEventTopic))).toEqual({
      type: 'plugged',
      charger: 'garage',
      data: {},
    });

    mark = r.probe.received.length;
    const start = r.nextFrame(Cmd.ChargeStart);
    await r.probe.publish(`${r.base}/garage/set/charging`, 'ON');
    const frame = await start;
    expect(frame.message).toMatchObject({ type: 'charge_start', maxCurrentA: 32 });
    await r.clock.advance(10_000);
    const charging = await r.waitAfter(mark, r.stateTopic, (m) => json(m).charging_active === true);
    expect(json(charging)).toMatchObject({ status: 'charging', charging_enabled: true, power_w: 230 * 32 });
    await r.waitAfter(mark, r.bridgeEventTopic, (m) => json(m).type === 'charging_started');

    mark = r.probe.received.length;
    const stop = r.nextFrame(Cmd.ChargeStop);
    await r.probe.publish(`${r.base}/garage/set/charging`, 'off');
    await stop;
    await r.clock.advance(10_000);
    await r.waitAfter(mark, r.stateTopic, (m) => json(m).charging_active === false);
    await r.waitAfter(mark, `${r.base}/garage/event`, (m) => json(m).event_type === 'charging_stopped');
  });

  it('set/max_current 16 sends a 0x8107 SET with 16 A and the state follows', async () => {
    const r = await onlineRig({ sim: { maxCurrentA: 10 } });
    await r.probe.waitFor(r.stateTopic, (m) => json(m).max_current_a === 10);
    const mark = r.probe.received.length;
    const set = r.nextFrame(Cmd.SetGetMaxCurrent);
    await r.probe.publish(`${r.base}/garage/set/max_current`, '16');
    expect((await set).message).toMatchObject({ action: SettingAction.Set, currentA: 16 });
    await r.clock.advance(1000);
    await r.waitAfter(mark, r.stateTopic, (m) => json(m).max_current_a === 16);
    expect(r.probe.received.slice(mark).filter((m) => m.topic === r.bridgeEventTopic)).toEqual([]);
  });

  it('rejects garbage and out-of-range values on bridge/event, sends nothing to the charger, re-publishes the state', async () => {
    const r = await onlineRig();
    const cases: Array<{ key: string; payload: string | Buffer; error: RegExp; shown?: string }> = [
      { key: 'max_current', payload: 'sixteen', error: /expected a number/ },
      { key: 'max_current', payload: '5', error: /below the minimum of 6 A/ },
      { key: 'max_current', payload: '33', error: /above this charger's maximum of 32 A/ },
      { key: 'max_current', payload: '16.5', error: /not a whole number/ },
      { key: 'max_current', payload: '1e1', error: /expected a number/ },
      { key: 'max_current', payload: '', error: /empty payload/ },
      {
        key: 'max_current',
        payload: Buffer.from([0xff, 0x00, 0x31]),
        error: /not valid UTF-8/,
        shown: '\uFFFD\\u00001',
      },
      { key: 'max_current', payload: 'x'.repeat(5000), error: /too long/, shown: `${'x'.repeat(64)}…` },
      { key: 'charging', payload: 'maybe', error: /expected ON or OFF/ },
      { key: 'restart', payload: 'PRESS', error: /does not support/ },
      { key: 'bogus', payload: '1', error: /unknown command/ },
    ];
    const framesBefore = r.sim.receivedFrames.length;
    for (const c of cases) {
      const mark = r.probe.received.length;
      await r.probe.publish(`${r.base}/garage/set/${c.key}`, c.payload);
      const event = json(
        await r.waitAfter(mark, r.bridgeEventTopic, (m) => json(m).type === 'command_rejected'),
      );
      const data = event.data as Json;
      expect(event.charger).toBe('garage');
      expect(data.key).toBe(c.key);
      expect(data.error).toMatch(c.error);
      if (c.shown !== undefined) expect(data.payload).toBe(c.shown);
      else expect(data.payload).toBe(String(c.payload));
      // Re-published even though nothing changed, so the control in Home Assistant snaps back.
      await r.waitAfter(mark, r.stateTopic);
    }
    const commandFrames: number[] = [Cmd.ChargeStart, Cmd.ChargeStop, Cmd.SetGetMaxCurrent];
    expect(
      r.sim.receivedFrames.slice(framesBefore).filter((f) => commandFrames.includes(f.frame.command)),
    ).toEqual([]);
    expect(r.logText).toMatch(/"level":40[^\n]*command rejected/);
  });

  it('rejects commands for unknown chargers and malformed command topics', async () => {
    const r = await onlineRig();
    let mark = r.probe.received.length;
    await r.probe.publish(`${r.base}/carport/set/charging`, 'ON');
    const unknown = json(await r.waitAfter(mark, r.bridgeEventTopic));
    expect(unknown).toMatchObject({
      type: 'command_rejected',
      charger: 'carport',
      data: { key: 'charging', payload: 'ON', error: "unknown charger 'carport' (configured: garage)" },
    });
    mark = r.probe.received.length;
    await r.probe.publish(`${r.base}/garage/set/Max-Current`, '16');
    expect(json(await r.waitAfter(mark, r.bridgeEventTopic)).data).toMatchObject({
      error: /not a valid command topic/,
    });
  });

  it('ignores a retained command left on the broker: it would replay on every reconnect', async () => {
    const r = await HaRig.create(broker);
    rigs.push(r);
    await r.probe.publish(`${r.base}/garage/set/max_current`, '10', { retain: true });
    await r.ext.start();
    await r.chargerOnline();
    const sets = r
      .framesAt(Cmd.SetGetMaxCurrent)
      .filter((f) => f.message.type === 'max_current_request' && f.message.action === SettingAction.Set);
    expect(sets).toEqual([]);
    expect(r.logText).toMatch(/ignoring a retained command/);
    await r.probe.publish(`${r.base}/garage/set/max_current`, '', { retain: true });
  });

  it('availability goes offline when the link drops, commands are then refused, and it comes back online', async () => {
    const r = await onlineRig();
    let mark = r.probe.received.length;
    r.sim.setUnreachable(true);
    await r.clock.advance(0);
    await r.waitAfter(mark, r.availabilityTopic, (m) => m.text === 'offline');
    await r.waitAfter(mark, r.bridgeEventTopic, (m) => json(m).type === 'charger_lost');
    const offlineState = await r.waitAfter(mark, r.stateTopic, (m) => json(m).link === 'offline');
    expect(json(offlineState).status).toBe('offline');
    const info = await r.waitAfter(mark, `${r.base}/bridge/info`);
    expect(json(info)).toMatchObject({ chargers_online: 0 });

    mark = r.probe.received.length;
    const frames = r.sim.receivedFrames.length;
    await r.probe.publish(`${r.base}/garage/set/max_current`, '10');
    const rejected = json(await r.waitAfter(mark, r.bridgeEventTopic));
    expect(rejected).toMatchObject({
      type: 'command_rejected',
      data: { key: 'max_current', error: /not connected/ },
    });
    expect(r.sim.receivedFrames.length).toBe(frames);

    mark = r.probe.received.length;
    r.sim.setUnreachable(false);
    for (let i = 0; i < 30 && r.charger.getState().link !== 'online'; i++) await r.clock.advance(1000);
    await r.waitAfter(mark, r.availabilityTopic, (m) => m.text === 'online');
    await r.waitAfter(mark, r.bridgeEventTopic, (m) => json(m).type === 'charger_connected');
  });

  it('re-publishes an unchanged state every expire_after/2 while online, so live values do not expire', async () => {
    // The simulated charger sends no status for 10 minutes; only keep-alives flow.
    const r = await onlineRig({ sim: { statusIntervalMs: 600_000 } });
    await r.clock.advance(1000);
    // A rejected command publishes the state now, which starts the refresh period at a known time.
    let mark = r.probe.received.length;
    await r.probe.publish(`${r.base}/garage/set/charging`, 'maybe');
    await r.waitAfter(mark, r.bridgeEventTopic);
    const last = json(await r.waitAfter(mark, r.stateTopic));
    await r.barrier();
    mark = r.probe.received.length;
    await r.clock.advance(29_999);
    await r.barrier();
    expect(r.probe.received.slice(mark).filter((m) => m.topic === r.stateTopic)).toEqual([]);
    await r.clock.advance(1);
    const refreshed = await r.waitAfter(mark, r.stateTopic);
    expect(json(refreshed)).toEqual(last);
    // Offline, values are allowed to expire: only real changes (reconnect attempts) are published.
    r.sim.setUnreachable(true);
    await r.clock.advance(0);
    await r.waitAfter(mark, r.availabilityTopic, (m) => m.text === 'offline');
    mark = r.probe.received.length;
    await r.clock.advance(65_000);
    await r.barrier();
    const offline = r.probe.received.slice(mark).filter((m) => m.topic === r.stateTopic);
    for (let i = 1; i < offline.length; i++) expect(offline[i]?.text).not.toBe(offline[i - 1]?.text);
  });
});

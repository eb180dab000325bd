/**
 * EvseSession rules that the life-of-a-session test does not reach: the charger keeping its old
 * app session across a BLE drop (Q5), one command on the wire at a time, and clean close.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { Cmd, SettingAction } from '../../src/evse-master/protocol/commands.js';
import { encodeMaxCurrentSetting } from '../../src/evse-master/protocol/messages/settings.js';
import { encodeGetVersion } from '../../src/evse-master/protocol/messages/version.js';
import { EvseSession, type SessionPhase } from '../../src/evse-master/session.js';
import { createSimulatedTransport, SimulatedBs20 } from '../../src/evse-master/simulator/index.js';

const open: Array<{ session: EvseSession; sim: SimulatedBs20; clock: ManualClock }> = [];

function rig(simOptions: ConstructorParameters<typeof SimulatedBs20>[0] = {}) {
  const clock = new ManualClock();
  const sim = new SimulatedBs20({ clock, timeZone: 'UTC', ...simOptions });
  const session = new EvseSession({
    transport: createSimulatedTransport(sim),
    pin: '123456',
    clock,
    timeZone: 'UTC',
  });
  const phases: SessionPhase[] = [];
  session.events.on('phase', (p) => phases.push(p));
  open.push({ session, sim, clock });
  return { clock, sim, session, phases };
}

afterEach(async () => {
  for (const r of open.splice(0)) {
    await r.session.close();
    r.sim.close();
    expect(r.clock.pendingTimers()).toBe(0);
  }
});

describe('EvseSession', () => {
  it('logs in again when the charger kept our old session and sends no beacon (Q5)', async () => {
    const { clock, sim, session } = rig({ keepSessionAcrossReconnect: true });
    session.open();
    await clock.advance(3_000);
    expect(session.loggedIn).toBe(true);
    const loginsBefore = sim.receivedFrames.filter((f) => f.frame.command === Cmd.RequestLogin).length;

    sim.dropLink('blip');
    await clock.advance(10_000);
    expect(session.loggedIn).toBe(true);
    expect(sim.loggedIn).toBe(true);
    // We asked to log in ourselves instead of waiting for a beacon that never comes.
    expect(sim.receivedFrames.filter((f) => f.frame.command === Cmd.RequestLogin).length).toBeGreaterThan(
      loginsBefore,
    );
    await clock.advance(2 * 60_000);
    expect(sim.loggedIn).toBe(true);
  });

  it('keeps one command on the wire at a time, in order', async () => {
    const { clock, sim, session } = rig();
    session.open();
    await clock.advance(3_000);
    const order: string[] = [];
    sim.events.on('received', (f) => {
      if (f.frame.command === Cmd.GetVersion) order.push('version sent');
      if (f.frame.command === Cmd.SetGetMaxCurrent) order.push('current sent');
    });
    sim.events.on('sent', (command) => {
      if (command === Cmd.Version) order.push('version answered');
      if (command === Cmd.MaxCurrent) order.push('current answered');
    });
    const a = session.request(Cmd.GetVersion, encodeGetVersion());
    const b = session.request(
      Cmd.SetGetMaxCurrent,
      encodeMaxCurrentSetting({ action: SettingAction.Set, currentA: 12 }),
    );
    const [version, current] = await Promise.all([a, b]);
    expect(version.type).toBe('version');
    expect(current.type === 'max_current' && current.currentA).toBe(12);
    expect(order).toEqual(['version sent', 'version answered', 'current sent', 'current answered']);
  });

  it('fails queued commands with offline when the link drops, and refuses new ones until logged in', async () => {
    const { clock, sim, session } = rig();
    session.open();
    await clock.advance(3_000);
    sim.goSilent(60_000);
    const pending = session.request(Cmd.GetVersion, encodeGetVersion(), { timeoutMs: 30_000 });
    const outcome = pending.then(
      () => 'answered',
      (err: { code?: string }) => err.code,
    );
    sim.dropLink('gone');
    await clock.advance(10);
    expect(await outcome).toBe('offline');
    await expect(session.request(Cmd.GetVersion, encodeGetVersion())).rejects.toMatchObject({
      code: 'offline',
    });
  });

  it('close() stops reconnecting and leaves no timers', async () => {
    const { clock, sim, session, phases } = rig();
    sim.setUnreachable(true);
    session.open();
    await clock.advance(10_000);
    expect(phases).toContain('reconnect_wait');
    await session.close();
    expect(session.phase).toBe('closed');
    await clock.advance(120_000);
    expect(session.phase).toBe('closed');
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { Cmd } from '../../../src/evse-master/protocol/commands.js';
import { decodeFrame, isChargerPassword, serialToString } from '../../../src/evse-master/protocol/frame.js';
import { FrameReassembler } from '../../../src/evse-master/protocol/reassembler.js';
import {
  createSimulatedTransport,
  SimulatedBleLink,
  SimulatedBs20,
} from '../../../src/evse-master/simulator/index.js';
import { TransportError } from '../../../src/evse-master/transports/transport.js';
import { advanceAnswering, createLoggedInRig, createRig, SERIAL, TestClient } from './harness.js';

describe('SimulatedBs20 login and keep-alive', () => {
  it('sends 0x0001 beacons every 3 s before login, with the BS20 device info', async () => {
    const { clock, client, sim } = await createRig();
    await clock.advance(699);
    expect(client.received).toHaveLength(0);
    await clock.advance(1);
    await clock.advance(6000);
    const beacons = client.of('login_beacon');
    expect(beacons).toHaveLength(3);
    expect(client.received.map((r) => r.atMs - client.received[0]!.atMs)).toEqual([0, 3000, 6000]);
    const beacon = beacons[0]!;
    expect(beacon).toMatchObject({
      deviceType: 1,
      phases: 1,
      brand: 'BESEN',
      model: 'BS20',
      maxCurrentA: 32,
      maxPowerW: 7040,
    });
    const frame = client.received[0]!.frame;
    expect(serialToString(frame.serial)).toBe(SERIAL);
    expect(isChargerPassword(frame.password)).toBe(true);
    expect(frame.payload).toHaveLength(70);
    expect(sim.loggedIn).toBe(false);
  });

  it('advertises a 3-phase 16 A unit as device type 12', async () => {
    const { clock, client } = await createRig({ phases: 3 });
    await clock.advance(700);
    expect(client.last('login_beacon')).toMatchObject({
      deviceType: 12,
      phases: 3,
      maxCurrentA: 16,
      maxPowerW: 10560,
    });
  });

  it('accepts the right PIN: 0x0002, then headings and status at the configured cadence, no more beacons', async () => {
    const rig = await createRig({ headingIntervalMs: 10_000, statusIntervalMs: 7000 });
    const { clock, client, sim } = rig;
    await clock.advance(700);
    client.clear();
    await client.send(Cmd.RequestLogin);
    expect(client.commands()).toEqual([Cmd.LoginResponse]);
    expect(client.last('login_response').model).toBe('BS20');
    expect(sim.loginPhase).toBe('authenticated');
    await client.send(Cmd.LoginConfirm, Uint8Array.of(1));
    expect(sim.loggedIn).toBe(true);
    // A status right after login.
    expect(client.commands()).toEqual([Cmd.LoginResponse, Cmd.Status]);
    const loginAt = clock.now();
    client.clear();
    await advanceAnswering(rig, 30_000);
    const at = (cmd: number) =>
      client.received.filter((r) => r.frame.command === cmd).map((r) => r.atMs - loginAt);
    expect(at(Cmd.Heading)).toEqual([10_000, 20_000, 30_000]);
    expect(at(Cmd.Status)).toEqual([7000, 14_000, 21_000, 28_000]);
    expect(at(Cmd.LoginBeacon)).toEqual([]);
    expect(at(Cmd.ChargingStatus)).toEqual([]);
    expect(sim.loggedIn).toBe(true);
  });

  it('answers a wrong PIN with 0x0155 [00], on every frame that carries it', async () => {
    const { client, sim } = await createRig();
    await client.send(Cmd.RequestLogin, new Uint8Array(0), '000000');
    await client.send(Cmd.GetVersion, new Uint8Array(0), '000000');
    expect(client.commands()).toEqual([Cmd.PasswordError, Cmd.PasswordError]);
    expect(client.last('password_error').code).toBe(0);
    expect(client.received[0]!.frame.payload).toEqual(Uint8Array.of(0));
    expect(sim.loginPhase).toBe('none');
    expect(sim.receivedFrames.map((f) => f.pinOk)).toEqual([false, false]);
  });

  it('drops the session after 30 s without 0x8003 and resumes beacons', async () => {
    const rig = await createLoggedInRig();
    const { clock, client, sim } = rig;
    const phases: string[] = [];
    sim.events.on('login', (phase, reason) => phases.push(`${phase}:${reason}`));
    await advanceAnswering(rig, 20_000);
    expect(sim.loggedIn).toBe(true);
    // Answered at 20 s; silence from the client from now on.
    await clock.advance(29_999);
    expect(sim.loggedIn).toBe(true);
    await clock.advance(1);
    expect(sim.loggedIn).toBe(false);
    expect(phases).toEqual(['none:no heading response']);
    client.clear();
    await clock.advance(10_000);
    expect(client.commands().every((c) => c === Cmd.LoginBeacon)).toBe(true);
    expect(client.of('login_beacon').length).toBeGreaterThanOrEqual(3);
  });

  it('ignores requests before login and a login confirm without an accepted 0x8002', async () => {
    const { client, sim } = await createRig();
    await client.send(Cmd.GetVersion);
    await client.send(Cmd.LoginConfirm, Uint8Array.of(1));
    expect(client.received).toHaveLength(0);
    expect(sim.loggedIn).toBe(false);
  });

  it('answers the version request with a 36-byte payload, or not at all on a CDD-like board', async () => {
    const rig = await createLoggedInRig();
    await rig.client.send(Cmd.GetVersion);
    const version = rig.client.last('version');
    expect(version).toMatchObject({
      hardwareVersion: 'C.3252.112A008',
      featureBits: 0x42296d48,
      supportNew: null,
    });
    expect(rig.client.received.at(-1)!.frame.payload).toHaveLength(36);
    const silent = await createLoggedInRig({ answersVersion: false });
    await silent.client.send(Cmd.GetVersion);
    expect(silent.client.received).toHaveLength(0);
  });

  it.each([20, 100])(
    'cuts the stream into notifications of at most %i bytes that reassemble to valid frames',
    async (size) => {
      const rig = await createLoggedInRig({ notificationSize: size, chargeRecords: true });
      const { clock, client, sim } = rig;
      sim.plugIn();
      await client.startCharge({ maxCurrentA: 10 });
      await advanceAnswering(rig, 30_000);
      await client.stopCharge();
      await clock.advance(4000);
      expect(client.chunks.length).toBeGreaterThan(5);
      for (const chunk of client.chunks) expect(chunk.length).toBeLessThanOrEqual(size);
      // Some notification packs more than one frame (or a long one is split) — the stream really is cut.
      expect(client.chunks.some((c) => c.length === size)).toBe(true);
      // Reassembling the concatenation one frame at a time gives only valid frames, none lost.
      const again = new FrameReassembler();
      const frames = client.chunks.flatMap((c) => again.push(c));
      expect(frames.length).toBe(client.received.length);
      expect(again.stats.discardedBytes).toBe(0);
      const commands = new Set(frames.map((f) => f.command));
      for (const cmd of [
        Cmd.ChargeStartResponse,
        Cmd.ChargingStatus,
        Cmd.Status,
        Cmd.Heading,
        Cmd.UploadChargeRecord,
      ]) {
        expect(commands.has(cmd)).toBe(true);
      }
      const record = client.received.find((r) => r.frame.command === Cmd.UploadChargeRecord)!;
      expect(record.frame.payload.length).toBe(155);
      if (size === 100) {
        // The 180-byte record frame arrives as 100 + 80 when sent alone (Q1).
        const index = client.chunks.findIndex((c) => c.length === 100 && c[19] === 0x00 && c[20] === 0x0a);
        expect(index).toBeGreaterThanOrEqual(0);
        expect(
          decodeFrame(new Uint8Array([...client.chunks[index]!, ...client.chunks[index + 1]!])).command,
        ).toBe(Cmd.UploadChargeRecord);
      }
    },
  );

  it('takes one connection at a time', async () => {
    const { sim, link } = await createRig();
    const second = new SimulatedBleLink(sim);
    const error = await second.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('connect_failed');
    await link.close();
    await expect(second.connect()).resolves.toMatchObject({ localName: 'ACP#EVSE0158' });
    expect(second.connected).toBe(true);
    await expect(link.write(Uint8Array.of(1))).rejects.toMatchObject({ code: 'closed' });
  });

  it('ends the app session with the link unless keepSessionAcrossReconnect (Q5)', async () => {
    const plain = await createLoggedInRig();
    await plain.link.close();
    expect(plain.sim.loggedIn).toBe(false);

    const rig = await createLoggedInRig({ keepSessionAcrossReconnect: true });
    await rig.link.close();
    expect(rig.sim.loggedIn).toBe(true);
    await rig.clock.advance(5000);
    await rig.link.connect();
    rig.client.clear();
    await rig.clock.advance(10_000);
    // No beacon after reconnecting, headings keep coming.
    expect(rig.client.of('login_beacon')).toHaveLength(0);
    expect(rig.client.of('heading').length).toBeGreaterThanOrEqual(1);
    await rig.client.answerHeading();
    await rig.clock.advance(20_000);
    expect(rig.sim.loggedIn).toBe(true);
  });

  it('leaves no timers behind after close, even mid-charge and mid-session', async () => {
    const rig = await createLoggedInRig({ maxCurrentA: 16 });
    rig.sim.plugIn({ batteryKwh: 50 });
    await rig.client.startCharge({ maxCurrentA: 16, maxEnergyKwh: 5 });
    await rig.clock.advance(5000);
    expect(rig.clock.pendingTimers()).toBeGreaterThan(0);
    await rig.link.close();
    rig.sim.close();
    expect(rig.clock.pendingTimers()).toBe(0);
    await rig.clock.advance(60_000);
    expect(rig.clock.pendingTimers()).toBe(0);
  });

  it('holds no timers with no link and no session, and fails to connect once closed', async () => {
    const clock = new ManualClock();
    const sim = new SimulatedBs20({ clock });
    const link = new SimulatedBleLink(sim);
    const client = new TestClient(link, clock);
    await link.connect();
    await clock.advance(3000);
    expect(client.of('login_beacon').length).toBeGreaterThan(0);
    await link.close();
    expect(clock.pendingTimers()).toBe(0);
    sim.close();
    await expect(link.connect()).rejects.toBeInstanceOf(TransportError);
  });

  it('runs on the system clock too (the no-charger demo)', async () => {
    const sim = new SimulatedBs20({ firstBeaconDelayMs: 0 });
    const link = createSimulatedTransport(sim);
    const firstChunk = new Promise<Uint8Array>((resolve) => link.events.once('data', resolve));
    await link.connect();
    const frames = new FrameReassembler().push(await firstChunk);
    expect(frames[0]?.command).toBe(Cmd.LoginBeacon);
    const disconnected = new Promise<string>((resolve) => link.events.once('disconnect', resolve));
    sim.close();
    await expect(disconnected).resolves.toBe('simulated charger closed');
    expect(link.connected).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { Cmd } from '../../../src/evse-master/protocol/commands.js';
import { encodeNicknameRequest } from '../../../src/evse-master/protocol/messages/settings.js';
import { TransportError } from '../../../src/evse-master/transports/transport.js';
import { createLoggedInRig, createRig } from './harness.js';

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe('SimulatedBs20 fault injection', () => {
  it('dropLink: the transport sees a disconnect, the session ends, a reconnect gets beacons', async () => {
    const { sim, link, client, clock } = await createLoggedInRig();
    sim.dropLink('supervision timeout');
    expect(client.disconnects).toEqual(['supervision timeout']);
    expect(link.connected).toBe(false);
    expect(sim.loggedIn).toBe(false);
    await expect(link.write(Uint8Array.of(0))).rejects.toMatchObject({ code: 'closed' });
    await link.connect();
    await clock.advance(700);
    expect(client.last('login_beacon').model).toBe('BS20');
  });

  it('goSilent: nothing is sent and writes are ignored for the duration, then traffic resumes', async () => {
    const { sim, client, clock } = await createLoggedInRig();
    sim.goSilent(15_000);
    await client.send(Cmd.GetVersion);
    await clock.advance(14_000);
    expect(client.received).toHaveLength(0);
    expect(sim.receivedFrames.some((f) => f.frame.command === Cmd.GetVersion)).toBe(false);
    await clock.advance(6000);
    expect(client.of('heading').length + client.of('status').length).toBeGreaterThan(0);
    await client.send(Cmd.GetVersion);
    expect(client.of('version')).toHaveLength(1);
  });

  it('goSilent longer than the heading deadline loses the session (answers are ignored meanwhile)', async () => {
    const { sim, client, clock } = await createLoggedInRig();
    sim.goSilent(40_000);
    for (let i = 0; i < 4; i++) {
      await clock.advance(10_000);
      await client.answerHeading();
    }
    expect(sim.loggedIn).toBe(false);
    await clock.advance(5000);
    expect(client.of('login_beacon').length).toBeGreaterThan(0);
  });

  it('sendGarbage puts junk on the wire between frames; the reassembler skips it and loses no frame', async () => {
    const { sim, client, clock } = await createLoggedInRig({ notificationSize: 20 });
    const junk = sim.sendGarbage(
      Uint8Array.of(0x00, 0x06, 0x00, 0x06, 0x01, 0x00, 0x03, 0xaa, 0x55, 0x0f, 0x02),
    );
    await client.send(Cmd.GetVersion);
    const random = sim.sendGarbage(37);
    expect(random).toHaveLength(37);
    await clock.advance(10_000);
    const wire = concat(client.chunks);
    expect(contains(wire, junk)).toBe(true);
    expect(contains(wire, random)).toBe(true);
    expect(client.of('version')).toHaveLength(1);
    expect(client.of('heading')).toHaveLength(1);
    expect(client.of('status')).toHaveLength(1);
    expect(client.reassembler.stats.discardedBytes).toBeGreaterThanOrEqual(junk.length + random.length);
  });

  it('is reproducible: the same seed gives the same junk', async () => {
    const a = await createRig({ seed: 7 });
    const b = await createRig({ seed: 7 });
    expect(a.sim.sendGarbage(64)).toEqual(b.sim.sendGarbage(64));
  });

  it('junk inside the next frame loses that frame only', async () => {
    const { sim, client } = await createLoggedInRig();
    sim.sendGarbage(5, { insideNextFrame: true });
    await client.send(Cmd.GetVersion);
    await client.send(Cmd.SetGetLanguage, Uint8Array.of(2, 0));
    expect(client.of('version')).toHaveLength(0);
    expect(client.of('language')).toHaveLength(1);
    expect(client.reassembler.stats.discardedBytes).toBeGreaterThan(0);
  });

  it('corruptNextFrame flips a checksum byte: that frame is dropped by the client', async () => {
    const { sim, client } = await createLoggedInRig();
    sim.corruptNextFrame();
    await client.send(Cmd.GetVersion);
    await client.send(Cmd.GetVersion);
    expect(client.of('version')).toHaveLength(1);
    expect(client.reassembler.stats.badFrames).toBeGreaterThanOrEqual(1);
  });

  it('setUnreachable: connect fails with not_found, the current link drops', async () => {
    const { sim, link, client } = await createLoggedInRig();
    sim.setUnreachable(true);
    expect(client.disconnects).toHaveLength(1);
    const error = await link.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('not_found');
    sim.setUnreachable(false);
    await expect(link.connect()).resolves.toMatchObject({ localName: 'ACP#EVSE0158' });
  });

  it('a nickname SET is answered, then the link drops and the charger advertises the new name (Q12)', async () => {
    const { sim, link, client, clock } = await createLoggedInRig();
    await client.send(Cmd.SetGetNickname, encodeNicknameRequest({ action: 1, name: 'Garage' }));
    expect(client.last('nickname')).toMatchObject({ action: 1, name: 'Garage' });
    expect(sim.localName).toBe('ACP#Garage');
    expect(link.connected).toBe(true);
    await clock.advance(500);
    expect(client.disconnects).toEqual(['nickname changed']);
    const info = await link.connect();
    expect(info.localName).toBe('ACP#Garage');
    await client.login();
    await client.send(Cmd.SetGetNickname, encodeNicknameRequest({ action: 2, name: null }));
    expect(client.last('nickname')).toMatchObject({ action: 2, name: 'Garage' });
  });

  it('accepts client frames split over several writes, with junk in front', async () => {
    const { link, client } = await createRig();
    const { encodeFrame, pinToPassword, serialFromString } = await import(
      '../../../src/evse-master/protocol/frame.js'
    );
    const frame = encodeFrame({
      keyType: 0,
      serial: serialFromString('1122334455667788'),
      password: pinToPassword('123456'),
      command: Cmd.RequestLogin,
      payload: new Uint8Array(0),
    });
    await link.write(Uint8Array.of(0x06, 0x00, 0xff));
    await link.write(frame.subarray(0, 7));
    await link.write(frame.subarray(7, 20));
    await link.write(frame.subarray(20));
    await client.clock.advance(0);
    expect(client.commands()).toEqual([Cmd.LoginResponse]);
  });
});

describe('SimulatedBs20 robustness', () => {
  it('handles any client payload for every known command without throwing', async () => {
    const { KNOWN_COMMAND_IDS } = await import('../../../src/evse-master/protocol/commands.js');
    const rig = await createLoggedInRig({ nameChangeDropDelayMs: 0 });
    const errors: unknown[] = [];
    rig.sim.events.on('error', (error) => errors.push(error));
    rig.sim.plugIn();
    let seed = 12345;
    const nextByte = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    };
    for (const command of KNOWN_COMMAND_IDS) {
      for (const length of [0, 1, 2, 5, 17, 33, 47, 60]) {
        const payload = Uint8Array.from({ length }, nextByte);
        if (length > 0 && command !== Cmd.SetGetNickname) payload[0] = nextByte() % 3;
        if (!rig.link.connected) {
          await rig.link.connect();
          await rig.client.login();
        }
        await rig.client.send(command, payload);
        await rig.client.answerHeading();
      }
    }
    expect(errors).toEqual([]);
    expect(rig.sim.receivedFrames.length).toBeGreaterThan(0);
  });
});

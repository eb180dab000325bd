/**
 * What real (or hostile) peers do wrong: garbage frames, wrong message types, unknown actions,
 * missing fields, non-conforming meter values, oversized frames, a second connection with the same
 * identity. The server answers or closes, and keeps serving.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { call, createRpcClient, type RpcClient } from '../../../src/ocpp/rpc.js';
import { CsRig, deferred, FrameLog, stationConfig, untilState } from './harness.js';

let rig: CsRig;
const clients: RpcClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close({ force: true });
  await rig.stop();
});

interface RawPeer {
  client: RpcClient;
  /** The first frame from the server whose message id is `id`. */
  answer(id: string): Promise<unknown[]>;
  closed: Promise<number>;
  /** Every frame from the server so far. */
  frames: unknown[][];
}

async function rawPeer(identity: string): Promise<RawPeer> {
  const client = createRpcClient({
    endpoint: rig.url,
    identity,
    protocols: ['ocpp1.6'],
    reconnect: false,
    pingIntervalMs: 0,
  });
  clients.push(client);
  const frames: unknown[][] = [];
  const waiters = new Map<string, (f: unknown[]) => void>();
  client.on('message', ((m: { message: Buffer | string; outbound: boolean }) => {
    if (m.outbound) return;
    const frame = JSON.parse(m.message.toString()) as unknown[];
    frames.push(frame);
    waiters.get(String(frame[1]))?.(frame);
  }) as never);
  // Our client sees the server's answers to calls it did not make as bad messages: expected here.
  client.on('badMessage', () => undefined);
  const closed = deferred<number>();
  client.on('close', ((e: { code: number }) => closed.resolve(e.code)) as never);
  await client.connect();
  return {
    client,
    frames,
    closed: closed.promise,
    answer: (id) => {
      const seen = frames.find((f) => String(f[1]) === id);
      if (seen) return Promise.resolve(seen);
      const d = deferred<unknown[]>();
      waiters.set(id, d.resolve);
      return d.promise;
    },
  };
}

describe('robustness of the central system', () => {
  it('logs a flood of unreadable frames as one line a minute per station, with the count', async () => {
    const lines: Array<{ msg: string; frames?: number; identity?: string }> = [];
    const logger = createLogger({
      level: 'warn',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()));
          done();
        },
      }),
    });
    rig = await CsRig.start({ logger });
    const peer = await rawPeer('GARAGE');
    const malformed = () => lines.filter((l) => l.msg === 'malformed OCPP frame from station');
    const garbage = async (n: number, syncId: string) => {
      for (let i = 0; i < n; i++) peer.client.sendRaw(`not json ${i}`);
      // A call after them: once it is answered, the server has read every frame before it.
      peer.client.sendRaw(JSON.stringify([2, syncId, 'Heartbeat', {}]));
      await peer.answer(syncId);
    };
    await garbage(10, 'sync-1');
    expect(malformed()).toEqual([expect.objectContaining({ identity: 'GARAGE', frames: 1 })]);
    await rig.clock.advance(59_000);
    await garbage(5, 'sync-2');
    expect(malformed()).toHaveLength(1);
    await rig.clock.advance(1_000);
    await garbage(1, 'sync-3');
    // The 14 held back since the first line, plus this one.
    expect(malformed()).toHaveLength(2);
    expect(malformed()[1]?.frames).toBe(15);
  });

  it('answers malformed calls with the right CALLERROR and keeps the connection', async () => {
    rig = await CsRig.start();
    const peer = await rawPeer('GARAGE');
    const send = (frame: unknown) =>
      peer.client.sendRaw(typeof frame === 'string' ? frame : JSON.stringify(frame));

    send([7, 'wrong-type', 'Heartbeat', {}]);
    expect((await peer.answer('wrong-type')).slice(0, 3)).toEqual([4, 'wrong-type', 'NotSupported']);
    send([2, 'unknown-action', 'FlyToTheMoon', {}]);
    expect((await peer.answer('unknown-action')).slice(0, 3)).toEqual([
      4,
      'unknown-action',
      'NotImplemented',
    ]);
    send([2, 'no-status', 'StatusNotification', { connectorId: 1, errorCode: 'NoError' }]);
    expect((await peer.answer('no-status')).slice(0, 3)).toEqual([
      4,
      'no-status',
      'OccurrenceConstraintViolation',
    ]);
    send([
      2,
      'odd-status',
      'StatusNotification',
      { connectorId: 1, errorCode: 'NoError', status: 'Sleeping' },
    ]);
    expect((await peer.answer('odd-status')).slice(0, 3)).toEqual([4, 'odd-status', 'FormationViolation']);
    send([2, 'no-id-tag', 'Authorize', {}]);
    expect((await peer.answer('no-id-tag')).slice(0, 3)).toEqual([
      4,
      'no-id-tag',
      'OccurrenceConstraintViolation',
    ]);
    send([2, 'not-an-object', 'MeterValues', 'lots']);
    expect((await peer.answer('not-an-object')).slice(0, 3)).toEqual([
      4,
      'not-an-object',
      'TypeConstraintViolation',
    ]);
    send('this is not json');
    send('{"an":"object"}');
    send([2]);
    // A StopTransaction we cannot read is still answered (the charger would retry, then drop it).
    send([2, 'stop-junk', 'StopTransaction', { meterStop: 'n/a' }]);
    expect(await peer.answer('stop-junk')).toEqual([3, 'stop-junk', {}]);

    // Slightly wrong but understandable: lower-case status, numbers instead of strings, kW, Celcius.
    send([
      2,
      'lax-status',
      'StatusNotification',
      { connectorId: '1', errorCode: 'NoError', status: 'charging', info: 'x'.repeat(80) },
    ]);
    expect(await peer.answer('lax-status')).toEqual([3, 'lax-status', {}]);
    send([
      2,
      'lax-meter',
      'MeterValues',
      {
        connectorId: 1,
        meterValue: [
          {
            timestamp: '2026-03-10T18:01:00+01:00',
            sampledValue: [
              { value: 7.5, measurand: 'Energy.Active.Import.Register', unit: 'kWh' },
              { value: '2,2', measurand: 'Power.Active.Import', unit: 'kW' },
              { value: '50', measurand: 'Frequency', unit: 'Hz' },
              { value: '41', measurand: 'Temperature', unit: 'Celcius' },
              { value: 'n/a', measurand: 'Voltage' },
            ],
          },
        ],
      },
    ]);
    expect(await peer.answer('lax-meter')).toEqual([3, 'lax-meter', {}]);
    const charger = rig.charger();
    expect(charger.getState()).toMatchObject({
      status: 'charging',
      energyTotalKwh: 7.5,
      powerW: 2200,
      temperatureInnerC: 41,
    });

    // Still a working connection.
    await expect(call(peer.client, 'Heartbeat', {})).resolves.toMatchObject({
      currentTime: expect.any(String),
    });
    expect(charger.getState().link).toBe('online');
    // Frames without a readable id are answered with id "-1" and a 1.6J code.
    expect(peer.frames.filter((f) => f[1] === '-1').map((f) => f.slice(0, 3))).toEqual([
      [4, '-1', 'FormationViolation'],
      [4, '-1', 'FormationViolation'],
      [4, '-1', 'FormationViolation'],
    ]);
    expect(rig.frames.problems()).toEqual([]);
  });

  it('closes a connection that sends an oversized frame and keeps serving others', async () => {
    rig = await CsRig.start({
      maxFrameBytes: 4096,
      stations: [stationConfig('garage'), stationConfig('shed')],
    });
    const other = await rawPeer('SHED');
    const big = await rawPeer('GARAGE');
    big.client.sendRaw(
      JSON.stringify([2, 'big', 'DataTransfer', { vendorId: 'x', data: 'y'.repeat(10_000) }]),
    );
    expect(await big.closed).toBe(1009);
    await untilState(rig.charger(), (s) => s.link === 'offline', 'offline');
    await expect(call(other.client, 'Heartbeat', {})).resolves.toBeDefined();
    expect(rig.charger('shed').getState().link).toBe('online');
    const again = await rawPeer('GARAGE');
    await expect(call(again.client, 'Heartbeat', {})).resolves.toBeDefined();
  });

  it('lets a second connection with the same identity replace the first', async () => {
    rig = await CsRig.start();
    const charger = rig.charger();
    const events: string[] = [];
    charger.events.on('event', (e) => events.push(e.type));
    const first = await rawPeer('GARAGE');
    await call(first.client, 'BootNotification', { chargePointVendor: 'A', chargePointModel: 'B' });
    const second = await rawPeer('GARAGE');
    expect(await first.closed).toBe(1006);
    expect(charger.getState().link).toBe('online');
    await expect(call(second.client, 'Heartbeat', {})).resolves.toBeDefined();
    await second.client.close({ code: 1000 });
    await untilState(charger, (s) => s.link === 'offline', 'offline');
    expect(events.filter((e) => e === 'link_up' || e === 'link_lost')).toEqual(['link_up', 'link_lost']);
  });

  it('flags frames that break the 1.6 schema (the oracle itself works)', () => {
    const log = new FrameLog();
    log.frames.push({ identity: 'X', outbound: false, message: JSON.stringify([2, 'a', 'Heartbeat', {}]) });
    log.frames.push({
      identity: 'X',
      outbound: true,
      message: JSON.stringify([3, 'a', { currentTime: 'noon' }]),
    });
    log.frames.push({
      identity: 'X',
      outbound: true,
      message: JSON.stringify([2, 'b', 'Reset', { type: 'Hard-ish' }]),
    });
    expect(log.problems()).toHaveLength(2);
  });
});

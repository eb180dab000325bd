/**
 * Who may talk to the daemon's OCPP central system, and that station passwords stay secret. With
 * security profile 1 every configured station must present its own password (stored in clear, as
 * a sha256 or as an scrypt hash) as HTTP Basic auth, or the handshake ends with 401 before any OCPP
 * message; stations that are not configured are refused, kept at Pending or accepted as
 * `unknown_stations` says; profile 2 serves the same over TLS only. Throughout, every log line
 * (at trace), every MQTT message on `#` and the bridge answers are searched for the passwords, their
 * stored forms and the Basic-auth header that carries them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger } from '../../src/log.js';
import { hashStationPassword } from '../../src/ocpp/server/passwords.js';
import { freePort } from '../helpers/mosquitto.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';
import { type DaemonRig, parseJson, runFor, startDaemonRig, waitUntil } from '../reliability/daemon-rig.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
const CERT = path.join(FIXTURES, 'loopback-test.crt');
const KEY = path.join(FIXTURES, 'loopback-test.key');
const CA = readFileSync(CERT);

/** identity → password, as each station would type it into its settings. */
const PASSWORDS = {
  'WB-0042': 'Wallbox-clear-pw-7Hq2Kx',
  CARPORT: 'Carport-sha-pw-Ls93xV',
  SHED: 'Shed-scrypt-pw-Zr51mQ',
  'BS20-7': 'Bs20-loop-pw-4TnW8c',
} as const;
const SHA256_STORED = hashStationPassword(PASSWORDS.CARPORT, 'sha256');
const SCRYPT_STORED = hashStationPassword(PASSWORDS.SHED, 'scrypt');

/** Every form a password could leak in: clear, hex, the Basic header, the stored hashes and their parts. */
const NEEDLES: string[] = [
  ...Object.entries(PASSWORDS).flatMap(([identity, password]) => [
    password,
    Buffer.from(password).toString('hex'),
    Buffer.from(`${identity}:${password}`).toString('base64'),
  ]),
  SHA256_STORED,
  SHA256_STORED.slice('sha256:'.length),
  SCRYPT_STORED,
  ...SCRYPT_STORED.split(':').slice(1),
];

const STATIONS_YAML = `
    - id: wallbox
      identity: WB-0042
      password: ${PASSWORDS['WB-0042']}
    - id: carport
      identity: CARPORT
      password: !secret carport_ocpp
    - id: shed
      identity: SHED
      password_file: shed.pw
    - id: garage_ocpp
      identity: BS20-7
      password: ${PASSWORDS['BS20-7']}
`;
const FILES = { 'secrets.yaml': `carport_ocpp: "${SHA256_STORED}"\n`, 'shed.pw': `${SCRYPT_STORED}\n` };

interface Capture {
  rig: DaemonRig;
  logs: string[];
  watcher: MqttProbe;
  port: number;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

/** The daemon with `ocpp_server` from YAML, logging at trace into `logs`, watched on `#`. */
async function startDaemon(options: {
  profile: 1 | 2;
  unknownStations: 'reject' | 'pending' | 'accept';
  /** The simulated BS20 presented to our own server as BS20-7 (ocpp_upstream), profile 1 only. */
  selfLoop?: boolean;
}): Promise<Capture> {
  const port = await freePort();
  const logs: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => logs.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const upstream = options.selfLoop
    ? [
        '    ocpp_upstream:',
        `      url: ws://127.0.0.1:${port}/ocpp`,
        '      station_id: BS20-7',
        '      security_profile: 1',
        `      password: ${PASSWORDS['BS20-7']}`,
        '      ping_interval_s: 0',
      ]
    : [];
  const rig = await startDaemonRig({
    chargersYaml: [
      '  - id: garage',
      '    type: bs20',
      '    transport: simulated',
      '    max_current: 16',
      ...upstream,
    ].join('\n'),
    extraYaml: [
      'log_level: trace',
      'users:',
      '  - name: alice',
      '    id_tags: ["04A1B2C3"]',
      'ocpp_server:',
      '  enabled: true',
      '  host: 127.0.0.1',
      `  port: ${port}`,
      `  security_profile: ${options.profile}`,
      ...(options.profile === 2 ? ['  tls:', `    cert: ${CERT}`, `    key: ${KEY}`] : []),
      `  unknown_stations: ${options.unknownStations}`,
      '  ping_interval_s: 0',
      '  call_timeout_s: 5',
      '  stations:',
      STATIONS_YAML,
    ].join('\n'),
    files: FILES,
    logger: createLogger({ destination: stream, level: 'trace' }),
    probe: null,
  });
  cleanups.push(() => rig.stop());
  const watcher = await MqttProbe.connect(rig.daemon.mqttUrl, rig.login);
  cleanups.push(() => watcher.close());
  await watcher.subscribe('#');
  return { rig, logs, watcher, port };
}

function leaks(capture: Capture): string[] {
  const found: string[] = [];
  const scan = (where: string, text: string) => {
    for (const needle of NEEDLES)
      if (text.includes(needle)) found.push(`${needle} in ${where}: ${text.slice(0, 300)}`);
  };
  for (const line of capture.logs) scan('a log line', line);
  for (const m of capture.watcher.received) {
    scan(`MQTT topic ${m.topic}`, m.topic);
    scan(`MQTT ${m.topic}`, m.text);
    scan(`MQTT ${m.topic} (hex)`, m.payload.toString('hex'));
  }
  return found;
}

/** A station on a plain websocket: the handshake's HTTP status, then OCPP calls by hand. */
class Station {
  readonly serverCalls: unknown[][] = [];
  private readonly replies = new Map<string, (frame: unknown[]) => void>();
  private seq = 0;

  private constructor(
    readonly ws: WebSocket,
    /** What this station answers to GetConfiguration (a sloppy one reports its AuthorizationKey). */
    private readonly configuration: Array<{ key: string; readonly: boolean; value?: string }>,
  ) {
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as unknown[];
      if (frame[0] === 2) {
        this.serverCalls.push(frame);
        const result =
          frame[2] === 'GetConfiguration' ? { configurationKey: this.configuration } : { status: 'Accepted' };
        ws.send(JSON.stringify([3, frame[1], result]));
        return;
      }
      this.replies.get(String(frame[1]))?.(frame);
    });
  }

  /** Opens the websocket; resolves with the HTTP status the handshake ended with (101 when it opened). */
  static async connect(
    url: string,
    login: { user?: string; password?: string; ca?: Buffer } = {},
    configuration: Array<{ key: string; readonly: boolean; value?: string }> = [],
  ): Promise<{ status: number; station: Station | null; error: string | null }> {
    const headers: Record<string, string> = {};
    if (login.password !== undefined) {
      const user = login.user ?? decodeURIComponent(url.split('/').at(-1) ?? '');
      headers.authorization = `Basic ${Buffer.from(`${user}:${login.password}`).toString('base64')}`;
    }
    const ws = new WebSocket(url, ['ocpp1.6'], { headers, ...(login.ca ? { ca: login.ca } : {}) });
    return new Promise((resolve) => {
      ws.once('open', () => {
        const station = new Station(ws, configuration);
        cleanups.push(() => {
          if (ws.readyState === WebSocket.OPEN) ws.terminate();
        });
        resolve({ status: 101, station, error: null });
      });
      ws.once('unexpected-response', (req, res) => {
        resolve({ status: res.statusCode ?? 0, station: null, error: null });
        req.destroy();
      });
      ws.once('error', (err) => resolve({ status: 0, station: null, error: err.message }));
    });
  }

  call(action: string, payload: Record<string, unknown>): Promise<unknown[]> {
    const id = `c${++this.seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${action}`)), 5_000);
      this.replies.set(id, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
      this.ws.send(JSON.stringify([2, id, action, payload]));
    });
  }

  async boot(): Promise<unknown> {
    const reply = await this.call('BootNotification', { chargePointVendor: 'Test', chargePointModel: 'Box' });
    return reply[2];
  }
}

describe('OCPP server security in the daemon', () => {
  it('profile 1: a missing or wrong password gets 401 before any OCPP message, the right one (clear, sha256, scrypt) gets in, and no password leaks', async () => {
    const capture = await startDaemon({ profile: 1, unknownStations: 'reject', selfLoop: true });
    const { rig, port, watcher } = capture;
    const server = rig.daemon.ocppServer!;
    const url = (identity: string) => `ws://127.0.0.1:${port}/ocpp/${encodeURIComponent(identity)}`;
    const frames: string[] = [];
    server.events.on('frame', (f) => frames.push(f.identity));
    const refusals: Array<{ identity: string; status: number }> = [];
    server.events.on('connection_refused', (r) => refusals.push({ identity: r.identity, status: r.status }));

    // chargebridge's own BS20, presented upstream with profile 1, gets in with its password.
    const loop = rig.daemon.chargers.find((c) => c.id === 'garage_ocpp')!;
    await waitUntil(() => loop.getState().link === 'online' && loop.getInfo().model === 'BS20', rig.clock, {
      what: 'the BS20 booting at our own server over profile 1',
      stepMs: 500,
      timeoutMs: 15_000,
    });

    for (const identity of ['WB-0042', 'CARPORT', 'SHED'] as const) {
      const password = PASSWORDS[identity];
      const other = identity === 'WB-0042' ? PASSWORDS.CARPORT : PASSWORDS['WB-0042'];
      const attempts = {
        'no Authorization header': await Station.connect(url(identity)),
        'an empty password': await Station.connect(url(identity), { password: '' }),
        'a wrong password': await Station.connect(url(identity), { password: `${password}x` }),
        'another station’s password': await Station.connect(url(identity), { password: other }),
        'the password under another user name': await Station.connect(url(identity), {
          user: 'admin',
          password,
        }),
        'the stored hash as the password': await Station.connect(url(identity), {
          password: identity === 'CARPORT' ? SHA256_STORED : identity === 'SHED' ? SCRYPT_STORED : 'x',
        }),
      };
      for (const [what, attempt] of Object.entries(attempts)) {
        expect({ identity, what, status: attempt.status }).toEqual({ identity, what, status: 401 });
      }
      const good = await Station.connect(url(identity), { password });
      expect(good.status, identity).toBe(101);
      expect(await good.station!.boot()).toMatchObject({ status: 'Accepted' });
    }
    // A station that is not configured is refused at the handshake, with or without a password.
    for (const login of [{}, { password: PASSWORDS['WB-0042'] }]) {
      expect((await Station.connect(url('STRANGER-9'), login)).status).toBe(404);
    }
    // Refused connections never got to say anything: no OCPP frame from them, nothing to them.
    expect(refusals.filter((r) => r.status === 401)).toHaveLength(18);
    expect(new Set(frames)).toEqual(new Set(['BS20-7', 'WB-0042', 'CARPORT', 'SHED']));

    // Paths that could carry a password to MQTT: the station list, a station that (against the
    // spec) reports its AuthorizationKey, bridge/info, a Home Assistant restart.
    const sloppy = await Station.connect(url('WB-0042'), { password: PASSWORDS['WB-0042'] }, [
      { key: 'AuthorizationKey', readonly: false, value: PASSWORDS['WB-0042'] },
      { key: 'HeartbeatInterval', readonly: false, value: '300' },
    ]);
    await sloppy.station!.boot();
    await watcher.publish('chargebridge/bridge/request/ocpp/stations', JSON.stringify({ transaction: 1 }));
    await watcher.publish(
      'chargebridge/bridge/request/ocpp/get_configuration',
      JSON.stringify({ station: 'wallbox', transaction: 2 }),
    );
    await watcher.publish(
      'chargebridge/bridge/request/ocpp/get_configuration',
      JSON.stringify({ station: 'garage_ocpp', transaction: 3 }),
    );
    await watcher.publish('homeassistant/status', 'online');
    await runFor(rig.clock, 15_000, 500);
    const response = (transaction: number) =>
      watcher.received
        .filter((m) => m.topic.startsWith('chargebridge/bridge/response/ocpp/'))
        .map((m) => parseJson(m.text))
        .find((r) => r.transaction === transaction);
    await waitUntil(() => [1, 2, 3].every((t) => response(t) !== undefined), rig.clock, {
      what: 'the three bridge answers',
    });
    expect(response(1)).toMatchObject({ status: 'ok' });
    // The station's configuration is passed on, its AuthorizationKey without the value.
    expect(response(2)).toMatchObject({ status: 'ok' });
    expect((response(2)?.data as { configurationKey: unknown } | undefined)?.configurationKey).toEqual([
      { key: 'AuthorizationKey', readonly: false },
      { key: 'HeartbeatInterval', readonly: false, value: '300' },
    ]);
    expect(response(3)).toMatchObject({ status: 'ok' });
    expect(watcher.on('chargebridge/bridge/info').at(-1)?.text).toContain('[redacted]');
    expect(capture.logs.some((l) => l.includes('OCPP connection refused'))).toBe(true);
    expect(leaks(capture)).toEqual([]);
  });

  it('unknown stations: pending gets only Pending and can touch nothing, accept gets Accepted', async () => {
    const pending = await startDaemon({ profile: 1, unknownStations: 'pending' });
    const url = (port: number, identity: string) => `ws://127.0.0.1:${port}/ocpp/${identity}`;
    const clock = pending.rig.clock;

    // A configured station runs a transaction.
    const wallbox = (await Station.connect(url(pending.port, 'WB-0042'), { password: PASSWORDS['WB-0042'] }))
      .station!;
    await wallbox.boot();
    const started = await wallbox.call('StartTransaction', {
      connectorId: 1,
      idTag: '04A1B2C3',
      meterStart: 1_000,
      timestamp: new Date(clock.now()).toISOString(),
    });
    const transactionId = (started[2] as { transactionId: number }).transactionId;
    const wallboxCharger = pending.rig.daemon.chargers.find((c) => c.id === 'wallbox')!;
    expect(wallboxCharger.getState().session?.chargerSessionId).toBe(String(transactionId));

    // An unknown station gets in without a password check (there is none to check) and with a
    // made-up one, but is only ever Pending.
    for (const login of [{}, { password: 'anything' }]) {
      const attempt = await Station.connect(url(pending.port, 'STRANGER-9'), login);
      expect(attempt.status).toBe(101);
      expect(await attempt.station!.boot()).toMatchObject({ status: 'Pending' });
    }
    const stranger = (await Station.connect(url(pending.port, 'STRANGER-9'))).station!;
    expect(await stranger.boot()).toMatchObject({ status: 'Pending' });
    expect((await stranger.call('Authorize', { idTag: '04A1B2C3' }))[2]).toEqual({
      idTagInfo: { status: 'Invalid' },
    });
    const strangerStart = await stranger.call('StartTransaction', {
      connectorId: 1,
      idTag: '04A1B2C3',
      meterStart: 5,
      timestamp: new Date(clock.now()).toISOString(),
    });
    expect(strangerStart[2]).toMatchObject({ idTagInfo: { status: 'Invalid' } });
    // It cannot end the configured station's transaction by naming its (small, guessable) id.
    expect(
      (
        await stranger.call('StopTransaction', {
          transactionId,
          meterStop: 999_999_000,
          timestamp: new Date(clock.now()).toISOString(),
          reason: 'Other',
        })
      )[2],
    ).toEqual({});
    await runFor(clock, 5_000, 500);
    expect(wallboxCharger.getState()).toMatchObject({
      session: { chargerSessionId: String(transactionId) },
      raw: { transactionId },
      energyTotalKwh: 1,
    });
    const stopped = await wallbox.call('StopTransaction', {
      transactionId,
      meterStop: 4_000,
      timestamp: new Date(clock.now()).toISOString(),
      reason: 'EVDisconnected',
    });
    expect(stopped[0]).toBe(3);
    expect(wallboxCharger.getState().session).toMatchObject({ energyKwh: 3 });
    // Nothing was asked of it, and Home Assistant never heard of it.
    expect(stranger.serverCalls).toEqual([]);
    expect(pending.watcher.received.filter((m) => /stranger/i.test(m.topic))).toEqual([]);
    expect(leaks(pending)).toEqual([]);

    const accept = await startDaemon({ profile: 1, unknownStations: 'accept' });
    const welcome = await Station.connect(url(accept.port, 'STRANGER-9'));
    expect(welcome.status).toBe(101);
    expect(await welcome.station!.boot()).toMatchObject({ status: 'Accepted' });
    // Configured stations still need their password.
    expect((await Station.connect(url(accept.port, 'WB-0042'), { password: 'guess' })).status).toBe(401);
    expect(leaks(accept)).toEqual([]);
  });

  it('profile 2: wss with the test certificate for a client that trusts it, 401 for a wrong password, nothing over plain ws', async () => {
    const capture = await startDaemon({ profile: 2, unknownStations: 'reject' });
    const wss = `wss://127.0.0.1:${capture.port}/ocpp/WB-0042`;

    const good = await Station.connect(wss, { password: PASSWORDS['WB-0042'], ca: CA });
    expect(good.status).toBe(101);
    expect(await good.station!.boot()).toMatchObject({ status: 'Accepted' });
    expect((await Station.connect(wss, { password: 'guess', ca: CA })).status).toBe(401);
    expect((await Station.connect(wss, { ca: CA })).status).toBe(401);
    // A client that does not trust the certificate stops at the TLS handshake, before sending the password.
    const untrusted = await Station.connect(wss, { password: PASSWORDS['WB-0042'] });
    expect(untrusted).toMatchObject({
      status: 0,
      error: expect.stringMatching(/self[- ]signed|certificate/i),
    });
    // The same port does not speak plain websockets (the password would cross the network in clear).
    const plain = await Station.connect(`ws://127.0.0.1:${capture.port}/ocpp/WB-0042`, {
      password: PASSWORDS['WB-0042'],
    });
    expect(plain.status).not.toBe(101);
    expect(plain.station).toBeNull();
    expect(capture.rig.daemon.chargers.find((c) => c.id === 'wallbox')?.getState().link).toBe('online');
    expect(leaks(capture)).toEqual([]);
  });
});

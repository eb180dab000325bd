/**
 * Hostile frames from a station into the real daemon's OCPP central system, over a raw websocket:
 * malformed JSON, JSON that is no OCPP frame, wrong message type ids and message ids, unknown
 * actions, known actions with missing fields, wrong types, huge and negative numbers, answers to
 * calls never made, binary and empty frames, answers to the server's own calls that make no sense,
 * oversized frames, invalid UTF-8 and floods of unreadable frames, all interleaved with a
 * well-behaved charging session.
 *
 * The oracle for the answers is OCPP-J framing: every frame is classified before it is sent, and
 * what the server must answer (CALLRESULT, or a CALLERROR with a 1.6J code, or nothing) and when it
 * must close the connection follows from that. The oracle for the state is a twin: a second
 * station that receives only the calls the first one had answered with a CALLRESULT. Garbage that
 * was refused (or ignored) changes nothing, so both stations must look exactly alike to Home
 * Assistant and the session store after every batch.
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Charger, ChargerState } from '../../src/core/charger.js';
import { SettingAction } from '../../src/evse-master/protocol/commands.js';
import { createLogger } from '../../src/log.js';
import { call, createRpcClient, type RpcClient } from '../../src/ocpp/rpc.js';
import { FrameLog, freePort } from '../ocpp/server/harness.js';
import { type DaemonRig, parseJson, runFor, startDaemonRig, waitUntil } from '../reliability/daemon-rig.js';
import { runSeed, type SeededRandom, seededRandom } from '../reliability/seeded-random.js';
import { randomPayload } from './hostile-payloads.js';

const FRAMES = Number(process.env.CB_TEST_OCPP_FUZZ_FRAMES ?? 2_500);
/** The central system's websocket frame limit (64 KiB; not a YAML setting). */
const MAX_FRAME_BYTES = 64 * 1024;
/** ocpp-rpc's `maxBadMessages` in the central system: the 21st unreadable frame in a row closes. */
const MAX_BAD_IN_A_ROW = 20;
/** Ordinary batches stay below it, so only the flood episodes close the connection. */
const MAX_BATCH = MAX_BAD_IN_A_ROW - 1;
const ALICE_TAG = '04A1B2C3';

const RESULT = 'CALLRESULT';
const V16_ERROR_CODES = new Set([
  'NotImplemented',
  'NotSupported',
  'InternalError',
  'ProtocolError',
  'SecurityError',
  'FormationViolation',
  'PropertyConstraintViolation',
  'OccurrenceConstraintViolation',
  'TypeConstraintViolation',
  'GenericError',
]);
/** Actions the central system reads with a parser that may refuse the call. */
const CHECKED = new Set(['BootNotification', 'StatusNotification', 'Authorize', 'StartTransaction']);
/** Actions answered whatever their payload (a StopTransaction must always be answered). */
const ALWAYS_ANSWERED = new Set([
  'Heartbeat',
  'StopTransaction',
  'DataTransfer',
  'DiagnosticsStatusNotification',
  'FirmwareStatusNotification',
  'SecurityEventNotification',
]);
const PARSE_CODES = [
  RESULT,
  'OccurrenceConstraintViolation',
  'TypeConstraintViolation',
  'FormationViolation',
] as const;
const REQUIRED: Record<string, readonly string[]> = {
  BootNotification: ['chargePointVendor', 'chargePointModel'],
  StatusNotification: ['connectorId', 'status'],
  Authorize: ['idTag'],
  StartTransaction: ['connectorId', 'idTag', 'meterStart'],
};

type Frame = unknown[];

/** A station on a raw websocket: sends any bytes, records everything the server sends. */
class RawStation {
  readonly fromServer: Frame[] = [];
  /** Frames from the server that are not a JSON array, or not text: never expected. */
  readonly oddFrames: string[] = [];
  closed: { code: number; reason: string } | null = null;
  private readonly checks = new Set<() => void>();

  private constructor(
    private readonly ws: WebSocket,
    onCall: ((station: RawStation, frame: Frame) => void) | null,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const text = data.toString('utf8');
      let frame: unknown;
      try {
        frame = JSON.parse(text);
      } catch {
        frame = null;
      }
      if (isBinary || !Array.isArray(frame)) this.oddFrames.push(text.slice(0, 200));
      else {
        this.fromServer.push(frame);
        if (frame[0] === 2) onCall?.(this, frame);
      }
      this.poke();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString('utf8') };
      this.poke();
    });
    // The close that follows an error says what happened.
    ws.on('error', () => undefined);
  }

  static connect(
    url: string,
    onCall: ((station: RawStation, frame: Frame) => void) | null = null,
  ): Promise<RawStation> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ['ocpp1.6']);
      const station = new RawStation(ws, onCall);
      ws.once('open', () => resolve(station));
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`handshake answered ${res.statusCode}`)),
      );
      ws.once('error', reject);
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(data: string | Buffer, binary = false): void {
    if (this.open) this.ws.send(data, { binary });
  }

  replies(): Frame[] {
    return this.fromServer.filter((f) => f[0] === 3 || f[0] === 4);
  }

  serverCalls(): Frame[] {
    return this.fromServer.filter((f) => f[0] === 2);
  }

  /** Resolves once `condition` holds (checked on every frame and on close); bounded in real time. */
  until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.checks.delete(check);
      };
      const check = () => {
        if (!condition()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.checks.add(check);
    });
  }

  async close(): Promise<void> {
    if (!this.closed) this.ws.close(1000);
    await this.until(() => this.closed !== null, 'our close');
  }

  private poke(): void {
    for (const check of [...this.checks]) check();
  }
}

/** What the server must do with one frame, decided from the bytes alone (OCPP-J framing). */
interface Expectation {
  /** 'bad': unreadable, counts toward the close; 'good': resets that count; 'ignored': empty frame. */
  effect: 'bad' | 'good' | 'ignored';
  /** The reply: its message id and the allowed codes (RESULT for a CALLRESULT); null: no reply. */
  reply: { id: string; codes: ReadonlySet<string> } | null;
  call: { id: string; action: string; params: unknown } | null;
}

interface Sent extends Expectation {
  label: string;
  bytes: Buffer;
  binary: boolean;
}

function parseFrame(text: string): Frame | null {
  try {
    const frame: unknown = JSON.parse(text);
    return Array.isArray(frame) ? frame : null;
  } catch {
    return null;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function expectedCodes(action: string, params: unknown): ReadonlySet<string> {
  if (ALWAYS_ANSWERED.has(action)) return new Set([RESULT]);
  if (action === 'MeterValues') return new Set([isRecord(params) ? RESULT : 'TypeConstraintViolation']);
  if (!CHECKED.has(action)) return new Set(['NotImplemented']);
  return isRecord(params) ? new Set(PARSE_CODES) : new Set(['TypeConstraintViolation']);
}

function classify(bytes: Buffer, codes?: ReadonlySet<string>): Expectation {
  const text = bytes.toString('utf8');
  if (text.length === 0) return { effect: 'ignored', reply: null, call: null };
  const unreadable = (id: string, code: string): Expectation => ({
    effect: 'bad',
    reply: { id, codes: new Set([code]) },
    call: null,
  });
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return unreadable('-1', 'FormationViolation');
  }
  if (!Array.isArray(frame)) return unreadable('-1', 'FormationViolation');
  const [type, id, action, params] = frame as unknown[];
  // Without a readable type the reply still carries the frame's id when it is text.
  const echoed = typeof id === 'string' ? id : '-1';
  if (typeof type !== 'number') return unreadable(echoed, 'FormationViolation');
  if (type !== 2 && type !== 3 && type !== 4) return unreadable(echoed, 'NotSupported');
  if (typeof id !== 'string') return unreadable('-1', 'FormationViolation');
  // A CALLRESULT or CALLERROR for a call the server never made: unreadable, and not answered.
  if (type !== 2) return { effect: 'bad', reply: null, call: null };
  if (typeof action !== 'string') return unreadable(id, 'FormationViolation');
  return {
    effect: 'good',
    reply: { id, codes: codes ?? expectedCodes(action, params) },
    call: { id, action, params },
  };
}

/** A well-behaved single-connector station going through charging sessions. */
class StationModel {
  registerWh = 1_200_000;
  transactionId: number | null = null;
  startPending: string | null = null;

  constructor(
    private readonly random: SeededRandom,
    private readonly now: () => number,
  ) {}

  private stamp(): string {
    return new Date(this.now()).toISOString();
  }

  /** A valid call; `advance` false leaves the model as it was (for payloads about to be mangled). */
  next(advance = true): [string, Record<string, unknown>] {
    const r = this.random;
    const roll = r.int(100);
    if (roll < 4) {
      return [
        'BootNotification',
        { chargePointVendor: 'FuzzCo', chargePointModel: 'Wallbox 7', chargePointSerialNumber: 'SN-0042' },
      ];
    }
    if (roll < 12) return ['Heartbeat', {}];
    if (roll < 14) return ['Authorize', { idTag: r.pick([ALICE_TAG, 'STRANGER1']) }];
    if (roll < 16) return ['DataTransfer', { vendorId: 'FuzzCo', messageId: 'x', data: 'y' }];
    if (roll < 40) {
      const connectorId = r.pick([0, 1, 1, 1]);
      const status =
        connectorId === 0
          ? r.pick(['Available', 'Unavailable', 'Faulted'])
          : r.pick(['Available', 'Preparing', 'Charging', 'SuspendedEV', 'SuspendedEVSE', 'Finishing']);
      return [
        'StatusNotification',
        {
          connectorId,
          errorCode: r.pick(['NoError', 'NoError', 'NoError', 'GroundFailure', 'OtherError']),
          status,
          timestamp: this.stamp(),
        },
      ];
    }
    if (roll < 55 && this.transactionId === null && this.startPending === null) {
      return [
        'StartTransaction',
        {
          connectorId: 1,
          idTag: r.pick([ALICE_TAG, 'STRANGER1', 'chargebridge']),
          meterStart: this.registerWh,
          timestamp: this.stamp(),
        },
      ];
    }
    if (roll < 62 && this.transactionId !== null) {
      const payload = {
        transactionId: this.transactionId,
        meterStop: this.registerWh,
        timestamp: this.stamp(),
        reason: r.pick(['Local', 'EVDisconnected', 'Remote']),
      };
      if (advance) this.transactionId = null;
      return ['StopTransaction', payload];
    }
    const registerWh = this.registerWh + r.int(3_000);
    if (advance) this.registerWh = registerWh;
    return [
      'MeterValues',
      {
        connectorId: 1,
        ...(this.transactionId !== null ? { transactionId: this.transactionId } : {}),
        meterValue: [
          {
            timestamp: this.stamp(),
            sampledValue: [
              { value: String(registerWh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
              { value: String(r.int(11_000)), measurand: 'Power.Active.Import', unit: 'W' },
              { value: '231.4', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
            ],
          },
        ],
      },
    ];
  }
}

const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  -5_000,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 2,
  4_294_967_296,
  '',
  ' ',
  '-1',
  '-5000',
  '1e309',
  'NaN',
  'Infinity',
  '0x10',
  '١٦',
  'x'.repeat(5_000),
  '\u0000\u001b[31m',
  [],
  [1, 2],
  {},
  { nested: { deeper: [{}] } },
];
const UNKNOWN_ACTIONS = [
  'FlyToTheMoon',
  'heartbeat',
  'Heartbeat ',
  'RemoteStartTransaction',
  'Reset',
  'SetChargingProfile',
  'ChangeConfiguration',
  'UnlockConnector',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '',
  'BootNotification\u0000',
  'Héartbeat',
  'A'.repeat(300),
];

/** Sets (or deletes) `path` inside a copy of `payload`. */
function mangled(payload: Record<string, unknown>, path: Array<string | number>, value: unknown): unknown {
  const copy = structuredClone(payload) as Record<string, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    const next = at[key];
    if (typeof next !== 'object' || next === null) return copy;
    at = next as Record<string | number, unknown>;
  }
  const last = path[path.length - 1] as string | number;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

interface Draft {
  label: string;
  data: string | Buffer;
  binary?: boolean;
  codes?: ReadonlySet<string>;
  /** Followed at once by a call of this action reusing the message id. */
  followedBy?: 'Heartbeat';
}

class HostileStation {
  private seq = 0;
  /** Transaction ids issued to the twin: a fuzz frame naming one must not touch the twin. */
  twinIds: number[] = [];
  constructor(
    private readonly random: SeededRandom,
    private readonly model: StationModel,
  ) {}

  id(): string {
    return `f${++this.seq}`;
  }

  valid(): Draft {
    const [action, payload] = this.model.next();
    const id = this.id();
    if (action === 'StartTransaction') this.model.startPending = id;
    const text = JSON.stringify([2, id, action, payload]);
    const codes = new Set([RESULT]);
    // A station may send text as a binary frame: it is read the same way.
    return this.random.chance(0.05)
      ? { label: `binary ${action}`, data: Buffer.from(text), binary: true, codes }
      : { label: action, data: text, codes };
  }

  hostile(): Draft {
    const r = this.random;
    const id = this.id();
    const roll = r.int(100);
    if (roll < 12) {
      const payload = randomPayload(r);
      if (typeof payload === 'string') return { label: 'hostile text', data: payload };
      // The megabyte payload is for the oversized-frame episodes.
      return { label: 'hostile bytes', data: payload.subarray(0, MAX_FRAME_BYTES / 2), binary: true };
    }
    if (roll < 18) {
      const value = r.pick<unknown>([{}, { a: 1 }, 42, 'text', null, true, [{}], { 0: 2, 1: id }]);
      return { label: 'JSON that is no frame', data: JSON.stringify(value) };
    }
    if (roll < 25) {
      const type = r.pick<unknown>([0, 1, 5, 6, 7, -1, 2.5, 99, 1e300, '2', null, true, [2], {}]);
      return {
        label: `message type ${JSON.stringify(type)}`,
        data: JSON.stringify([type, id, 'Heartbeat', {}]),
      };
    }
    if (roll < 30) {
      const messageId = r.pick<unknown>([1, null, {}, [], true, 1.5]);
      return { label: 'message id not text', data: JSON.stringify([2, messageId, 'Heartbeat', {}]) };
    }
    if (roll < 33) {
      const odd = r.pick([`${id}${'i'.repeat(40)}`, `${id} ✓ ünïcødé`, `${id}\u0000`, ` ${id}`]);
      return { label: 'odd but textual message id', data: JSON.stringify([2, odd, 'Heartbeat', {}]) };
    }
    if (roll < 37) {
      const method = r.pick<unknown>([42, null, {}, ['Heartbeat'], true, undefined]);
      return { label: 'action not text', data: JSON.stringify([2, id, method, {}]) };
    }
    if (roll < 45) {
      return {
        label: 'unknown action',
        data: JSON.stringify([2, id, r.pick(UNKNOWN_ACTIONS), r.pick<unknown>([{}, { idTag: ALICE_TAG }])]),
      };
    }
    if (roll < 50) {
      const frame = r.pick<Frame>([
        [2, id],
        [2, id, 'Heartbeat'],
        [2, id, 'Heartbeat', {}, 'extra', 42],
      ]);
      return { label: `frame of ${frame.length} elements`, data: JSON.stringify(frame) };
    }
    if (roll < 58) {
      const stray = r.pick<Frame>([
        [3, `stray-${id}`, {}],
        [3, `stray-${id}`, { status: 'Accepted' }],
        [4, `stray-${id}`, 'GenericError', 'who asked?', {}],
        [3, `stray-${id}`],
        [4, `stray-${id}`],
      ]);
      return { label: 'answer to a call never made', data: JSON.stringify(stray) };
    }
    if (roll < 60) return { label: 'empty frame', data: r.chance(0.5) ? '' : Buffer.alloc(0), binary: true };
    if (roll < 62) {
      // The same id again while a StartTransaction is still being saved: refused, or answered once
      // the first is done.
      const start = this.valid();
      if (start.label !== 'StartTransaction') return start;
      return { ...start, label: 'StartTransaction, then a Heartbeat with its id', followedBy: 'Heartbeat' };
    }
    return this.mangledCall(id);
  }

  /** A known action with a field deleted, retyped, huge or negative, or no object at all. */
  private mangledCall(id: string): Draft {
    const r = this.random;
    const [action, payload] = this.model.next(false);
    if (r.chance(0.08)) {
      const params = r.pick<unknown>([null, 'lots', 42, [payload], true]);
      return {
        label: `${action} with a ${typeof params} payload`,
        data: JSON.stringify([2, id, action, params]),
      };
    }
    const required = REQUIRED[action] ?? [];
    if (required.length > 0 && r.chance(0.25)) {
      const field = r.pick(required);
      return {
        label: `${action} without ${field}`,
        data: JSON.stringify([2, id, action, mangled(payload, [field], undefined)]),
        codes: new Set(['OccurrenceConstraintViolation']),
      };
    }
    const paths: Array<Array<string | number>> = Object.keys(payload).map((k) => [k]);
    if (action === 'MeterValues') {
      const sample = ['meterValue', 0, 'sampledValue', 0];
      paths.push(
        [...sample, 'value'],
        [...sample, 'value'],
        [...sample, 'unit'],
        [...sample, 'measurand'],
        [...sample, 'phase'],
        ['meterValue', 0, 'timestamp'],
        ['meterValue', 0],
      );
    }
    if (action === 'StopTransaction' || action === 'MeterValues') paths.push(['transactionId']);
    const path = paths.length > 0 ? r.pick(paths) : ['unexpected'];
    const last = path[path.length - 1];
    let value: unknown = r.pick(HOSTILE_VALUES);
    if (last === 'transactionId' && r.chance(0.5)) {
      // A transaction of another station, or one that never existed.
      value =
        this.twinIds.length > 0 && r.chance(0.6)
          ? // Mostly the newest: it may still be running.
            r.pick([this.twinIds.at(-1), this.twinIds.at(-1), r.pick(this.twinIds)])
          : r.pick([0, -7, 99_999, 2 ** 31]);
    }
    if (last === 'value' && r.chance(0.6)) value = r.pick(['-5000', '-0.001', '1e308', '-1e308', '1e21', '']);
    return {
      label: `${action} with ${path.join('.')} = ${JSON.stringify(value)?.slice(0, 40)}`,
      data: JSON.stringify([2, id, action, mangled(payload, path, value)]),
    };
  }
}

/** Answers to the server's own calls: right, wrong in shape, refused, or none at all. */
function answerFor(frame: Frame, random: SeededRandom | null): string | null {
  const [, id, action] = frame;
  const right =
    action === 'GetConfiguration'
      ? { configurationKey: [{ key: 'ChargeProfileMaxStackLevel', readonly: true, value: '8' }] }
      : { status: 'Accepted' };
  if (!random) return JSON.stringify([3, id, right]);
  return random.pick<string | null>([
    JSON.stringify([3, id, right]),
    JSON.stringify([3, id, { configurationKey: 'not a list' }]),
    JSON.stringify([3, id, { configurationKey: [{ key: 'ChargeProfileMaxStackLevel', value: '-3' }] }]),
    JSON.stringify([3, id, { configurationKey: [{ key: 'ChargeProfileMaxStackLevel', value: '1e308' }] }]),
    JSON.stringify([3, id, null]),
    JSON.stringify([3, id, { status: 'Maybe' }]),
    JSON.stringify([4, id, 'NotImplemented', '', {}]),
    JSON.stringify([4, id, 'GenericError']),
    null,
  ]);
}

/**
 * Pairs every reply with a frame sent with its message id whose expectation allows the reply's code
 * (in the order sent). Returns the pairs, and every reply nobody expected and every missing reply.
 */
function matchReplies(
  sent: readonly Sent[],
  replies: readonly Frame[],
): { answered: Map<Sent, Frame>; problems: string[] } {
  const problems: string[] = [];
  const answered = new Map<Sent, Frame>();
  const waiting = new Map<string, Sent[]>();
  for (const s of sent) {
    if (!s.reply) continue;
    const list = waiting.get(s.reply.id) ?? [];
    list.push(s);
    waiting.set(s.reply.id, list);
  }
  for (const reply of replies) {
    const id = String(reply[1]);
    const code = reply[0] === 3 ? RESULT : String(reply[2]);
    const candidates = waiting.get(id) ?? [];
    const index = candidates.findIndex((s) => s.reply?.codes.has(code));
    const match = candidates[index];
    if (!match) {
      const sentFor = sent.filter((s) => s.reply?.id === id).map((s) => s.label);
      problems.push(
        `unexpected reply ${JSON.stringify(reply).slice(0, 200)} (to: ${sentFor.join(' / ') || 'nothing sent with that id'})`,
      );
      continue;
    }
    candidates.splice(index, 1);
    answered.set(match, reply);
  }
  for (const list of waiting.values())
    for (const s of list) problems.push(`no reply to ${s.label}: ${s.bytes.toString('utf8').slice(0, 160)}`);
  return { answered, problems };
}

const YAML = (port: number) => `
users:
  - name: alice
    id_tags: ["${ALICE_TAG}"]
ocpp_server:
  enabled: true
  host: 127.0.0.1
  port: ${port}
  unknown_stations: pending
  ping_interval_s: 0
  call_timeout_s: 5
  stations:
    - id: fuzzbox
      identity: FUZZ-1
    - id: twinbox
      identity: TWIN-1
    - id: carport
      identity: CARPORT
`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

/** The state as Home Assistant and the session store see it, with the twin's transaction ids mapped. */
function comparable(state: ChargerState, mapId: (id: string) => string = (id) => id): unknown {
  const { updatedAt: _lastSeen, ...rest } = structuredClone(state);
  if (rest.session?.chargerSessionId) rest.session.chargerSessionId = mapId(rest.session.chargerSessionId);
  const raw = rest.raw as Record<string, unknown>;
  if (typeof raw.transactionId === 'number') raw.transactionId = Number(mapId(String(raw.transactionId)));
  return rest;
}

describe('fuzz: the OCPP central system in the daemon', () => {
  it('answers or ignores every hostile frame by the OCPP-J rules, and garbage changes nothing', async () => {
    const seed = runSeed('ocpp server fuzz');
    const random = seededRandom(seed);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    cleanups.push(() => void process.off('unhandledRejection', onUnhandled));

    const logLines: Array<{ level: number; msg: string }> = [];
    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        const entry = parseJson(line);
        logLines.push({ level: Number(entry.level), msg: String(entry.msg) });
      }
    });
    const port = await freePort();
    const rig: DaemonRig = await startDaemonRig({
      extraYaml: YAML(port),
      logger: createLogger({ destination: logStream, level: 'info' }),
    });
    cleanups.push(() => rig.stop());
    const { clock, daemon } = rig;
    const ha = rig.ha!;
    const server = daemon.ocppServer!;
    const frames = new FrameLog();
    server.events.on('frame', (f) => frames.frames.push(f));
    const charger = (id: string): Charger => daemon.chargers.find((c) => c.id === id)!;
    const fuzzbox = charger('fuzzbox');
    const twinbox = charger('twinbox');
    const url = (identity: string) => `ws://127.0.0.1:${port}/ocpp/${identity}`;

    // The bystander: a Bluetooth BS20 must not be written to because of anything an OCPP station
    // sends (watched once its login, which sets the clock and the ceiling, is done).
    const garage = charger('garage');
    await waitUntil(
      () => garage.getState().link === 'online' && garage.getState().maxCurrentA === 16,
      clock,
      {
        what: 'the BS20 logged in with its ceiling set',
      },
    );
    await runFor(clock, 5_000, 500);
    const bs20Writes: string[] = [];
    rig.sim().events.on('login', (phase) => {
      if (phase === 'logged_in') bs20Writes.push('a new login');
    });
    rig.sim().events.on('received', ({ message }) => {
      const action = (message as { action?: number }).action;
      if (message.type === 'charge_start' || message.type === 'charge_stop' || action === SettingAction.Set)
        bs20Writes.push(message.type);
    });
    // The lifetime energy register never goes down, whatever arrives.
    const energyProblems: string[] = [];
    let lastEnergy: number | null = null;
    fuzzbox.events.on('state', (s) => {
      const e = s.energyTotalKwh;
      if (e === null) return;
      if (!Number.isFinite(e) || (lastEnergy !== null && e < lastEnergy))
        energyProblems.push(`${lastEnergy} → ${e} kWh`);
      lastEnergy = e;
    });

    const model = new StationModel(random, () => clock.now());
    const hostile = new HostileStation(random, model);
    const fuzzToTwin = new Map<number, number>();
    const twinToFuzz = new Map<string, string>();
    const serverCalls: Frame[] = [];
    const answersDue: Frame[] = [];
    let fuzz = await RawStation.connect(url('FUZZ-1'), (_s, f) => answersDue.push(f));
    let twin = await RawStation.connect(url('TWIN-1'), (s, f) => s.send(answerFor(f, null) ?? ''));
    const connections = [fuzz, twin];
    cleanups.push(async () => {
      for (const c of connections) if (c.open) await c.close();
    });
    const stats = { frames: 0, batches: 0, closes: {} as Record<string, number>, forwarded: 0 };
    const problems: string[] = [];
    const context = () => `seed ${seed}, batch ${stats.batches}`;

    /** Twin copies of the calls the fuzz station had accepted, transaction ids translated. */
    const forward = async (accepted: Sent[], replies: Frame[]) => {
      const drafts: Array<{ id: string; text: string; startOf: number | null }> = [];
      for (const s of accepted) {
        const c = s.call!;
        let params = c.params;
        if (isRecord(params) && params.transactionId !== undefined) {
          const named = Number(params.transactionId);
          const mapped = fuzzToTwin.get(named);
          if (mapped !== undefined) params = { ...params, transactionId: mapped };
          // The fuzz station named the twin's transaction: the twin gets one that never existed.
          else if (hostile.twinIds.includes(named)) params = { ...params, transactionId: 2_000_000_000 };
        }
        const reply = replies.find(
          (f) => f[0] === 3 && f[1] === c.id && isRecord(f[2]) && 'transactionId' in f[2],
        );
        const startOf =
          c.action === 'StartTransaction' && reply
            ? Number((reply[2] as { transactionId: unknown }).transactionId)
            : null;
        drafts.push({ id: `t-${c.id}`, text: JSON.stringify([2, `t-${c.id}`, c.action, params]), startOf });
      }
      const before = twin.replies().length;
      for (const [n, d] of drafts.entries()) {
        twin.send(d.text);
        await twin.until(
          () => twin.replies().length >= before + n + 1,
          `the twin's answer to ${d.text.slice(0, 80)}`,
        );
      }
      stats.forwarded += drafts.length;
      const answers = twin.replies().slice(before);
      for (const d of drafts) {
        const answer = answers.find((f) => f[1] === d.id);
        if (answer?.[0] !== 3)
          problems.push(`twin refused ${d.text.slice(0, 160)}: ${JSON.stringify(answer)}`);
        if (d.startOf !== null && isRecord(answer?.[2])) {
          const twinId = Number(answer[2].transactionId);
          fuzzToTwin.set(d.startOf, twinId);
          twinToFuzz.set(String(twinId), String(d.startOf));
          hostile.twinIds.push(twinId);
        }
      }
    };

    const reconnectBoth = async () => {
      if (twin.open) await twin.close();
      await waitUntil(
        () => fuzzbox.getState().link !== 'online' && twinbox.getState().link !== 'online',
        clock,
        {
          what: 'both stations offline',
        },
      );
      // A real reconnect takes a moment; on the same simulated millisecond the session tracker
      // would take the first states after it for stale ones.
      await runFor(clock, 1_000, 500);
      answersDue.length = 0;
      serverCalls.push(...fuzz.serverCalls(), ...twin.serverCalls());
      fuzz = await RawStation.connect(url('FUZZ-1'), (_s, f) => answersDue.push(f));
      twin = await RawStation.connect(url('TWIN-1'), (s, f) => s.send(answerFor(f, null) ?? ''));
      connections.push(fuzz, twin);
      await waitUntil(
        () => fuzzbox.getState().link === 'online' && twinbox.getState().link === 'online',
        clock,
        {
          what: 'both stations back',
        },
      );
    };

    /**
     * Unreadable frames in a row, counted from the server's side (an upper bound: an answer to one of
     * the server's calls is unreadable once that call timed out). Ordinary batches never reach the
     * limit: a Heartbeat goes first when the next frame could.
     */
    let badRun = 0;
    const reusedIds = new Set<string>();
    const send = (sent: Sent[], draft: Draft, bytes: Buffer, codes?: ReadonlySet<string>) => {
      const s: Sent = {
        label: draft.label,
        bytes,
        binary: draft.binary ?? false,
        ...classify(bytes, codes ?? draft.codes),
      };
      if (s.effect === 'bad' && badRun + 1 > MAX_BAD_IN_A_ROW) {
        const id = hostile.id();
        send(
          sent,
          { label: 'Heartbeat (keeps the connection)', data: '' },
          Buffer.from(JSON.stringify([2, id, 'Heartbeat', {}])),
        );
      }
      if (s.effect === 'bad') badRun++;
      if (s.effect === 'good') badRun = 0;
      sent.push(s);
      fuzz.send(bytes, s.binary);
    };
    /** Sends a batch and waits for every reply it must get; returns the pairs. */
    const batch = async (drafts: Draft[]) => {
      const sent: Sent[] = [];
      const before = fuzz.replies().length;
      const allAnswered = () => fuzz.replies().length >= before + sent.filter((s) => s.reply).length;
      for (const draft of drafts) {
        const bytes = typeof draft.data === 'string' ? Buffer.from(draft.data, 'utf8') : draft.data;
        // One call at a time, as a station sends them (the garbage around them goes at once): the
        // twin sees its calls in the same order with the same states in between.
        if (classify(bytes).effect === 'good')
          await fuzz.until(() => allAnswered() || fuzz.closed !== null, `replies so far (${context()})`);
        send(sent, draft, bytes);
        if (draft.followedBy) {
          const id = sent.at(-1)?.call?.id ?? '';
          reusedIds.add(id);
          const dup = Buffer.from(JSON.stringify([2, id, draft.followedBy, {}]));
          send(
            sent,
            { label: `${draft.followedBy} reusing a pending id`, data: '' },
            dup,
            new Set([RESULT, 'FormationViolation']),
          );
        }
      }
      stats.frames += sent.length;
      const expected = sent.filter((s) => s.reply).length;
      await fuzz.until(
        () => fuzz.replies().length >= before + expected || fuzz.closed !== null,
        `${expected} replies (${context()})`,
      );
      expect(fuzz.closed, `the connection closed in an ordinary batch (${context()})`).toBeNull();
      const replies = fuzz.replies().slice(before);
      const { answered, problems: wrong } = matchReplies(sent, replies);
      problems.push(...wrong.map((p) => `${p} (${context()})`));
      return { sent, replies, answered };
    };

    /** One closing episode: an oversized frame, invalid UTF-8 in a text frame, or a flood of garbage. */
    const closingEpisode = async () => {
      const kind = random.pick(['oversized text', 'oversized binary', 'invalid UTF-8', 'flood']);
      const sent: Sent[] = [];
      let expectedCode = 1002;
      if (kind === 'oversized text') {
        expectedCode = 1009;
        const data = 'y'.repeat(MAX_FRAME_BYTES + random.int(50_000));
        fuzz.send(JSON.stringify([2, hostile.id(), 'DataTransfer', { vendorId: 'FuzzCo', data }]));
      } else if (kind === 'oversized binary') {
        expectedCode = 1009;
        fuzz.send(Buffer.from(random.bytes(MAX_FRAME_BYTES + 1 + random.int(1_000))), true);
      } else if (kind === 'invalid UTF-8') {
        expectedCode = 1007;
        fuzz.send(Buffer.from([0x5b, 0x32, 0x2c, 0x22, 0xc3, 0x28, 0x22, 0x5d]), false);
      } else {
        // From a clean count: one answered call first.
        await batch([{ label: 'Heartbeat', data: JSON.stringify([2, hostile.id(), 'Heartbeat', {}]) }]);
        for (let i = 0; i <= MAX_BAD_IN_A_ROW; i++) {
          const stray = random.chance(0.5);
          const text = stray ? JSON.stringify([3, `stray-${hostile.id()}`, {}]) : `{${hostile.id()}`;
          const bytes = Buffer.from(text);
          sent.push({
            label: stray ? 'answer to a call never made' : 'not JSON',
            bytes,
            binary: false,
            ...classify(bytes),
          });
          fuzz.send(bytes);
        }
      }
      stats.frames += Math.max(1, sent.length);
      const before = fuzz.replies().length;
      await fuzz.until(() => fuzz.closed !== null, `the server to close after ${kind}`);
      expect(fuzz.closed?.code, `${kind} (${context()})`).toBe(expectedCode);
      stats.closes[kind] = (stats.closes[kind] ?? 0) + 1;
      // Everything before the closing frame was answered; the closing frame itself is not.
      problems.push(...matchReplies(sent.slice(0, -1), fuzz.replies().slice(before)).problems);
      badRun = 0;
      await reconnectBoth();
    };

    while (stats.frames < FRAMES) {
      stats.batches++;
      if (random.chance(0.04)) {
        await closingEpisode();
        continue;
      }
      for (const f of answersDue.splice(0)) {
        const answer = answerFor(f, random);
        if (answer === null) continue;
        fuzz.send(answer);
        badRun++;
      }
      const drafts: Draft[] = [];
      const size = random.between(1, MAX_BATCH);
      for (let i = 0; i < size; i++) drafts.push(random.chance(0.35) ? hostile.valid() : hostile.hostile());
      const { sent, replies, answered } = await batch(drafts);

      // The model learns the id of its own StartTransaction.
      if (model.startPending) {
        const start = sent.find(
          (s) => s.call?.id === model.startPending && s.call.action === 'StartTransaction',
        );
        const reply = start && answered.get(start);
        if (reply?.[0] === 3 && isRecord(reply[2])) model.transactionId = Number(reply[2].transactionId);
        model.startPending = null;
      }
      // Calls answered with a CALLRESULT go to the twin: its state must end up the same.
      const accepted = sent.filter(
        (s) => s.call && answered.get(s)?.[0] === 3 && !s.label.includes('reusing'),
      );
      await forward(accepted, replies);
      expect(comparable(fuzzbox.getState()), `fuzz vs twin state (${context()})`).toEqual(
        comparable(twinbox.getState(), (id) => twinToFuzz.get(id) ?? `twin:${id}`),
      );
      expect(fuzzbox.getInfo(), context()).toEqual(twinbox.getInfo());
      expect(problems.slice(0, 5), context()).toEqual([]);
      await runFor(clock, random.int(20_000), 1_000);
    }

    // A session still open on either station closes the same way on both.
    serverCalls.push(...fuzz.serverCalls(), ...twin.serverCalls());
    await runFor(clock, 120_000, 1_000);

    // Still serving: a fresh, well-behaved station boots, and the fuzzed one boots again.
    const carport: RpcClient = createRpcClient({
      endpoint: `ws://127.0.0.1:${port}/ocpp`,
      identity: 'CARPORT',
      protocols: ['ocpp1.6'],
      reconnect: false,
      pingIntervalMs: 0,
    });
    cleanups.push(() => carport.close({ force: true }).then(() => undefined));
    carport.handle('GetConfiguration', async () => ({ configurationKey: [] }));
    carport.handle('TriggerMessage', async () => ({ status: 'Accepted' }));
    await carport.connect();
    await expect(
      call(carport, 'BootNotification', { chargePointVendor: 'Honest', chargePointModel: 'Box' }),
    ).resolves.toMatchObject({ status: 'Accepted' });
    await expect(
      call(carport, 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' }),
    ).resolves.toEqual({});
    // Its first readings are negative (schema-valid, physically impossible): no lifetime register
    // below zero and no session energy made up from them.
    const stamp = new Date(clock.now()).toISOString();
    await call(carport, 'MeterValues', {
      connectorId: 1,
      meterValue: [{ timestamp: stamp, sampledValue: [{ value: '-5000', unit: 'Wh' }] }],
    });
    await call(carport, 'StartTransaction', {
      connectorId: 1,
      idTag: ALICE_TAG,
      meterStart: -70_000,
      timestamp: stamp,
    });
    await call(carport, 'MeterValues', {
      connectorId: 1,
      meterValue: [{ timestamp: stamp, sampledValue: [{ value: '2000', unit: 'Wh' }] }],
    });
    expect(charger('carport').getState()).toMatchObject({ energyTotalKwh: 2, session: { energyKwh: null } });
    const boot = hostile.id();
    fuzz.send(
      JSON.stringify([2, boot, 'BootNotification', { chargePointVendor: 'FuzzCo', chargePointModel: 'W7' }]),
    );
    await fuzz.until(() => fuzz.replies().some((f) => f[1] === boot), 'the fuzz station to boot again');
    expect(fuzz.replies().find((f) => f[1] === boot)?.[2]).toMatchObject({ status: 'Accepted' });
    expect(charger('carport').getState().link).toBe('online');

    // Nothing was sent to a station that it did not ask for, apart from the documented check after
    // connecting (the profile stack level, who it is, its status).
    const unasked = serverCalls.filter(
      ([, , action, params]) =>
        !(
          action === 'GetConfiguration' && JSON.stringify(params) === '{"key":["ChargeProfileMaxStackLevel"]}'
        ) &&
        !(
          action === 'TriggerMessage' &&
          /^\{"requestedMessage":"(BootNotification|StatusNotification)"\}$/.test(JSON.stringify(params))
        ),
    );
    expect(unasked, context()).toEqual([]);
    expect(serverCalls.length, context()).toBeLessThanOrEqual(3 * connections.length);
    // Every CALLERROR carries a 1.6J code, and every frame the server sent conforms to OCPP 1.6.
    const codes = new Set(
      connections.flatMap((c) =>
        c
          .replies()
          .filter((f) => f[0] === 4)
          .map((f) => String(f[2])),
      ),
    );
    expect(
      [...codes].filter((code) => !V16_ERROR_CODES.has(code)),
      context(),
    ).toEqual([]);
    // (The oracle pairs a result with its call by message id: ids sent twice on purpose are left out.)
    const checkable = new FrameLog();
    checkable.frames.push(
      ...frames.frames.filter((f) => !reusedIds.has(String((parseFrame(f.message) ?? [])[1]))),
    );
    expect(checkable.problems().slice(0, 10), context()).toEqual([]);
    expect(
      connections.flatMap((c) => c.oddFrames),
      context(),
    ).toEqual([]);
    expect(problems, context()).toEqual([]);
    expect(energyProblems, context()).toEqual([]);
    expect(bs20Writes, context()).toEqual([]);
    // No handler crashed on what it was given (that would be logged as an error and answered InternalError).
    expect(
      logLines.filter((l) => l.level >= 50).map((l) => l.msg),
      context(),
    ).toEqual([]);
    expect(unhandled, context()).toEqual([]);

    // Home Assistant saw the same sessions on both stations, and an energy total that never fell.
    const sessionEvents = (id: string) =>
      ha
        .on('chargebridge/bridge/event')
        .map((m) => parseJson(m.text))
        .filter((e) => e.charger === id && String(e.type).startsWith('session_'))
        .map((e) => {
          const data = e.data as Record<string, unknown>;
          return [e.type, data.energy_kwh, data.user, data.id_tag, data.stop_reason, data.duration_s];
        });
    expect(sessionEvents('fuzzbox'), context()).toEqual(sessionEvents('twinbox'));
    const published = ha.on('chargebridge/fuzzbox').map((m) => parseJson(m.text).energy_total_kwh);
    const totals = published.filter((v): v is number => typeof v === 'number');
    expect(totals, context()).toEqual([...totals].sort((a, b) => a - b));

    const warnings = logLines.filter((l) => l.level === 40).length;
    console.info(
      `[ocpp server fuzz] ${stats.frames} frames in ${stats.batches} batches, ${stats.forwarded} accepted calls replayed on the twin; ` +
        `closes ${JSON.stringify(stats.closes)}; ${sessionEvents('fuzzbox').length} session events; ` +
        `${serverCalls.length} calls from the server; ${warnings} warnings logged`,
    );
  }, 90_000);
});

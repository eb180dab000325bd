/**
 * The session store and the OCPP state files gone bad under the real daemon (config-disk.test.ts
 * covers the configuration and the MQTT/discovery state files): a corrupt month file or open.json at
 * start, the session folder turning unwritable in the middle of a session, a corrupt OCPP
 * transaction ledger and offline queue. Each ends in a clear error for the user, the daemon keeps
 * working, and nothing is discarded: bad files are moved aside byte for byte, the last good copy is
 * used, and what could not be written is written once the disk takes it again.
 */
import { chmodSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import type { Journal } from '../../src/ocpp/client/offline-queue.js';
import type { SessionRecord } from '../../src/sessions/record.js';
import { embeddedBroker, type TestBroker } from '../helpers/brokers.js';
import { freePort } from '../helpers/mosquitto.js';
import { MqttProbe, type ReceivedMessage } from '../helpers/mqtt-probe.js';
import { type DaemonRig, GARAGE_YAML, parseJson, runFor, startDaemonRig, waitUntil } from './daemon-rig.js';
import { seededRandom } from './seeded-random.js';
import { readSessionFiles, sessionFolder } from './store-files.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

const MINUTE = 60_000;
const random = seededRandom(20261122);

interface Started {
  rig: DaemonRig;
  /** Home Assistant, listening before the daemon started (as it is in real life). */
  ha: MqttProbe;
  /** Every log line, parsed. */
  logs: Array<Record<string, unknown>>;
}

/** The daemon against a broker Home Assistant is already connected to, with its log captured. */
async function start(
  options: { files?: Record<string, string | Uint8Array>; chargersYaml?: string; extraYaml?: string } = {},
): Promise<Started> {
  const broker: TestBroker = await embeddedBroker.start();
  cleanups.push(() => broker.stop());
  const ha = await MqttProbe.connect(broker.url);
  cleanups.push(() => ha.close());
  await ha.subscribe('chargebridge/#');
  const logs: Array<Record<string, unknown>> = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(parseJson(line));
  });
  const rig = await startDaemonRig({
    mqttYaml: `  url: ${broker.url}`,
    probe: null,
    logger: createLogger({ destination: stream, level: 'info' }),
    ...options,
  });
  cleanups.push(() => rig.stop());
  return { rig, ha, logs };
}

function events(ha: MqttProbe, type: string): Array<Record<string, unknown>> {
  return ha
    .on('chargebridge/bridge/event')
    .map((m) => parseJson(m.text))
    .filter((e) => e.type === type);
}

const errors = (logs: Array<Record<string, unknown>>) => logs.filter((l) => (l.level as number) >= 50);

function chargerState(ha: MqttProbe): Record<string, unknown> {
  return parseJson(ha.on('chargebridge/garage').at(-1)?.text ?? '{}');
}

async function online(s: Started): Promise<void> {
  await waitUntil(
    () => chargerState(s.ha).link === 'online' && chargerState(s.ha).energy_total_kwh != null,
    s.rig.clock,
    {
      what: 'the charger online',
      stepMs: 500,
    },
  );
}

/** Plugs a car in and starts charging the way Home Assistant does; resolves once the session is announced. */
async function charge(s: Started): Promise<void> {
  const before = events(s.ha, 'session_started').length;
  if (!s.rig.sim().state.carConnected) s.rig.sim().plugIn({ demandA: 16 });
  await s.ha.publish('chargebridge/garage/set/charging', 'ON');
  await waitUntil(() => events(s.ha, 'session_started').length > before, s.rig.clock, {
    what: 'session_started',
    stepMs: 1_000,
    timeoutMs: 10_000,
  });
}

/** Asks the daemon for its sessions over the bridge API, as a dashboard would. */
async function listSessions(
  s: Started,
  request: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const topic = 'chargebridge/bridge/response/sessions/list';
  const seen = s.ha.on(topic).length;
  await s.ha.publish('chargebridge/bridge/request/sessions/list', JSON.stringify(request));
  await waitUntil(() => s.ha.on(topic).length > seen, s.rig.clock, { what: 'the sessions/list answer' });
  const response = parseJson((s.ha.on(topic).at(-1) as ReceivedMessage).text);
  expect(response.status).toBe('ok');
  return response.data as Record<string, unknown>;
}

function closedSession(
  id: string,
  startedAt: number,
  meterStartKwh: number,
  energyKwh: number,
): SessionRecord {
  const endedAt = startedAt + 90 * MINUTE;
  const meterStopKwh = Math.round((meterStartKwh + energyKwh) * 1000) / 1000;
  return {
    id,
    chargerId: 'garage',
    chargerSessionId: id.slice(-8),
    startedAt,
    endedAt,
    meterStartKwh,
    meterStopKwh,
    energyKwh,
    samples: [
      { at: startedAt, meterKwh: meterStartKwh },
      { at: endedAt, meterKwh: meterStopKwh },
    ],
    peakPowerW: 3680,
    maxCurrentA: 16,
    user: null,
    userSource: null,
    idTag: null,
    idTagKnown: null,
    stopReason: 'unplugged',
    cost: null,
    notes: [],
  };
}

const monthFile = (sessions: SessionRecord[]) =>
  `${JSON.stringify({ format: 'chargebridge-sessions', version: 1, sessions })}\n`;
const openFile = (sessions: SessionRecord[]) =>
  `${JSON.stringify({ format: 'chargebridge-open-sessions', version: 1, sessions })}\n`;

/**
 * Makes writes into `folder` fail. Permission bits do not stop root, so as root the folder is moved
 * away and a plain file takes its name (writes then fail with EEXIST/ENOTDIR). Returns the undo.
 */
function makeUnwritable(folder: string): { how: string; undo: () => void } {
  const mode = statSync(folder).mode & 0o777;
  chmodSync(folder, 0o500);
  const probe = path.join(folder, '.write-probe');
  let how = 'chmod 500';
  let restore = () => chmodSync(folder, mode);
  try {
    writeFileSync(probe, '');
    rmSync(probe);
    chmodSync(folder, mode);
    const away = `${folder}.away`;
    renameSync(folder, away);
    writeFileSync(folder, 'a file where the session folder was\n');
    how = 'replaced by a file (running as root)';
    restore = () => {
      rmSync(folder);
      renameSync(away, folder);
    };
  } catch {
    // Not root: the mode bits do it.
  }
  let undone = false;
  const undo = () => {
    if (undone) return;
    undone = true;
    restore();
  };
  // Also when the test fails half-way, so the data folder can be removed.
  cleanups.push(undo);
  return { how, undo };
}

/** A month file cut off mid-write with a good .bak, one of random bytes without, a wrong-shaped open.json with a .bak. */
function corruptSessionFiles() {
  const may = Date.UTC(2026, 4, 10, 18, 0, 0);
  const maySessions = [
    closedSession('garage-20260510T180000Z', may, 1200, 7.5),
    closedSession('garage-20260512T180000Z', may + 2 * 24 * 60 * MINUTE, 1207.5, 11.25),
  ];
  const stillOpen: SessionRecord = {
    ...closedSession('garage-20260531T200000Z', Date.UTC(2026, 4, 31, 20, 0, 0), 1218.75, 4.5),
    endedAt: null,
    meterStopKwh: null,
    stopReason: null,
  };
  const corrupt = {
    may: Buffer.from(monthFile(maySessions).slice(0, 180)),
    april: Buffer.from(random.bytes(400)),
    open: Buffer.from('{"format":"chargebridge-open-sessions","version":1,"sessions":[{"id":7}]}\n'),
  };
  const folder = 'sessions';
  const files = {
    [`${folder}/2026-05.json`]: corrupt.may,
    [`${folder}/2026-05.json.bak`]: monthFile(maySessions),
    [`${folder}/2026-04.json`]: corrupt.april,
    [`${folder}/open.json`]: corrupt.open,
    [`${folder}/open.json.bak`]: openFile([stillOpen]),
  };
  return { maySessions, stillOpen, corrupt, files };
}

describe('session files gone bad under the daemon', () => {
  it('corrupt month files and open.json at start: moved aside, a clear error in the log, the .bak used, new sessions recorded', async () => {
    const { maySessions, stillOpen, corrupt, files } = corruptSessionFiles();
    const s = await start({ files });
    const dir = sessionFolder(s.rig.dir);
    await online(s);

    // Kept aside byte for byte, never deleted.
    const names = readdirSync(dir);
    const aside = (file: string) => names.find((n) => n.startsWith(`${file}.corrupt-`));
    expect(readFileSync(path.join(dir, aside('2026-05.json') ?? 'missing'))).toEqual(corrupt.may);
    expect(readFileSync(path.join(dir, aside('2026-04.json') ?? 'missing'))).toEqual(corrupt.april);
    expect(readFileSync(path.join(dir, aside('open.json') ?? 'missing'))).toEqual(corrupt.open);

    // Told in the log: which file, what was wrong, where it went, what was used instead.
    const told = errors(s.logs).filter((l) => l.kind === 'corrupt');
    expect(told.map((l) => [path.basename(String(l.file)), l.msg])).toEqual(
      expect.arrayContaining([
        ['2026-04.json', 'store file unusable and no good copy; starting without its data'],
        ['2026-05.json', 'store file unusable; loaded the last good copy'],
        ['open.json', 'store file unusable; loaded the last good copy'],
      ]),
    );
    for (const l of told) expect(String(l.reason)).not.toBe('');

    // The last good copies are what the daemon serves; the open session is closed as it was (once
    // the charger had a few seconds to send its record of it: it has none).
    await runFor(s.rig.clock, 10_000, 1_000);
    const list = await listSessions(s, { month: '2026-05' });
    const ids = (list.sessions as Array<Record<string, unknown>>).map((r) => r.id).sort();
    expect(ids).toEqual([...maySessions.map((r) => r.id), stillOpen.id].sort());
    await waitUntil(() => readSessionFiles(s.rig.dir).closed.length === 3, s.rig.clock, {
      what: 'the month file written whole again',
    });
    const restored = readSessionFiles(s.rig.dir).closed;
    expect(restored.filter((r) => r.id !== stillOpen.id)).toEqual(maySessions);
    expect(restored.find((r) => r.id === stillOpen.id)).toMatchObject({
      stopReason: 'interrupted',
      meterStopKwh: stillOpen.samples.at(-1)?.meterKwh,
    });

    // New sessions are recorded as usual.
    await charge(s);
    await runFor(s.rig.clock, 10 * MINUTE, 5_000);
    s.rig.sim().unplug();
    await waitUntil(() => events(s.ha, 'session_completed').length >= 1, s.rig.clock, {
      what: 'session_completed',
    });
    await waitUntil(
      () => readSessionFiles(s.rig.dir).closed.some((r) => r.startedAt >= Date.UTC(2026, 5, 1)),
      s.rig.clock,
      {
        what: 'the new session in the June file',
      },
    );
    const june = readSessionFiles(s.rig.dir).closed.filter((r) => r.startedAt >= Date.UTC(2026, 5, 1));
    expect(june).toHaveLength(1);
    expect(june[0]?.energyKwh).toBeGreaterThan(0.5);
    expect(readSessionFiles(s.rig.dir).aside).toHaveLength(3);
  });

  it('corrupt session files at start are told to Home Assistant as store_problem on bridge/event', async () => {
    const { files } = corruptSessionFiles();
    const s = await start({ files });
    const dir = sessionFolder(s.rig.dir);
    await online(s);
    const names = readdirSync(dir);
    const aside = (file: string) => names.find((n) => n.startsWith(`${file}.corrupt-`));
    // Home Assistant was listening all along: it must hear of each bad file to raise a notification.
    await waitUntil(() => events(s.ha, 'store_problem').length >= 3, s.rig.clock, {
      what: 'three store_problem events on bridge/event',
      timeoutMs: 3_000,
    });
    const problems = events(s.ha, 'store_problem').map((e) => e.data as Record<string, unknown>);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'corrupt',
          file: path.join(dir, '2026-05.json'),
          movedTo: path.join(dir, aside('2026-05.json') ?? ''),
          recoveredFrom: path.join(dir, '2026-05.json.bak'),
        }),
        expect.objectContaining({
          kind: 'corrupt',
          file: path.join(dir, '2026-04.json'),
          recoveredFrom: null,
        }),
        expect.objectContaining({ kind: 'corrupt', file: path.join(dir, 'open.json') }),
      ]),
    );
  });

  it('the session folder unwritable mid-session: a clear error in the log and on bridge/event, nothing lost, saved once writable again', async () => {
    const s = await start();
    const dir = sessionFolder(s.rig.dir);
    await online(s);
    await charge(s);
    await runFor(s.rig.clock, 2 * MINUTE, 5_000);
    await waitUntil(() => readSessionFiles(s.rig.dir).open.length === 1, s.rig.clock, { what: 'open.json' });
    const sessionId = readSessionFiles(s.rig.dir).open[0]?.id;

    // Mid-session the disk refuses writes for five minutes of charging.
    let broken = makeUnwritable(dir);
    const errorsBefore = errors(s.logs).length;
    await runFor(s.rig.clock, 5 * MINUTE, 5_000);
    const failures = errors(s.logs).slice(errorsBefore);
    expect(failures.length, `writes should fail with the folder ${broken.how}`).toBeGreaterThan(0);
    // One clear message per distinct error (a write in flight may fail differently), not one a minute.
    expect(new Set(failures.map((f) => f.err)).size).toBe(failures.length);
    expect(failures.length).toBeLessThanOrEqual(2);
    for (const failure of failures) {
      expect(failure.msg).toBe('session store write failed; sessions are kept in memory');
      expect(String(failure.err)).toContain(`cannot write ${path.join(dir, 'open.json')}`);
    }
    await waitUntil(() => events(s.ha, 'store_problem').length === failures.length, s.rig.clock, {
      what: 'store_problem on bridge/event',
      timeoutMs: 3_000,
    });
    expect(events(s.ha, 'store_problem')[0]?.data).toMatchObject({
      kind: 'write_failed',
      file: path.join(dir, 'open.json'),
      reason: failures[0]?.err,
    });
    // Nothing lost in memory: the daemon still counts the session, Home Assistant still sees it grow.
    const open = (await listSessions(s)).open as Array<Record<string, unknown>>;
    expect(open.map((r) => r.id)).toEqual([sessionId]);
    const energyWhileBroken = Number(open[0]?.energy_kwh);
    expect(energyWhileBroken).toBeGreaterThan(0.3);

    // Writable again: the next save (at most a minute later while charging) has everything.
    broken.undo();
    const fixedAt = s.rig.clock.now();
    const savedEnergy = () =>
      readSessionFiles(s.rig.dir).open.find((r) => r.id === sessionId)?.energyKwh ?? 0;
    await waitUntil(() => savedEnergy() >= energyWhileBroken, s.rig.clock, {
      what: 'the session saved once the folder is writable',
      stepMs: 1_000,
    });
    expect(s.rig.clock.now() - fixedAt).toBeLessThanOrEqual(70_000);
    await waitUntil(() => s.logs.some((l) => /writes work again/.test(String(l.msg))), s.rig.clock, {
      what: 'the all-clear in the log',
    });

    // Broken again, and the car leaves: the end of the session cannot be written either.
    broken = makeUnwritable(dir);
    await runFor(s.rig.clock, MINUTE, 5_000);
    s.rig.sim().unplug();
    await waitUntil(() => events(s.ha, 'session_completed').length === 1, s.rig.clock, {
      what: 'session_completed',
    });
    const completed = events(s.ha, 'session_completed')[0]?.data as Record<string, unknown>;
    await runFor(s.rig.clock, MINUTE, 5_000);
    broken.undo();
    // Until something is written again the old open.json still holds it: a crash now keeps it.
    const onDisk = readSessionFiles(s.rig.dir);
    expect([...onDisk.open, ...onDisk.closed].map((r) => r.id)).toContain(sessionId);

    // The next session's first save writes the finished one to its month first.
    await charge(s);
    await waitUntil(
      () => {
        const files = readSessionFiles(s.rig.dir);
        return files.closed.some((r) => r.id === sessionId) && files.open.length === 1;
      },
      s.rig.clock,
      { what: 'the finished session in its month file, the new one in open.json' },
    );
    const after = readSessionFiles(s.rig.dir);
    const finished = after.closed.find((r) => r.id === sessionId);
    expect(finished).toMatchObject({ stopReason: 'unplugged', energyKwh: completed.energy_kwh });
    expect(after.open.map((r) => r.id)).not.toContain(sessionId);
    expect(after.open).toHaveLength(1);
  });
});

describe('OCPP state files gone bad under the daemon', () => {
  it('a corrupt transaction ledger and a corrupt offline queue at start: moved aside, clear errors, the queue’s last good copy delivered, charging works', async () => {
    const ocppPort = await freePort();
    const corruptLedger = Buffer.from(
      '{"format":"chargebridge-ocpp-transactions","version":1,"nextId":41,"transactions":[{"id":4',
    );
    const corruptQueue = Buffer.from(random.bytes(256));
    // The last good copy: a whole transaction from May still waiting for the central system.
    const queued: Journal = {
      version: 1,
      nextSeq: 3,
      entries: [
        {
          seq: 1,
          action: 'StartTransaction',
          payload: {
            connectorId: 1,
            idTag: 'chargebridge',
            meterStart: 1_200_000,
            timestamp: '2026-05-20T17:00:00.000Z',
          },
          txRef: 'may-20',
          attempts: 0,
          queuedAt: Date.UTC(2026, 4, 20, 17),
        },
        {
          seq: 2,
          action: 'StopTransaction',
          payload: { meterStop: 1_209_500, timestamp: '2026-05-20T19:00:00.000Z', reason: 'EVDisconnected' },
          txRef: 'may-20',
          attempts: 0,
          queuedAt: Date.UTC(2026, 4, 20, 19),
        },
      ],
      transactionIds: {},
      openTransaction: null,
    };
    const s = await start({
      chargersYaml: [
        GARAGE_YAML,
        '    ocpp_upstream:',
        `      url: ws://127.0.0.1:${ocppPort}/ocpp`,
        '      station_id: BS20-7',
        '      ping_interval_s: 0',
        '      call_timeout_s: 300',
      ].join('\n'),
      extraYaml: [
        'ocpp_server:',
        '  enabled: true',
        '  host: 127.0.0.1',
        `  port: ${ocppPort}`,
        '  ping_interval_s: 0',
        '  stations:',
        '    - id: garage_ocpp',
        '      identity: BS20-7',
      ].join('\n'),
      files: {
        'ocpp-transactions.json': corruptLedger,
        'ocpp-upstream/garage.queue.json': corruptQueue,
        'ocpp-upstream/garage.queue.json.bak': `${JSON.stringify(queued)}\n`,
      },
    });
    const dir = s.rig.dir;
    const ledgerPath = path.join(dir, 'ocpp-transactions.json');
    const readLedger = () =>
      JSON.parse(readFileSync(ledgerPath, 'utf8')) as {
        nextId: number;
        transactions: Array<Record<string, unknown>>;
      };

    // Both bad files kept aside byte for byte, each with a clear error naming it.
    const asideLedger = readdirSync(dir).find((n) => n.startsWith('ocpp-transactions.json.corrupt-'));
    expect(readFileSync(path.join(dir, asideLedger ?? 'missing'))).toEqual(corruptLedger);
    const upstreamDir = path.join(dir, 'ocpp-upstream');
    const asideQueue = readdirSync(upstreamDir).find((n) => n.startsWith('garage.queue.json.corrupt-'));
    expect(readFileSync(path.join(upstreamDir, asideQueue ?? 'missing'))).toEqual(corruptQueue);
    const said = errors(s.logs);
    const ledgerError = said.find((l) => /transaction ledger is unreadable/.test(String(l.msg)));
    expect(ledgerError).toMatchObject({ file: ledgerPath, movedTo: path.join(dir, asideLedger ?? '') });
    const seedId = Number(ledgerError?.nextTransactionId);
    expect(seedId).toBeGreaterThan(41);
    expect(said.find((l) => String(l.file) === path.join(upstreamDir, 'garage.queue.json'))).toMatchObject({
      kind: 'corrupt',
      msg: 'store file unusable; loaded the last good copy',
      recoveredFrom: path.join(upstreamDir, 'garage.queue.json.bak'),
    });

    // The queued transaction reaches the central system, under an id above anything issued before.
    await waitUntil(
      () => {
        try {
          return readLedger().transactions.some((t) => t.meterStartWh === 1_200_000 && t.stoppedAt !== null);
        } catch {
          return false;
        }
      },
      s.rig.clock,
      { what: 'the queued May transaction in the new ledger', stepMs: 1_000, timeoutMs: 10_000 },
    );
    const may = readLedger().transactions.find((t) => t.meterStartWh === 1_200_000);
    expect(may).toMatchObject({ meterStopWh: 1_209_500, stopReason: 'EVDisconnected' });
    expect(Number(may?.id)).toBeGreaterThanOrEqual(seedId);

    // And charging goes on: a new session is a new transaction right after it.
    await online(s);
    await charge(s);
    await waitUntil(() => readLedger().transactions.length === 2, s.rig.clock, {
      what: 'the new transaction in the ledger',
      stepMs: 1_000,
      timeoutMs: 10_000,
    });
    const next = readLedger().transactions.find((t) => t.stoppedAt === null);
    expect(Number(next?.id)).toBe(Number(may?.id) + 1);
  });
});

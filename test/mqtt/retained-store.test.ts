/**
 * The retained message store on disk: snapshot + journal, batched appends, fsync at most once a
 * minute, compaction, what a kill or a damaged file loses, and the move from the old whole-file
 * format. Time is a ManualClock; tests wait for the store's file work (idle()), never for time.
 */
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger, silentLogger } from '../../src/log.js';
import {
  type RetainedMessage,
  RetainedStore,
  type RetainedStoreOptions,
} from '../../src/mqtt/retained-store.js';

const text = (s: string) => Buffer.from(s, 'utf8');
const msg = (topic: string, payload: string | Buffer, qos: 0 | 1 | 2 = 1): RetainedMessage => ({
  topic,
  payload: typeof payload === 'string' ? text(payload) : payload,
  qos,
});
const view = (messages: RetainedMessage[]) =>
  Object.fromEntries(messages.map((m) => [m.topic, m.payload.toString('utf8')]));

function logCapture() {
  const stream = new PassThrough();
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
  });
  return { logger: createLogger({ level: 'debug', destination: stream }), lines };
}

/** A real FileHandle's prototype, to count fsyncs of the journal. */
async function fileHandlePrototype(dir: string) {
  const handle = await open(join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(handle) as { sync(): Promise<void> };
  await handle.close();
  await rm(join(dir, 'probe'));
  return proto;
}

describe('RetainedStore', () => {
  let dir: string;
  let clock: ManualClock;
  let path: string;
  const open_: RetainedStore[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chargebridge-retained-'));
    clock = new ManualClock();
    path = join(dir, 'mqtt-retained.json');
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const s of open_.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const make = (options: Partial<RetainedStoreOptions> = {}) => {
    const store = new RetainedStore({ path, logger: silentLogger(), clock, ...options });
    open_.push(store);
    return store;
  };
  const journal = () => readFile(join(dir, 'mqtt-retained.journal'), 'utf8');
  const journalLines = async () => (await journal()).split('\n').filter(Boolean);

  it('appends changes in one batch a second later, only the topics that changed, and reads them back after a reopen', async () => {
    const store = make();
    expect(await store.load()).toEqual([]);
    store.set(msg('a', 'one'));
    store.set(msg('b', Buffer.from([0, 255]), 0));
    store.set(msg('a', 'two'));
    await clock.advance(999);
    await store.idle();
    expect(await readdir(dir)).toEqual([]);
    await clock.advance(1);
    await store.idle();
    // Header + a (last value only) + b: one line per changed topic.
    const lines = await journalLines();
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0]!)).toMatchObject({ format: 'chargebridge-retained-journal', generation: 0 });

    store.set(msg('b', Buffer.from([0, 255]), 0)); // unchanged: nothing to write
    expect(clock.pendingTimers()).toBe(1); // only the fsync timer
    store.set(msg('c', 'three'));
    store.set(msg('c', ''));
    await clock.advance(1000);
    await store.idle();
    store.set(msg('b', ''));
    await store.close();

    const again = make();
    const loaded = await again.load();
    expect(loaded.map((m) => [m.topic, [...m.payload], m.qos])).toEqual([['a', [...text('two')], 1]]);
    expect((await readdir(dir)).sort()).toEqual(['mqtt-retained.journal']);
  });

  it('a SIGKILL loses only the changes of the last second: appended lines are read by the next process', async () => {
    const first = make();
    await first.load();
    first.set(msg('chargebridge/garage/state', '{"power_w":7200}'));
    first.set(msg('homeassistant/device/garage/config', '{"name":"Garage"}'));
    await clock.advance(1000);
    await first.idle();
    // Changed after the last append, then the process is killed: no close(), no flush().
    first.set(msg('chargebridge/garage/state', '{"power_w":0}'));

    const second = new RetainedStore({ path, logger: silentLogger(), clock: new ManualClock() });
    expect(view(await second.load())).toEqual({
      'chargebridge/garage/state': '{"power_w":7200}',
      'homeassistant/device/garage/config': '{"name":"Garage"}',
    });
    open_.push(second);
  });

  it('fsyncs the journal at most once a minute, and at close', async () => {
    const proto = await fileHandlePrototype(dir);
    const store = make();
    await store.load();
    store.set(msg('chargebridge/garage/state', '{"power_w":0}'));
    await clock.advance(1000);
    await store.idle();
    // Counted from here: creating the journal fsyncs its header (and folder) once, durably.
    const sync = vi.spyOn(proto, 'sync');
    for (let s = 1; s < 150; s++) {
      store.set(msg('chargebridge/garage/state', `{"power_w":${s}}`));
      await clock.advance(1000);
      await store.idle();
    }
    // An append every second for 150 s: fsyncs a minute after the first (61 s) and the next (121 s).
    expect(sync).toHaveBeenCalledTimes(2);
    expect((await journalLines()).length).toBe(151);
    await store.close();
    expect(sync).toHaveBeenCalledTimes(3);
  });

  it('a torn last line (killed mid-append) is ignored with a warning; everything before it is kept', async () => {
    const first = make();
    await first.load();
    first.set(msg('a', 'kept'));
    first.set(msg('b', 'kept too'));
    await first.flush();
    await writeFile(join(dir, 'mqtt-retained.journal'), `${await journal()}{"set":"c","qos":1,"payloadBa`);

    const logs = logCapture();
    const second = make({ logger: logs.logger });
    expect(view(await second.load())).toEqual({ a: 'kept', b: 'kept too' });
    expect(logs.lines.some((l) => l.level === 40 && /cut short/.test(l.msg))).toBe(true);
    // Nothing moved aside: a torn line is expected after a kill, not damage.
    expect((await readdir(dir)).filter((f) => f.includes('corrupt'))).toEqual([]);
    // The torn bytes are gone, so the next append does not land on the end of them.
    second.set(msg('d', 'after'));
    await second.close();
    expect(view(await make().load())).toEqual({ a: 'kept', b: 'kept too', d: 'after' });
  });

  it('a damaged line inside the journal: moved aside byte for byte, every readable change kept', async () => {
    const first = make();
    await first.load();
    first.set(msg('a', '1'));
    await first.flush();
    first.set(msg('b', '2'));
    await first.flush();
    await first.close();
    const lines = await journalLines();
    const damaged = `${[lines[0], lines[1], 'garbage{{', lines[2]].join('\n')}\n${JSON.stringify({ delete: 'a' })}\n`;
    await writeFile(join(dir, 'mqtt-retained.journal'), damaged);

    const logs = logCapture();
    const second = make({ logger: logs.logger });
    expect(view(await second.load())).toEqual({ b: '2' });
    const aside = (await readdir(dir)).find((f) => f.startsWith('mqtt-retained.journal.corrupt-'));
    expect(aside).toBeDefined();
    expect(await readFile(join(dir, aside!), 'utf8')).toBe(damaged);
    expect(logs.lines.some((l) => l.level === 50 && /journal is damaged; moved it aside/.test(l.msg))).toBe(
      true,
    );
    await second.close();
    // What was kept is on disk again (new snapshot and journal).
    expect(view(await make().load())).toEqual({ b: '2' });
  });

  it('compacts the journal into a new snapshot once it outgrows twice the live data, keeping every message', async () => {
    const store = make({ compactMinBytes: 4096 });
    await store.load();
    const big = 'x'.repeat(300);
    for (let i = 0; i < 40; i++) {
      store.set(msg(`station/${i % 5}/state`, `${i}:${big}`));
      store.set(msg('fixed/config', `config ${i % 2}`));
      await clock.advance(1000);
      await store.idle();
    }
    const snapshot = JSON.parse(await readFile(path, 'utf8')) as { version: number; generation: number };
    expect(snapshot.version).toBe(2);
    expect(snapshot.generation).toBeGreaterThan(0);
    // The journal was restarted: far smaller than the 40 batches written.
    expect((await journal()).length).toBeLessThan(4096 + 1500);
    expect(JSON.parse((await journalLines())[0]!).generation).toBe(snapshot.generation);

    const expected: Record<string, string> = { 'fixed/config': 'config 1' };
    for (let i = 35; i < 40; i++) expected[`station/${i % 5}/state`] = `${i}:${big}`;
    // Without a close: the snapshot plus what was appended since.
    expect(view(await new RetainedStore({ path, logger: silentLogger(), clock }).load())).toEqual(expected);
  });

  it('a journal left by a compaction cut short (older generation) is not replayed over the newer snapshot', async () => {
    const b64 = (v: string) => text(v).toString('base64');
    // The snapshot (generation 2) was written with a change the old journal never got (a = new);
    // the process died before the journal was started again.
    await writeFile(
      path,
      JSON.stringify({
        format: 'chargebridge-retained',
        version: 2,
        generation: 2,
        messages: [{ topic: 'a', qos: 1, payloadBase64: b64('new') }],
      }),
    );
    await writeFile(
      join(dir, 'mqtt-retained.journal'),
      [
        JSON.stringify({ format: 'chargebridge-retained-journal', version: 1, generation: 1 }),
        JSON.stringify({ set: 'a', qos: 1, payloadBase64: b64('old') }),
        '',
      ].join('\n'),
    );
    const store = make();
    expect(view(await store.load())).toEqual({ a: 'new' });
    store.set(msg('b', 'later'));
    await store.close();
    expect(view(await make().load())).toEqual({ a: 'new', b: 'later' });
  });

  it('reads the old whole-file format once and moves it to snapshot + journal', async () => {
    const old = {
      format: 'chargebridge-retained',
      version: 1,
      messages: [
        {
          topic: 'homeassistant/device/garage/config',
          qos: 1,
          payloadBase64: text('{"n":1}').toString('base64'),
        },
        {
          topic: 'chargebridge/garage/state',
          qos: 0,
          payloadBase64: Buffer.from([1, 2, 3]).toString('base64'),
        },
      ],
    };
    await writeFile(path, JSON.stringify(old));
    // A journal next to a version 1 file predates it (a downgrade wrote the file since): not replayed.
    await writeFile(
      join(dir, 'mqtt-retained.journal'),
      `${JSON.stringify({ format: 'chargebridge-retained-journal', version: 1, generation: 4 })}\n${JSON.stringify({ delete: 'chargebridge/garage/state' })}\n`,
    );
    const store = make();
    const loaded = await store.load();
    expect(loaded.map((m) => [m.topic, [...m.payload], m.qos])).toEqual([
      ['homeassistant/device/garage/config', [...text('{"n":1}')], 1],
      ['chargebridge/garage/state', [1, 2, 3], 0],
    ]);
    await store.idle();
    const migrated = JSON.parse(await readFile(path, 'utf8')) as { version: number; generation: number };
    expect(migrated).toMatchObject({ format: 'chargebridge-retained', version: 2 });
    expect(migrated.generation).toBeGreaterThan(4);
    store.set(msg('chargebridge/garage/state', ''));
    await store.close();
    expect(view(await make().load())).toEqual({ 'homeassistant/device/garage/config': '{"n":1}' });
    expect((await readdir(dir)).sort()).toEqual(['mqtt-retained.journal', 'mqtt-retained.json']);
  });

  it('a damaged snapshot is moved aside, the messages it still has are kept, and the journal replayed', async () => {
    const good = (topic: string, value: string) => ({
      topic,
      qos: 1,
      payloadBase64: text(value).toString('base64'),
    });
    const body = JSON.stringify({
      format: 'chargebridge-retained',
      version: 2,
      generation: 3,
      messages: [good('a', '1'), { topic: 'b', qos: 7, payloadBase64: '' }, good('c', '3')],
    });
    await writeFile(path, body);
    await writeFile(
      join(dir, 'mqtt-retained.journal'),
      `${JSON.stringify({ format: 'chargebridge-retained-journal', version: 1, generation: 3 })}\n${JSON.stringify({ set: 'd', qos: 0, payloadBase64: text('4').toString('base64') })}\n`,
    );
    const logs = logCapture();
    const store = make({ logger: logs.logger });
    expect(view(await store.load())).toEqual({ a: '1', c: '3', d: '4' });
    const aside = (await readdir(dir)).find((f) => f.startsWith('mqtt-retained.json.corrupt-'));
    expect(await readFile(join(dir, aside!), 'utf8')).toBe(body);
    expect(logs.lines.some((l) => l.level === 50 && /file is unreadable; moved it aside/.test(l.msg))).toBe(
      true,
    );
    await store.close();
    expect(view(await make().load())).toEqual({ a: '1', c: '3', d: '4' });
  });

  it('a path it cannot read (a folder) fails with the path and the setting named, and nothing is moved', async () => {
    await mkdir(path);
    await expect(make().load()).rejects.toThrow(
      new RegExp(`retained message file ${path}: .*EISDIR.*persist_retained`),
    );
    expect(await readdir(dir)).toEqual(['mqtt-retained.json']);
  });

  it('a failed write is logged, retried a minute later, and loses nothing', async () => {
    const sub = join(dir, 'later');
    path = join(sub, 'mqtt-retained.json');
    await mkdir(sub);
    const logs = logCapture();
    const store = make({ logger: logs.logger });
    await store.load();
    await rm(sub, { recursive: true });
    await writeFile(sub, 'a file where the folder should be');
    store.set(msg('a', 'x'));
    await clock.advance(1000);
    await store.idle();
    expect(logs.lines.some((l) => l.level === 50 && l.msg === 'could not write retained messages')).toBe(
      true,
    );
    await rm(sub);
    await mkdir(sub);
    await clock.advance(60_000);
    await store.idle();
    expect(view(await new RetainedStore({ path, logger: silentLogger(), clock }).load())).toEqual({ a: 'x' });
  });

  it('a close that cannot write names the file and since when its changes are missing', async () => {
    const sub = join(dir, 'later');
    path = join(sub, 'mqtt-retained.json');
    await mkdir(sub);
    const store = make();
    await store.load();
    store.set(msg('a', 'on disk'));
    await clock.advance(1000);
    await store.idle();
    const written = clock.now();
    // The disk fills up: the open journal takes no more bytes, and no new file can be made.
    const proto = (await fileHandlePrototype(dir)) as unknown as { write(): Promise<unknown> };
    const full = vi
      .spyOn(proto, 'write')
      .mockRejectedValue(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
    await rm(sub, { recursive: true });
    await writeFile(sub, 'a file where the folder should be');
    await clock.advance(3 * 60_000);
    store.set(msg('a', 'only in memory'));
    await store.close();
    expect(store.unsaved()).toEqual([
      expect.objectContaining({ file: path, keptIn: path, keptSince: written }),
    ]);
    expect(store.unsaved()[0]?.detail).toMatch(
      new RegExp(
        `changed since ${new Date(written).toISOString()} \\(the last 3 minutes\\) are not in ${path}`,
      ),
    );
    // A close that wrote everything has nothing to report.
    full.mockRestore();
    await rm(sub);
    await mkdir(sub);
    const fine = make();
    await fine.load();
    fine.set(msg('b', 'x'));
    await fine.close();
    expect(fine.unsaved()).toEqual([]);
  });
});

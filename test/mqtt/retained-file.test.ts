import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/log.js';
import { RetainedFile } from '../../src/mqtt/retained-file.js';

describe('RetainedFile', () => {
  let dir: string;
  let clock: ManualClock;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chargebridge-retained-'));
    clock = new ManualClock();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const make = (path = join(dir, 'retained.json')) =>
    new RetainedFile({ path, logger: silentLogger(), clock, debounceMs: 500 });

  it('coalesces a burst into one debounced write and round-trips binary payloads', async () => {
    const file = make();
    expect(await file.load()).toEqual([]);
    file.set({ topic: 'a', payload: Buffer.from('one'), qos: 1 });
    file.set({ topic: 'b', payload: Buffer.from([0, 255]), qos: 0 });
    await clock.advance(499);
    expect(await readdir(dir)).toEqual([]);
    await clock.advance(1);
    await file.flush(); // wait for the write the timer started
    const again = make();
    const loaded = await again.load();
    expect(loaded.map((m) => [m.topic, [...m.payload], m.qos])).toEqual([
      ['a', [...Buffer.from('one')], 1],
      ['b', [0, 255], 0],
    ]);
    // No temp file left behind.
    expect(await readdir(dir)).toEqual(['retained.json']);
  });

  it('a path it cannot read (a folder) fails with the path and the setting named, and nothing is moved', async () => {
    const path = join(dir, 'retained.json');
    await mkdir(path);
    await expect(make(path).load()).rejects.toThrow(
      new RegExp(`retained message file ${path}: .*EISDIR.*persist_retained`),
    );
    expect(await readdir(dir)).toEqual(['retained.json']);
  });

  it('by default writes at most once a minute (live states change every second), and flush writes at once', async () => {
    const file = new RetainedFile({ path: join(dir, 'retained.json'), logger: silentLogger(), clock });
    await file.load();
    for (let s = 0; s < 59; s++) {
      file.set({ topic: 'chargebridge/garage/state', payload: Buffer.from(`{"power_w":${s}}`), qos: 1 });
      await clock.advance(1_000);
    }
    expect(await readdir(dir)).toEqual([]);
    await clock.advance(1_000);
    await file.flush();
    expect(await readdir(dir)).toEqual(['retained.json']);
    file.set({ topic: 'chargebridge/garage/state', payload: Buffer.from('{"power_w":99}'), qos: 1 });
    await file.flush();
    const reloaded = await make().load();
    expect(reloaded.map((m) => m.payload.toString())).toEqual(['{"power_w":99}']);
  });

  it('an empty payload removes the topic; unchanged values do not schedule a write', async () => {
    const file = make();
    await file.load();
    file.set({ topic: 'a', payload: Buffer.from('x'), qos: 1 });
    await file.flush();
    file.set({ topic: 'a', payload: Buffer.from('x'), qos: 1 });
    expect(clock.pendingTimers()).toBe(0);
    file.set({ topic: 'a', payload: Buffer.alloc(0), qos: 1 });
    await file.flush();
    expect(file.size()).toBe(0);
    const saved = JSON.parse(await readFile(join(dir, 'retained.json'), 'utf8')) as { messages: unknown[] };
    expect(saved.messages).toEqual([]);
  });

  it('a failed write is kept dirty and succeeds on the next flush', async () => {
    const sub = join(dir, 'later');
    const file = make(join(sub, 'retained.json'));
    await file.load();
    file.set({ topic: 'a', payload: Buffer.from('x'), qos: 1 });
    await writeFile(sub, 'a file where the folder should be');
    await file.flush(); // cannot write: logged, not thrown
    await rm(sub);
    await mkdir(sub);
    await file.flush();
    expect(await readFile(join(sub, 'retained.json'), 'utf8')).toContain('"topic":"a"');
  });
});

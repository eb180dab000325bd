import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { SessionRecord } from '../../src/sessions/record.js';
import {
  NOTE_MAX_LENGTH,
  OPEN_SESSIONS_FILE,
  SESSIONS_DIR,
  SessionStore,
  shardFileFor,
} from '../../src/sessions/store.js';
import { makeRecord } from './records.js';

const TZ = 'Europe/Berlin';
const clock = new ManualClock(Date.UTC(2026, 1, 1));
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cb-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes records straight into their month files, as the store would have. */
function writeShards(records: readonly SessionRecord[]): void {
  const byFile = new Map<string, SessionRecord[]>();
  for (const r of records)
    byFile.set(shardFileFor(r.startedAt), [...(byFile.get(shardFileFor(r.startedAt)) ?? []), r]);
  mkdirSync(join(dir, SESSIONS_DIR), { recursive: true });
  for (const [file, list] of byFile) {
    writeFileSync(
      join(dir, SESSIONS_DIR, file),
      JSON.stringify({ format: 'chargebridge-sessions', version: 1, sessions: list }),
    );
  }
}

const openStore = (extra: { readOnly?: boolean } = {}) =>
  SessionStore.open({ dataDir: dir, timeZone: TZ, clock, ...extra });

describe('SessionStore', () => {
  it('answers charger, user and month queries like a full scan would, month in the configured zone', async () => {
    const chargers = ['garage', 'drive', 'barn'];
    const users = ['alice', 'bob', null];
    // Deterministic spread over 14 months, some around month ends, written as one file.
    const records = [];
    for (let i = 0; i < 600; i++) {
      records.push(
        makeRecord({
          chargerId: chargers[i % 3],
          user: users[(i * 7) % 3],
          startedAt: Date.UTC(2025, 0, 1) + i * 17 * 3_600_000 + (i % 7) * 60_000,
          minutes: 30 + (i % 90),
          kw: 3.7,
        }),
      );
    }
    writeShards(records);
    const store = await openStore();
    const all = store.query();
    expect(all).toHaveLength(600);
    const monthOf = (at: number) =>
      new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit' })
        .format(at)
        .slice(0, 7);
    for (const filter of [
      { chargerId: 'drive' },
      { user: 'alice' },
      { user: null },
      { month: '2025-03' },
      { chargerId: 'barn', user: 'bob', month: '2025-11' },
      { chargerId: 'nowhere' },
    ]) {
      const expected = all.filter(
        (r) =>
          (!('chargerId' in filter) || r.chargerId === filter.chargerId) &&
          (!('user' in filter) || r.user === filter.user) &&
          (!('month' in filter) || monthOf(r.startedAt) === filter.month),
      );
      expect(store.query(filter)).toEqual(expected);
    }
    // 2025-03-31T22:30Z is already April in Berlin.
    const edge = makeRecord({
      startedAt: Date.UTC(2025, 2, 31, 22, 30),
      minutes: 10,
      kw: 1,
      chargerId: 'edge',
    });
    await store.complete(edge);
    expect(store.query({ chargerId: 'edge', month: '2025-04' })).toHaveLength(1);
    expect(store.query({ chargerId: 'edge', month: '2025-03' })).toHaveLength(0);
    expect(store.months()[0]).toBe('2025-01');
  });

  it('finds sessions overlapping a time range, including one that began the day before', async () => {
    const store = await openStore();
    const a = makeRecord({ startedAt: Date.UTC(2026, 0, 10, 22), minutes: 240, kw: 7 });
    const b = makeRecord({ startedAt: Date.UTC(2026, 0, 11, 12), minutes: 60, kw: 7 });
    const c = makeRecord({ startedAt: Date.UTC(2026, 0, 12, 12), minutes: 60, kw: 7 });
    for (const r of [c, a, b]) await store.complete(r); // out of order on purpose
    const day = { fromMs: Date.UTC(2026, 0, 11), toMs: Date.UTC(2026, 0, 12) };
    expect(store.query(day).map((r) => r.id)).toEqual([a.id, b.id]);
    expect(store.lastClosed('garage')?.id).toBe(c.id);
  });

  it('keeps notes, validates them and saves them', async () => {
    const store = await openStore();
    const record = makeRecord({ startedAt: Date.UTC(2026, 0, 5, 8), minutes: 60, kw: 7 });
    await store.complete(record);
    const { note, result } = await store.addNote(record.id, '  client visit\nMunich ', 123);
    expect(note).toEqual({ at: 123, text: 'client visit Munich' });
    expect(result).toEqual({ saved: true });
    await expect(store.addNote(record.id, '   ', 1)).rejects.toThrow(/needs some text/);
    await expect(store.addNote(record.id, 'x'.repeat(NOTE_MAX_LENGTH + 1), 1)).rejects.toThrow(/at most 500/);
    await expect(store.addNote('nope', 'hi', 1)).rejects.toThrow(/no session with id "nope"/);
    const reread = await openStore({ readOnly: true });
    expect(reread.get(record.id)?.notes).toEqual([{ at: 123, text: 'client visit Munich' }]);
  });

  it('does not count a session twice when the daemon stopped between the two writes of complete()', async () => {
    const store = await openStore();
    const record = makeRecord({ startedAt: Date.UTC(2026, 0, 5, 8), minutes: 60, kw: 7 });
    await store.saveOpen({ ...record, endedAt: null, meterStopKwh: null });
    const openPath = join(dir, SESSIONS_DIR, OPEN_SESSIONS_FILE);
    const openFile = readFileSync(openPath, 'utf8');
    await store.complete(record);
    writeFileSync(openPath, openFile); // as if the second write never happened
    const reread = await openStore();
    expect(reread.query()).toHaveLength(1);
    expect(reread.openSessions()).toEqual([]);
  });

  it('gives ids that do not collide', async () => {
    const store = await openStore();
    const record = makeRecord({ startedAt: Date.UTC(2026, 0, 5, 8), minutes: 60, kw: 7 });
    expect(store.uniqueId(record.id)).toBe('garage-20260105T080000Z');
    await store.complete(record);
    expect(store.uniqueId(record.id)).toBe('garage-20260105T080000Z-2');
  });

  it('keeps sessions in memory when the folder is unwritable and writes them once it is fixed', async () => {
    const dataDir = join(dir, 'data');
    const store = await SessionStore.open({ dataDir, timeZone: TZ, clock });
    writeFileSync(dataDir, 'not a folder'); // e.g. a volume not mounted, a file in its place
    const record = makeRecord({ startedAt: Date.UTC(2026, 0, 5, 8), minutes: 60, kw: 7 });
    const result = await store.complete(record);
    expect(result.saved).toBe(false);
    expect(store.writeError).toMatch(/cannot write .*sessions\/2026-01\.json: .*\(ENOTDIR\)/);
    expect(store.query()).toHaveLength(1);
    rmSync(dataDir);
    mkdirSync(dataDir);
    expect(await store.flush()).toEqual({ saved: true });
    expect(store.writeError).toBeNull();
    const reread = await SessionStore.open({ dataDir, timeZone: TZ, clock, readOnly: true });
    expect(reread.query().map((r) => r.id)).toEqual([record.id]);
  });

  it('refuses a store written by a newer chargebridge instead of moving it aside', async () => {
    mkdirSync(join(dir, SESSIONS_DIR));
    writeFileSync(
      join(dir, SESSIONS_DIR, '2026-01.json'),
      JSON.stringify({ format: 'chargebridge-sessions', version: 2, sessions: [] }),
    );
    await expect(openStore()).rejects.toThrow(/newer chargebridge/);
  });

  it('read-only: never writes', async () => {
    const store = await openStore({ readOnly: true });
    const record = makeRecord({ startedAt: Date.UTC(2026, 0, 5, 8), minutes: 60, kw: 7 });
    expect(await store.complete(record)).toEqual({
      saved: false,
      error: 'the session store is open read-only',
    });
    expect(readdirSync(dir)).toEqual([]);
  });
});

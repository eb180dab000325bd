/**
 * A month file torn by a power cut while its backup is one write behind: the journal beside the
 * month brings back the newest completed session and note, so no completed session is lost.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { FileProblem } from '../../src/sessions/durable-adapter.js';
import { SESSIONS_DIR, SessionStore, shardFileFor } from '../../src/sessions/store.js';
import { makeRecord } from './records.js';

const TZ = 'Europe/Berlin';
const clock = new ManualClock(Date.UTC(2026, 1, 1));
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cb-journal-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const monthPath = () => join(dir, SESSIONS_DIR, shardFileFor(Date.UTC(2026, 0, 5)));

async function storeWithSessions(count: number) {
  const store = await SessionStore.open({ dataDir: dir, timeZone: TZ, clock });
  const records = Array.from({ length: count }, (_, i) =>
    makeRecord({ startedAt: Date.UTC(2026, 0, 5 + i, 8), minutes: 60 + i, kw: 7 }),
  );
  for (const r of records) expect(await store.complete(r)).toEqual({ saved: true });
  return { store, records };
}

async function reopen() {
  const problems: FileProblem[] = [];
  const store = await SessionStore.open({
    dataDir: dir,
    timeZone: TZ,
    clock,
    onProblem: (p) => problems.push(p),
  });
  return { store, problems };
}

describe('month journal', () => {
  it('a torn month file with its backup one write behind loses no completed session', async () => {
    const { records } = await storeWithSessions(4);
    const full = readFileSync(monthPath());
    // What a power cut after the rename can leave: the first part of the new file, or nothing.
    for (const length of [Math.floor(full.length / 2), 0]) {
      writeFileSync(monthPath(), full);
      truncateSync(monthPath(), length);
      const { store, problems } = await reopen();
      expect(problems.map((p) => [p.kind, p.recoveredFrom])).toEqual([['corrupt', `${monthPath()}.bak`]]);
      expect(store.query().map((r) => r.id)).toEqual(records.map((r) => r.id));
      expect(store.query().at(-1)).toEqual(records.at(-1));
    }
    // The month file is whole again: the next start finds nothing wrong.
    const { store, problems } = await reopen();
    expect(problems).toEqual([]);
    expect(store.query()).toHaveLength(4);
    const monthOnDisk = JSON.parse(readFileSync(monthPath(), 'utf8')) as { sessions: unknown[] };
    expect(monthOnDisk.sessions).toHaveLength(4);
  });

  it('brings back a note added to a closed session, and a month whose file and backup are both gone', async () => {
    const { store, records } = await storeWithSessions(2);
    const last = records[1];
    if (!last) throw new Error('no session');
    await store.addNote(last.id, 'client visit', 123);
    writeFileSync(monthPath(), '{"format":"chargebridge-sessions","vers');
    const torn = await reopen();
    expect(torn.store.get(last.id)?.notes).toEqual([{ at: 123, text: 'client visit' }]);

    for (const name of readdirSync(join(dir, SESSIONS_DIR))) {
      if (!name.endsWith('.journal')) rmSync(join(dir, SESSIONS_DIR, name));
    }
    const gone = await reopen();
    expect(gone.store.query().map((r) => r.id)).toEqual(records.map((r) => r.id));
    expect(gone.store.get(last.id)?.notes).toHaveLength(1);
  });

  it('skips a journal line torn by a power cut mid-append', async () => {
    const { records } = await storeWithSessions(2);
    writeFileSync(`${monthPath().replace(/\.json$/, '.journal')}`, '{"session":{"id":"half', { flag: 'a' });
    writeFileSync(monthPath(), '');
    const { store } = await reopen();
    expect(store.query().map((r) => r.id)).toEqual(records.map((r) => r.id));
    // The next entry after the torn line is readable.
    const next = makeRecord({ startedAt: Date.UTC(2026, 0, 20, 8), minutes: 30, kw: 11 });
    await store.complete(next);
    writeFileSync(monthPath(), '');
    const again = await reopen();
    expect(again.store.query().map((r) => r.id)).toEqual([...records, next].map((r) => r.id));
  });
});

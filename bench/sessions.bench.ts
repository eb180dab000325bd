/**
 * Session store timings with 10k sessions already stored: loading the store, closing one more
 * session (tariff split + durable write of the closed-sessions file), and exporting one month (and
 * everything) as CSV and JSON. Real files in a temporary folder, fsync included.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sessionsToCsv, sessionsToJson } from '../src/sessions/export.js';
import { type SessionRecord, sessionIdFor } from '../src/sessions/record.js';
import { SESSIONS_DIR, SessionStore, shardFileFor } from '../src/sessions/store.js';
import { costSession, type Tariff } from '../src/sessions/tariff.js';
import { type Bench, type BenchSection, fmt, summarise } from './report.js';

const TZ = 'Europe/Berlin';
const SESSIONS = 10_000;
const TARIFF: Tariff = {
  currency: 'EUR',
  pricePerKwh: 0.32,
  sessionFee: 0.25,
  windows: [
    {
      name: 'night',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      from: '22:00',
      to: '06:00',
      pricePerKwh: 0.21,
    },
  ],
};

/** A session of `minutes` at `kw`, sampled every 5 minutes, as the tracker stores it. */
function session(
  chargerId: string,
  startedAt: number,
  minutes: number,
  kw: number,
  meter: number,
): SessionRecord {
  const samples = [];
  const endedAt = startedAt + minutes * 60_000;
  for (let at = startedAt; at < endedAt; at += 300_000) {
    samples.push({ at, meterKwh: Math.round((meter + (kw * (at - startedAt)) / 3_600_000) * 1000) / 1000 });
  }
  const stop = Math.round((meter + (kw * minutes) / 60) * 1000) / 1000;
  samples.push({ at: endedAt, meterKwh: stop });
  return {
    id: sessionIdFor(chargerId, startedAt),
    chargerId,
    chargerSessionId: String(startedAt),
    startedAt,
    endedAt,
    meterStartKwh: meter,
    meterStopKwh: stop,
    energyKwh: Math.round((stop - meter) * 1000) / 1000,
    samples,
    peakPowerW: kw * 1000,
    maxCurrentA: 16,
    user: ['alice', 'bob', 'carol', null][startedAt % 4] ?? null,
    userSource: 'selected',
    idTag: null,
    idTagKnown: null,
    stopReason: 'finished',
    cost: costSession(samples, TARIFF, TZ),
    notes: [],
  };
}

/** 10k sessions over ~14 months on 3 chargers: about 700 a month, 2–4 hours each. */
function generate(): SessionRecord[] {
  const out: SessionRecord[] = [];
  const start = Date.UTC(2025, 0, 1);
  let meter = 1000;
  for (let i = 0; i < SESSIONS; i++) {
    const minutes = 120 + (i % 5) * 30;
    const record = session(
      ['garage', 'drive', 'barn'][i % 3]!,
      start + i * 61 * 60_000 + (i % 13) * 60_000,
      minutes,
      7.4,
      meter,
    );
    meter = record.meterStopKwh ?? meter;
    out.push(record);
  }
  return out;
}

async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export const sessionsBench: Bench = {
  name: 'sessions',
  async run(): Promise<BenchSection> {
    const dir = mkdtempSync(join(tmpdir(), 'cb-bench-sessions-'));
    try {
      const records = generate();
      // As the store writes them: one file per month.
      const folder = join(dir, SESSIONS_DIR);
      mkdirSync(folder);
      const byFile = new Map<string, SessionRecord[]>();
      for (const r of records) {
        const file = shardFileFor(r.startedAt);
        byFile.set(file, [...(byFile.get(file) ?? []), r]);
      }
      for (const [file, list] of byFile) {
        writeFileSync(
          join(folder, file),
          JSON.stringify({ format: 'chargebridge-sessions', version: 1, sessions: list }),
        );
      }
      const files = readdirSync(folder);
      const totalMb = files.reduce((sum, f) => sum + statSync(join(folder, f)).size, 0) / 1e6;
      const monthMb = Math.max(...files.map((f) => statSync(join(folder, f)).size)) / 1e6;
      const load = await timed(() => SessionStore.open({ dataDir: dir, timeZone: TZ }));
      const store = load.value;

      // Closing a session: cost over its samples, then the durable write of the whole closed file.
      const closeMs: number[] = [];
      for (let i = 0; i < 10; i++) {
        // Into a full month (June 2025 holds ~700 sessions), at odd seconds so the ids are new.
        const startedAt = Date.UTC(2025, 5, 10 + i, 3, 0, 17);
        const base = session('garage', startedAt, 180, 7.4, 90_000 + i * 30);
        const { ms } = await timed(async () => {
          const closed = { ...base, cost: costSession(base.samples, TARIFF, TZ) };
          const result = await store.complete(closed);
          if (!result.saved) throw new Error(result.error);
        });
        closeMs.push(ms);
      }
      const close = summarise(closeMs);

      const month = '2025-06';
      const monthQuery = await timed(() => store.query({ month }));
      const monthCsv = await timed(() => sessionsToCsv(monthQuery.value, TZ));
      const monthJson = await timed(() =>
        JSON.stringify(sessionsToJson(monthQuery.value, { timeZone: TZ, nowMs: Date.now() })),
      );
      const everything = await timed(() => sessionsToCsv(store.query(), TZ));

      return {
        title: 'Session store with 10k sessions',
        method: `${SESSIONS.toLocaleString('en-US')} closed sessions (2–4 h each, samples every 5 min, a night tariff) in ${files.length} monthly files (${fmt(totalMb, 1)} MB in all, at most ${fmt(monthMb, 1)} MB a month) in a temporary folder; real writes with fsync.`,
        table: [
          ['operation', 'time (ms)', 'notes'],
          [
            'load store (parse, validate, index)',
            fmt(load.ms, 1),
            `${store.closedCount.toLocaleString('en-US')} sessions`,
          ],
          [
            'close a session (cost + durable write), p50',
            fmt(close.p50, 1),
            `p99 ${fmt(close.p99, 1)} ms, n=${close.n}`,
          ],
          ['query one month', fmt(monthQuery.ms, 2), `${monthQuery.value.length} sessions in ${month}`],
          ['export one month as CSV', fmt(monthCsv.ms, 1), `${fmt(monthCsv.value.length / 1e3, 0)} kB`],
          ['export one month as JSON', fmt(monthJson.ms, 1), `${fmt(monthJson.value.length / 1e3, 0)} kB`],
          [
            'export all sessions as CSV',
            fmt(everything.ms, 1),
            `${fmt(everything.value.length / 1e6, 1)} MB`,
          ],
        ],
        notes: [
          "Closing a session rewrites only its month's file (about 700 sessions here; a home charger has 20–60 a month). The open session lives in a small separate file written at each kept sample.",
          'Loading is dominated by validating every stored sample with zod; it happens once at start-up.',
        ],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

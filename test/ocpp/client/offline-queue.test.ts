import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/log.js';
import type { CallOutcome } from '../../../src/ocpp/client/connection.js';
import {
  type Journal,
  journalSchema,
  OfflineQueue,
  type QueuedAction,
} from '../../../src/ocpp/client/offline-queue.js';
import { DurableJsonFile } from '../../../src/sessions/durable-adapter.js';

type Outcome = CallOutcome<QueuedAction>;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A central system whose answers the test scripts; anything unscripted is answered `{}`. */
class FakeSender {
  online = true;
  readonly sent: Array<{ action: QueuedAction; payload: Record<string, unknown> }> = [];
  readonly script: Array<(action: QueuedAction) => Outcome | undefined> = [];
  private nextTxId = 7;

  ready = () => this.online;
  send = async (action: QueuedAction, payload: Record<string, unknown>): Promise<Outcome> => {
    if (!this.online) return { ok: false, kind: 'unreachable', message: 'offline' };
    this.sent.push({ action, payload });
    const scripted = this.script.shift()?.(action);
    if (scripted) return scripted;
    if (action === 'StartTransaction') {
      return {
        ok: true,
        response: { transactionId: this.nextTxId++, idTagInfo: { status: 'Accepted' } },
      } as Outcome;
    }
    return { ok: true, response: {} } as Outcome;
  };
}

function setup(options: { dir?: string; maxEntries?: number } = {}) {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'cb-ocpp-queue-'));
  if (!options.dir) dirs.push(dir);
  const clock = new ManualClock();
  const sender = new FakeSender();
  const started: Array<[string, number | null]> = [];
  const file = new DurableJsonFile<Journal>({ path: join(dir, 'q.json'), schema: journalSchema, clock });
  const queue = new OfflineQueue({
    file,
    sender,
    clock,
    logger: silentLogger(),
    retryPolicy: () => ({ attempts: 3, intervalS: 60 }),
    onStartAnswered: (txRef, response) => started.push([txRef, response?.transactionId ?? null]),
    maxEntries: options.maxEntries,
  });
  return { dir, clock, sender, queue, started };
}

const start = { connectorId: 1, idTag: 'TAG', meterStart: 1000, timestamp: '2026-01-15T12:00:00.000Z' };
const meter = (wh: number) => ({
  connectorId: 1,
  meterValue: [{ timestamp: 'x', sampledValue: [{ value: String(wh) }] }],
});
const stop = { meterStop: 2000, timestamp: '2026-01-15T13:00:00.000Z', reason: 'Local' };

describe('OfflineQueue', () => {
  it('has every message on disk before it is handed to the socket (a crash can repeat, never lose one)', async () => {
    const { dir, clock, sender, queue } = setup();
    await queue.load();
    const onDiskAtSend: string[][] = [];
    sender.script.push(
      ...Array.from({ length: 3 }, () => () => {
        const journal = JSON.parse(readFileSync(join(dir, 'q.json'), 'utf8')) as Journal;
        onDiskAtSend.push(journal.entries.map((e) => e.action));
        return undefined;
      }),
    );
    queue.enqueue('StartTransaction', start, 'a', { txRef: 'a' });
    // On disk the moment enqueue returns, with the open transaction, before any timer or I/O turn.
    expect(JSON.parse(readFileSync(join(dir, 'q.json'), 'utf8'))).toMatchObject({
      entries: [{ action: 'StartTransaction', txRef: 'a' }],
      openTransaction: { txRef: 'a' },
    });
    queue.enqueue('MeterValues', meter(1500), 'a');
    queue.enqueue('StopTransaction', stop, 'a', null);
    await clock.advance(0);
    // The start went out at once (online); the others queued behind it.
    expect(onDiskAtSend).toEqual([
      ['StartTransaction'],
      ['MeterValues', 'StopTransaction'],
      ['StopTransaction'],
    ]);
    expect(JSON.parse(readFileSync(join(dir, 'q.json'), 'utf8')).entries).toEqual([]);
  });

  it('holds messages while offline, then sends them in order with the real transaction id', async () => {
    const { clock, sender, queue, started } = setup();
    await queue.load();
    sender.online = false;
    queue.enqueue('StartTransaction', start, 'a', { txRef: 'a' });
    queue.enqueue('MeterValues', meter(1500), 'a');
    queue.enqueue('StopTransaction', stop, 'a', null);
    await clock.advance(10 * 60_000);
    expect(queue.size).toBe(3);
    expect(sender.sent).toEqual([]);

    sender.online = true;
    queue.kick();
    await clock.advance(0);
    expect(sender.sent.map((s) => [s.action, s.payload.transactionId])).toEqual([
      ['StartTransaction', undefined],
      ['MeterValues', 7],
      ['StopTransaction', 7],
    ]);
    expect(sender.sent[2]?.payload).toEqual({ ...stop, transactionId: 7 });
    expect(started).toEqual([['a', 7]]);
    expect(queue.size).toBe(0);
    // The id is forgotten once its StopTransaction is through.
    expect(queue.transactionIdOf('a')).toBeNull();
    expect(queue.openTransaction).toBeNull();
  });

  it('keeps an unanswered message at the head and sends it once after the reconnect', async () => {
    const { clock, sender, queue } = setup();
    await queue.load();
    sender.script.push(() => ({ ok: false, kind: 'unreachable', message: 'timed out' }));
    queue.enqueue('StartTransaction', start, 'a');
    queue.enqueue('MeterValues', meter(1100), 'a');
    await clock.advance(0);
    expect(sender.sent.map((s) => s.action)).toEqual(['StartTransaction']);
    expect(queue.size).toBe(2);
    queue.kick();
    await clock.advance(0);
    expect(sender.sent.map((s) => s.action)).toEqual(['StartTransaction', 'StartTransaction', 'MeterValues']);
    expect(queue.size).toBe(0);
  });

  it('retries a CALLERROR after interval × attempt and drops it after TransactionMessageAttempts', async () => {
    const { clock, sender, queue } = setup();
    await queue.load();
    const internalError = (): Outcome => ({
      ok: false,
      kind: 'error',
      code: 'InternalError',
      message: 'db down',
    });
    sender.script.push(
      () => ({ ok: true, response: { transactionId: 3, idTagInfo: { status: 'Accepted' } } }) as Outcome,
    );
    sender.script.push(internalError, internalError, internalError);
    queue.enqueue('StartTransaction', start, 'a');
    queue.enqueue('MeterValues', meter(1200), 'a');
    queue.enqueue('StopTransaction', stop, 'a');
    await clock.advance(0);
    expect(sender.sent.map((s) => s.action)).toEqual(['StartTransaction', 'MeterValues']);
    await clock.advance(59_000);
    expect(sender.sent).toHaveLength(2);
    await clock.advance(1_000);
    expect(sender.sent).toHaveLength(3);
    await clock.advance(119_000);
    expect(sender.sent).toHaveLength(3);
    await clock.advance(1_000);
    // Third failure: the meter values are dropped, the stop goes right after.
    expect(sender.sent.map((s) => s.action)).toEqual([
      'StartTransaction',
      'MeterValues',
      'MeterValues',
      'MeterValues',
      'StopTransaction',
    ]);
    expect(queue.size).toBe(0);
  });

  it('drops the rest of a transaction whose StartTransaction was given up', async () => {
    const { clock, sender, queue, started } = setup();
    await queue.load();
    const refuse = (): Outcome => ({ ok: false, kind: 'error', code: 'InternalError', message: 'no' });
    sender.script.push(refuse, refuse, refuse);
    queue.enqueue('StartTransaction', start, 'a');
    queue.enqueue('MeterValues', meter(1200), 'a');
    queue.enqueue('StopTransaction', stop, 'a');
    queue.enqueue('StartTransaction', { ...start, meterStart: 3000 }, 'b');
    await clock.advance(5 * 60_000);
    expect(sender.sent.map((s) => [s.action, s.payload.meterStart])).toEqual([
      ['StartTransaction', 1000],
      ['StartTransaction', 1000],
      ['StartTransaction', 1000],
      ['StartTransaction', 3000],
    ]);
    expect(started).toEqual([
      ['a', null],
      ['b', 7],
    ]);
  });

  it('treats a StartTransaction.conf without transactionId as a failure', async () => {
    const { clock, sender, queue } = setup();
    await queue.load();
    sender.script.push(
      () => ({ ok: true, response: { idTagInfo: { status: 'Accepted' } } }) as unknown as Outcome,
    );
    queue.enqueue('StartTransaction', start, 'a');
    await clock.advance(0);
    expect(queue.size).toBe(1);
    await clock.advance(60_000);
    expect(queue.size).toBe(0);
    expect(queue.transactionIdOf('a')).toBe(7);
  });

  it('drops a message we built wrong instead of blocking the queue', async () => {
    const { clock, sender, queue } = setup();
    await queue.load();
    sender.script.push(() => ({
      ok: false,
      kind: 'bug',
      message: 'refusing to send non-conforming MeterValues',
    }));
    queue.enqueue('StartTransaction', start, 'a');
    await clock.advance(0);
    expect(queue.size).toBe(0);
  });

  it('survives a restart: entries, transaction ids and the open transaction come back from disk', async () => {
    const first = setup();
    await first.queue.load();
    first.queue.enqueue('StartTransaction', start, 'a', { txRef: 'a', idTag: 'TAG' });
    await first.clock.advance(0);
    first.sender.online = false;
    first.queue.enqueue('MeterValues', meter(1300), 'a');
    first.queue.enqueue('MeterValues', meter(1400), 'a');
    await first.queue.close();

    const second = setup({ dir: first.dir });
    await second.queue.load();
    expect(second.queue.size).toBe(2);
    expect(second.queue.transactionIdOf('a')).toBe(7);
    expect(second.queue.openTransaction).toEqual({ txRef: 'a', idTag: 'TAG' });
    second.queue.kick();
    await second.clock.advance(0);
    expect(second.sender.sent.map((s) => [s.action, s.payload.transactionId])).toEqual([
      ['MeterValues', 7],
      ['MeterValues', 7],
    ]);
    expect(
      second.sender.sent.map(
        (s) => (s.payload.meterValue as Array<{ sampledValue: unknown[] }>)[0]?.sampledValue,
      ),
    ).toEqual([[{ value: '1300' }], [{ value: '1400' }]]);
  });

  it('when full, drops the oldest meter values but never a start or stop', async () => {
    const { clock, sender, queue } = setup({ maxEntries: 4 });
    await queue.load();
    sender.online = false;
    queue.enqueue('StartTransaction', start, 'a');
    for (let wh = 1100; wh <= 1500; wh += 100) queue.enqueue('MeterValues', meter(wh), 'a');
    queue.enqueue('StopTransaction', stop, 'a');
    expect(queue.size).toBe(4);
    sender.online = true;
    queue.kick();
    await clock.advance(0);
    expect(
      sender.sent.map((s) =>
        s.action === 'MeterValues'
          ? (s.payload.meterValue as Array<{ sampledValue: Array<{ value: string }> }>)[0]?.sampledValue[0]
              ?.value
          : s.action,
      ),
    ).toEqual(['StartTransaction', '1400', '1500', 'StopTransaction']);
  });
});

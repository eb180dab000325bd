import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/log.js';
import { type StartInput, TransactionLedger } from '../../../src/ocpp/server/transactions.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function dir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cb-ledger-'));
  dirs.push(d);
  return d;
}

const clock = new ManualClock(Date.UTC(2026, 2, 10, 18));
const open = (path: string | null) => TransactionLedger.open({ path, clock, logger: silentLogger() });
const start = (over: Partial<StartInput> = {}): StartInput => ({
  stationId: 'garage',
  connectorId: 1,
  idTag: 'ABC',
  meterStartWh: 100,
  startTimestamp: '2026-03-10T18:00:00Z',
  startedAt: Date.UTC(2026, 2, 10, 18),
  ...over,
});

describe('TransactionLedger', () => {
  it('issues strictly increasing ids that survive a restart', async () => {
    const path = join(await dir(), 'tx.json');
    const first = await open(path);
    const a = await first.start(start());
    const b = await first.start(start({ connectorId: 2 }));
    expect([a.record.id, b.record.id]).toEqual([1, 2]);
    await first.stop(1, { meterStopWh: 900, stoppedAt: clock.now(), reason: 'Local' });
    const second = await open(path);
    expect(second.get(1)).toMatchObject({ meterStopWh: 900, stopReason: 'Local' });
    expect(second.openOn('garage', 2)?.id).toBe(2);
    const c = await second.start(start({ meterStartWh: 5000, startTimestamp: '2026-03-10T19:00:00Z' }));
    expect(c.record.id).toBe(3);
  });

  it('answers a replay with the id it already has, whether open or closed', async () => {
    const ledger = await open(null);
    const a = await ledger.start(start());
    const again = await ledger.start(start({ idTag: 'abc' }));
    expect(again).toMatchObject({ replay: true, record: { id: a.record.id } });
    await ledger.stop(a.record.id, { meterStopWh: 200, stoppedAt: clock.now(), reason: null });
    expect((await ledger.start(start())).record.id).toBe(a.record.id);
    // Stopping twice changes nothing; an unknown id is null.
    expect(await ledger.stop(a.record.id, { meterStopWh: 999, stoppedAt: 0, reason: 'Other' })).toMatchObject(
      { meterStopWh: 200 },
    );
    expect(await ledger.stop(77, { meterStopWh: 1, stoppedAt: 0, reason: null })).toBeNull();
  });

  it('closes a transaction left open on a connector when a new one begins there', async () => {
    const ledger = await open(null);
    const a = await ledger.start(start());
    const b = await ledger.start(
      start({
        meterStartWh: 700,
        startTimestamp: '2026-03-10T20:00:00Z',
        startedAt: Date.UTC(2026, 2, 10, 20),
      }),
    );
    expect(b.superseded).toMatchObject({ id: a.record.id, meterStopWh: 700, stopReason: 'Superseded' });
    expect(ledger.openOn('garage', 1)?.id).toBe(b.record.id);
  });

  it('moves an unreadable file aside and issues ids above anything issued before', async () => {
    const d = await dir();
    const path = join(d, 'tx.json');
    await writeFile(path, '{"format":"chargebridge-ocpp-transactions","version":1,"nextId":');
    const ledger = await open(path);
    const { record } = await ledger.start(start());
    expect(record.id).toBeGreaterThan(190_000_000);
    expect((await readdir(d)).some((f) => f.startsWith('tx.json.corrupt-'))).toBe(true);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ nextId: record.id + 1 });
  });

  it('does not issue an id it could not save', async () => {
    const d = await dir();
    const ledger = await open(join(d, 'sub', 'tx.json'));
    // The folder turns into a file: every write fails from now on.
    await writeFile(join(d, 'sub'), 'a file where the folder should be');
    await expect(ledger.start(start())).rejects.toThrow();
    expect(ledger.openOn('garage', 1)).toBeNull();
  });
});

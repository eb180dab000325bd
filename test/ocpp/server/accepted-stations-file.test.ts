/**
 * The list of stations accepted by `unknown_stations: accept` on disk: kept across reopen, and a
 * damaged file is moved aside (never deleted) so the daemon still starts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { AcceptedStations } from '../../../src/ocpp/server/accepted-stations.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cb-accepted-'));
  dirs.push(dir);
  return dir;
}

describe('AcceptedStations', () => {
  it('remembers stations across a reopen and forgets one on request', async () => {
    const path = join(folder(), 'ocpp-accepted-stations.json');
    const open = () => AcceptedStations.open({ path, nowMs: 0, logger: silentLogger() });
    const first = await open();
    expect(first.all()).toEqual([]);
    await first.add({ identity: 'Wallbox 9', id: 'ocpp_wallbox_9', firstSeenAt: 1 });
    await first.add({ identity: 'SHED', id: 'ocpp_shed', firstSeenAt: 2 });
    const again = await open();
    expect(again.all().map((s) => s.id)).toEqual(['ocpp_wallbox_9', 'ocpp_shed']);
    expect(await again.remove('SHED')).toBe(true);
    expect(await again.remove('SHED')).toBe(false);
    expect((await open()).all().map((s) => s.identity)).toEqual(['Wallbox 9']);
  });

  it('moves a damaged file aside, starts with an empty list and writes a good one next time', async () => {
    const dir = folder();
    const path = join(dir, 'ocpp-accepted-stations.json');
    for (const damaged of [
      '{"format":"chargebridge-ocpp-accepted-stations","stations":[{"id":"A B"}]}',
      '{not json',
    ]) {
      writeFileSync(path, damaged);
      const store = await AcceptedStations.open({
        path,
        nowMs: Date.UTC(2026, 10, 22),
        logger: silentLogger(),
      });
      expect(store.all()).toEqual([]);
      const aside = readdirSync(dir).filter((n) => n.includes('.corrupt-'));
      expect(aside).toHaveLength(1);
      expect(readFileSync(join(dir, aside[0] ?? ''), 'utf8')).toBe(damaged);
      rmSync(join(dir, aside[0] ?? ''));
    }
    const store = await AcceptedStations.open({ path, nowMs: 0, logger: silentLogger() });
    await store.add({ identity: 'CP-1', id: 'ocpp_cp_1', firstSeenAt: 5 });
    expect(JSON.parse(readFileSync(path, 'utf8')).stations).toEqual([
      { identity: 'CP-1', id: 'ocpp_cp_1', firstSeenAt: 5 },
    ]);
  });
});

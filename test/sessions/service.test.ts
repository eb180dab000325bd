/**
 * The sessions service as the daemon builds it: a user picked in Home Assistant reaches each kind of
 * charger in the form it understands (a BS20 its `bs20_user_id`, an OCPP station the user's name).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runSessions } from '../../src/cli/sessions.js';
import { parseConfigText } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/log.js';
import { openSessionService } from '../../src/sessions/service.js';
import { SessionStore } from '../../src/sessions/store.js';
import { berlin, TZ } from './bs20-rig.js';
import { FakeOcppCharger } from './fake-charger.js';
import { makeRecord } from './records.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('openSessionService', () => {
  it('gives the BS20 user id only to a BS20', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cb-service-'));
    dirs.push(dir);
    const { config } = parseConfigText(
      `data_dir: ${dir}\nusers:\n  - name: alice\n    bs20_user_id: "8600797985789243"\n    id_tags: ["04A1B2C3"]\n`,
      { path: path.join(dir, 'configuration.yaml'), env: {} },
    );
    const clock = new ManualClock();
    const station = new FakeOcppCharger('carport', clock);
    const bs20 = Object.assign(new FakeOcppCharger('garage', clock), { kind: 'bs20' as const });
    const service = await openSessionService({
      config,
      chargers: [bs20, station],
      bridgeApi: { register: () => undefined, publishEvent: async () => undefined },
      clock,
      logger: silentLogger(),
    });
    expect(service.sessionHooks('garage').chargerUserId('alice')).toBe('8600797985789243');
    expect(service.sessionHooks('carport').chargerUserId('alice')).toBeNull();
    await service.stop();
  });

  it('keeps sessions where `chargebridge sessions` reads them, and moves those of the old nested folder up', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cb-service-'));
    dirs.push(dir);
    const configFile = path.join(dir, 'configuration.yaml');
    const yaml = `data_dir: ${dir}\ntimezone: ${TZ}\n`;
    writeFileSync(configFile, yaml);
    const { config } = parseConfigText(yaml, { path: configFile, env: {} });
    const cli = async () => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runSessions(
        ['list'],
        { write: (t) => out.push(t) },
        { CHARGEBRIDGE_CONFIG: configFile },
        { write: (t) => err.push(t) },
      );
      expect(err.join('')).toBe('');
      expect(code).toBe(0);
      return out.join('');
    };
    // What an earlier daemon left: its files one folder too deep.
    const old = await SessionStore.open({ dataDir: path.join(dir, 'sessions'), timeZone: TZ });
    await old.complete(makeRecord({ startedAt: berlin('2026-01-15T21:30:00'), minutes: 60, kw: 7.2 }));
    await old.flush();
    expect(await cli()).toMatch(/2026-01-15/); // the CLI finds them before the daemon moved them

    const clock = new ManualClock(berlin('2026-02-01T08:00:00'));
    const service = await openSessionService({
      config,
      chargers: [],
      bridgeApi: { register: () => undefined, publishEvent: async () => undefined },
      clock,
      logger: silentLogger(),
    });
    expect(existsSync(path.join(dir, 'sessions', 'sessions'))).toBe(false);
    expect(readdirSync(path.join(dir, 'sessions'))).toContain('2026-01.json');
    await service.store.complete(
      makeRecord({ startedAt: berlin('2026-02-03T08:00:00'), minutes: 30, kw: 7.2 }),
    );
    await service.stop();
    const listed = await cli();
    expect(listed).toMatch(/2026-01-15/);
    expect(listed).toMatch(/2026-02-03/);
  });
});

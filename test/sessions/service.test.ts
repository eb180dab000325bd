/**
 * The sessions service as the daemon builds it: a user picked in Home Assistant reaches each kind of
 * charger in the form it understands (a BS20 its `bs20_user_id`, an OCPP station the user's name).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/log.js';
import { openSessionService } from '../../src/sessions/service.js';
import { FakeOcppCharger } from './fake-charger.js';

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
});

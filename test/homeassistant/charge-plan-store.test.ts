import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { EMPTY_PLAN_INPUTS } from '../../src/homeassistant/charge-plan.js';
import { CHARGE_PLAN_FILE_NAME, ChargePlanStore } from '../../src/homeassistant/charge-plan-store.js';
import { createLogger } from '../../src/log.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chargebridge-plan-'));
  dirs.push(dir);
  return dir;
}

function store(dataDir: string) {
  let logText = '';
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    logText += chunk.toString('utf8');
  });
  const s = new ChargePlanStore({
    dataDir,
    clock: new ManualClock(),
    logger: createLogger({ level: 'info', destination: stream }),
  });
  return { s, log: () => logText };
}

const deadlineAt = Date.UTC(2026, 0, 15, 20, 0);

describe('ChargePlanStore', () => {
  it('keeps each charger’s inputs across a restart', async () => {
    const dir = await tempDir();
    const { s: first } = store(dir);
    await first.load();
    expect(first.get('garage')).toEqual(EMPTY_PLAN_INPUTS);
    first.set('garage', { batteryKwh: 60, socNowPercent: 20, socTargetPercent: 80, deadlineAt });
    first.set('carport', { ...EMPTY_PLAN_INPUTS, batteryKwh: 77.4 });
    await first.flush();

    const { s: second } = store(dir);
    await second.load();
    expect(second.get('garage')).toEqual({
      batteryKwh: 60,
      socNowPercent: 20,
      socTargetPercent: 80,
      deadlineAt,
    });
    expect(second.get('carport')).toEqual({ ...EMPTY_PLAN_INPUTS, batteryKwh: 77.4 });
    const file = JSON.parse(await readFile(join(dir, CHARGE_PLAN_FILE_NAME), 'utf8'));
    expect(file.chargers.garage.deadline).toBe('2026-01-15T20:00:00.000Z');
  });

  it('moves a damaged file aside and falls back to the last good copy', async () => {
    const dir = await tempDir();
    const { s: first } = store(dir);
    await first.load();
    first.set('garage', { ...EMPTY_PLAN_INPUTS, batteryKwh: 50 });
    await first.flush();
    first.set('garage', { ...EMPTY_PLAN_INPUTS, batteryKwh: 60 });
    await first.flush();
    await writeFile(join(dir, CHARGE_PLAN_FILE_NAME), '{"format":"chargebridge-charge-pl');

    const { s: second, log } = store(dir);
    await second.load();
    // The backup is the file as it was before the last write.
    expect(second.get('garage').batteryKwh).toBe(50);
    expect((await readdir(dir)).some((f) => f.startsWith(`${CHARGE_PLAN_FILE_NAME}.corrupt-`))).toBe(true);
    expect(log()).toMatch(/loaded the last good copy/);
  });

  it('refuses values outside the limits in the file rather than planning with them', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, CHARGE_PLAN_FILE_NAME),
      JSON.stringify({
        format: 'chargebridge-charge-plans',
        version: 1,
        chargers: {
          garage: { battery_kwh: 9000, soc_now_percent: 20, soc_target_percent: 80, deadline: null },
        },
      }),
    );
    const { s } = store(dir);
    await s.load();
    expect(s.get('garage')).toEqual(EMPTY_PLAN_INPUTS);
  });

  it('keeps the inputs in memory and warns when the file cannot be written', async () => {
    const dir = await tempDir();
    // A file where the data directory should be: every write fails, whoever runs the test.
    const notADir = join(dir, 'data');
    await writeFile(notADir, 'not a directory');
    const { s, log } = store(notADir);
    await s.load();
    s.set('garage', { ...EMPTY_PLAN_INPUTS, batteryKwh: 60 });
    await s.flush();
    expect(s.get('garage').batteryKwh).toBe(60);
    expect(log()).toMatch(/could not save the charge-plan inputs/);
  });
});

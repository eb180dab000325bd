/**
 * The charge point inside the real daemon, from YAML: a simulated BS20 with `ocpp_upstream` shows up
 * at a central system (@voltbras/ts-ocpp), and a transaction open when the daemon stops is finished
 * by the next daemon from what it kept on disk, under the same transaction id.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/index.js';
import { ManualClock } from '../../../src/core/clock.js';
import { type RunningDaemon, startDaemon } from '../../../src/daemon.js';
import { silentLogger } from '../../../src/log.js';
import { freePort, VoltbrasCentralSystem } from './peers.js';
import { waitFor } from './rig.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function daemonWith(dir: string, csUrl: string, clock: ManualClock): Promise<RunningDaemon> {
  const yaml = [
    `data_dir: ${dir}`,
    'timezone: Europe/Berlin',
    `mqtt:\n  embedded_broker:\n    host: 127.0.0.1\n    port: ${await freePort()}`,
    'homeassistant:\n  enabled: false',
    'chargers:',
    '  - id: garage',
    '    type: bs20',
    '    transport: simulated',
    '    max_current: 16',
    '    ocpp_upstream:',
    `      url: ${csUrl}`,
    '      station_id: BS20-7',
    '      id_tag: HOUSE',
    '      ping_interval_s: 0',
    '      call_timeout_s: 300',
  ].join('\n');
  const loaded = parseConfigText(yaml, { path: path.join(dir, 'configuration.yaml'), env: {} });
  const daemon = await startDaemon({ loaded, logger: silentLogger(), clock });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await daemon.stop();
  };
  cleanups.push(stop);
  return { ...daemon, stop };
}

describe('ocpp_upstream in the daemon', () => {
  it('boots with the BS20 identity, reports a session, and finishes it after a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cb-daemon-ocpp-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 8, 0, 0));
    const cs = await VoltbrasCentralSystem.create(clock);
    cleanups.push(() => cs.stop());

    const first = await daemonWith(dir, cs.url, clock);
    await waitFor(() => cs.of('Heartbeat').length === 1, 'boot', { clock, stepMs: 1_000 });
    expect(cs.of('BootNotification')[0]).toMatchObject({
      chargePointVendor: 'Besen',
      chargePointModel: 'BS20',
      chargePointSerialNumber: '1122334455667788',
    });
    expect(cs.of('BootNotification')[0]?.firmwareVersion).toBeTypeOf('string');

    const sim = first.simulators.get('garage');
    const charger = first.chargers[0];
    if (!sim || !charger) throw new Error('no simulated charger');
    sim.plugIn({ demandA: 16 });
    await clock.advance(10_000);
    await charger.startCharging({ currentA: 16 });
    await clock.advance(1_000);
    await waitFor(() => cs.of('StartTransaction').length === 1, 'StartTransaction');
    expect(cs.of('StartTransaction')[0]).toMatchObject({ connectorId: 1, idTag: 'HOUSE' });
    await clock.advance(3 * 60_000);
    await waitFor(() => cs.of('MeterValues').length === 3, 'meter values');
    await first.stop();
    await waitFor(() => !cs.connected(), 'the first daemon gone');

    // The next daemon starts with a fresh simulated charger: no car, nothing charging.
    const second = await daemonWith(dir, cs.url, clock);
    await waitFor(() => cs.of('StopTransaction').length === 1, 'the open transaction finished', {
      clock,
      stepMs: 1_000,
    });
    expect(cs.of('StartTransaction')).toHaveLength(1);
    expect(cs.of('StopTransaction')[0]).toMatchObject({ transactionId: 1, reason: 'EVDisconnected' });
    expect(Number(cs.of('StopTransaction')[0]?.meterStop)).toBeGreaterThanOrEqual(
      Number(cs.of('StartTransaction')[0]?.meterStart),
    );
    await second.stop();
  });
});

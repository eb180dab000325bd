/**
 * Store problems found at start reach Home Assistant even though they happen before it is listening:
 * the bridge device's problem sensor reads them from the retained `bridge/info`, so a client that
 * connects later still sees them, also after a restart, until they are cleared (a corrupt file) or
 * resolved (a failed write, once the store writes again).
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon } from '../../src/daemon.js';
import { silentLogger } from '../../src/log.js';
import { MqttProbe, type ReceivedMessage } from '../helpers/mqtt-probe.js';
import { type DaemonRig, parseJson, runFor, startDaemonRig, waitUntil } from './daemon-rig.js';
import { sessionFolder } from './store-files.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

const MINUTE = 60_000;
const info = (m: ReceivedMessage) => parseJson(m.text);
const problemsIn = (m: ReceivedMessage | undefined) =>
  ((m ? info(m) : {}).store_problems ?? []) as Array<Record<string, unknown>>;

async function lateClient(rig: DaemonRig): Promise<MqttProbe> {
  const probe = await MqttProbe.connect(rig.daemon.mqttUrl, rig.login);
  cleanups.push(() => probe.close());
  await probe.subscribe('chargebridge/bridge/info');
  await probe.subscribe('homeassistant/device/chargebridge_bridge/config');
  return probe;
}

describe('store problems on the bridge device', () => {
  it('a corrupt month file at start shows on the retained problem sensor until cleared', async () => {
    const rig = await startDaemonRig({
      files: { 'sessions/2026-05.json': '{"format":"chargebridge-sessions","version":1,"sess' },
    });
    cleanups.push(() => rig.stop());
    const month = path.join(sessionFolder(rig.dir), '2026-05.json');

    const ha = await lateClient(rig);
    const discovery = parseJson((await ha.waitFor('homeassistant/device/chargebridge_bridge/config')).text);
    const components = discovery.components as Record<string, Record<string, unknown>>;
    expect(components.store_problem).toMatchObject({
      p: 'binary_sensor',
      device_class: 'problem',
      state_topic: 'chargebridge/bridge/info',
    });
    expect(String(components.store_problem?.json_attributes_template)).toContain('store_problems');
    expect(components.clear_store_problems).toMatchObject({
      p: 'button',
      command_topic: 'chargebridge/bridge/request/store_problems/clear',
    });

    const retained = await ha.waitFor('chargebridge/bridge/info', (m) => problemsIn(m).length > 0);
    expect(retained.retain).toBe(true);
    const [problem] = problemsIn(retained);
    expect(problem).toMatchObject({
      file: month,
      kind: 'corrupt',
      moved_to: expect.stringMatching(/2026-05\.json\.corrupt-/),
      recovered_from: null,
      at: new Date(Date.UTC(2026, 5, 1, 16, 0, 0)).toISOString(),
    });
    expect(String(problem?.reason)).toMatch(/not valid JSON/);

    // A restart finds nothing wrong (the bad file is aside) and still shows it: not resolved yet.
    await rig.daemon.stop();
    const again = await startDaemon({ loaded: rig.loaded, logger: silentLogger(), clock: rig.clock });
    cleanups.push(() => again.stop());
    const afterRestart = await MqttProbe.connect(again.mqttUrl, rig.login);
    cleanups.push(() => afterRestart.close());
    await afterRestart.subscribe('chargebridge/bridge/info');
    const shown = await afterRestart.waitFor('chargebridge/bridge/info', (m) => problemsIn(m).length > 0);
    expect(problemsIn(shown)).toEqual([problem]);

    // Cleared by the user (the button): the retained info says so to every later client.
    await afterRestart.publish('chargebridge/bridge/request/store_problems/clear', '{}');
    await afterRestart.waitFor('chargebridge/bridge/info', (m) => !m.retain && problemsIn(m).length === 0);
    const later = await MqttProbe.connect(again.mqttUrl, rig.login);
    cleanups.push(() => later.close());
    await later.subscribe('chargebridge/bridge/info');
    const now = await later.waitFor('chargebridge/bridge/info');
    expect(now.retain).toBe(true);
    expect(problemsIn(now)).toEqual([]);
  });

  it('a failed write shows while the disk refuses it and goes away once the store writes again', async () => {
    const rig = await startDaemonRig();
    cleanups.push(() => rig.stop());
    const folder = sessionFolder(rig.dir);
    const ha = rig.ha;
    if (!ha) throw new Error('no probe');
    await waitUntil(() => rig.daemon.chargers[0]?.getState().link === 'online', rig.clock, {
      what: 'online',
    });
    // Root ignores permission bits: a file where the session folder should be refuses every write.
    rmSync(folder, { recursive: true, force: true });
    writeFileSync(folder, 'not a folder');
    rig.sim().plugIn({ demandA: 16 });
    await ha.publish('chargebridge/garage/set/charging', 'ON');
    await waitUntil(
      () =>
        ha.on('chargebridge/bridge/info').some((m) => problemsIn(m).some((p) => p.kind === 'write_failed')),
      rig.clock,
      { what: 'write_failed on bridge/info' },
    );
    const failing = problemsIn(ha.on('chargebridge/bridge/info').at(-1));
    expect(failing).toEqual([
      expect.objectContaining({ kind: 'write_failed', file: expect.stringContaining(folder) }),
    ]);

    renameSync(folder, `${folder}.was-a-file`);
    await runFor(rig.clock, 2 * MINUTE, 5_000);
    await waitUntil(() => problemsIn(ha.on('chargebridge/bridge/info').at(-1)).length === 0, rig.clock, {
      what: 'the problem resolved on bridge/info',
    });
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bridgeWill } from '../../src/homeassistant/bridge-publisher.js';
import { brokers, type TestBroker } from '../helpers/brokers.js';
import type { ReceivedMessage } from '../helpers/mqtt-probe.js';
import { describeEach } from '../helpers/system-programs.js';
import { HaRig } from './ha-rig.js';

const json = (m: ReceivedMessage) => JSON.parse(m.text) as Record<string, unknown>;

describe('bridgeWill', () => {
  it('is the retained QoS 1 offline state on <base>/bridge/state', () => {
    expect(bridgeWill('home/cb')).toEqual({
      topic: 'home/cb/bridge/state',
      payload: '{"state":"offline"}',
      retain: true,
      qos: 1,
    });
  });
});

describeEach(brokers)('Home Assistant bridge device against $name', (kind) => {
  let broker: TestBroker;
  const rigs: HaRig[] = [];

  beforeAll(async () => {
    broker = await kind.start();
  });
  afterAll(() => broker.stop());
  afterEach(async () => {
    for (const rig of rigs.splice(0)) await rig.close();
  });

  async function rig(options: Parameters<typeof HaRig.create>[1] = {}): Promise<HaRig> {
    const r = await HaRig.create(broker, options);
    rigs.push(r);
    return r;
  }

  async function request(
    r: HaRig,
    name: string,
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const transaction = `${name}-${Math.random()}`;
    const mark = r.probe.received.length;
    await r.probe.publish(r.topics.bridgeRequestTopic(name), JSON.stringify({ ...body, transaction }));
    return json(
      await r.waitAfter(mark, r.topics.bridgeResponseTopic(name), (m) => m.text.includes(transaction)),
    );
  }

  it('log_level changes the level and bridge/info shows it; unknown levels are refused', async () => {
    const r = await rig();
    await r.ext.start();
    await r.probe.waitFor(`${r.base}/bridge/info`, (m) => json(m).log_level === 'info');
    const mark = r.probe.received.length;
    expect(await request(r, 'log_level', { value: 'debug' })).toMatchObject({
      status: 'ok',
      data: { value: 'debug' },
    });
    expect(r.logger.level).toBe('debug');
    await r.waitAfter(mark, `${r.base}/bridge/info`, (m) => json(m).log_level === 'debug');
    const refused = await request(r, 'log_level', { value: 'loud' });
    expect(refused).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/^invalid request 'log_level'/),
    });
    expect(r.logger.level).toBe('debug');
  });

  it('restart calls the daemon back after answering; a broken config file or no callback answers with an error', async () => {
    let restarts = 0;
    const withCallback = await rig({ extension: { onRestartRequest: () => void restarts++ } });
    await withCallback.ext.start();
    expect(await request(withCallback, 'restart', {})).toMatchObject({ status: 'ok' });
    await withCallback.barrier();
    expect(restarts).toBe(1);

    let problem: string | null = 'chargers[0].pin: must be 6 digits';
    const broken = await rig({
      extension: { onRestartRequest: () => void restarts++, restartProblem: () => problem },
    });
    await broken.ext.start();
    expect(await request(broken, 'restart', {})).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/configuration file has errors.*chargers\[0\]\.pin: must be 6 digits/),
    });
    await broken.barrier();
    expect(restarts).toBe(1);
    problem = null;
    expect(await request(broken, 'restart', {})).toMatchObject({ status: 'ok' });
    await broken.barrier();
    expect(restarts).toBe(2);

    const without = await rig();
    await without.ext.start();
    expect(await request(without, 'restart', {})).toMatchObject({
      status: 'error',
      error: 'restart is not available in this setup',
    });
  });

  it('started before the broker connection is up, it publishes everything once connected', async () => {
    const r = await rig({ connectLater: true });
    await r.ext.start();
    await r.connection.connect();
    await r.probe.waitFor(`${r.base}/bridge/state`, (m) => m.text === '{"state":"online"}');
    await r.probe.waitFor(r.deviceTopic);
    await r.probe.waitFor(r.stateTopic);
    // Commands are subscribed too.
    const mark = r.probe.received.length;
    await r.probe.publish(`${r.base}/garage/set/max_current`, '10');
    const rejected = json(await r.waitAfter(mark, r.bridgeEventTopic));
    expect(rejected).toMatchObject({ type: 'command_rejected', data: { error: /not connected/ } });
  });
});

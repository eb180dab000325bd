import { describe, expect, it } from 'vitest';
import { type HeldPublish, OfflinePublishes } from '../../src/mqtt/offline-publishes.js';
import { PublishQueueFullError } from '../../src/mqtt/pending-publishes.js';

const state = (topic: string, payload: string): HeldPublish => ({ topic, payload, retain: true, qos: 1 });
const event = (payload: string): HeldPublish => ({
  topic: 'cb/bridge/event',
  payload,
  retain: false,
  qos: 0,
});

describe('OfflinePublishes', () => {
  it('keeps one retained publish per topic, resolves the replaced ones, sends in the order of the latest update', async () => {
    const queue = new OfflinePublishes(10);
    const first = queue.hold(state('cb/a', '1'));
    queue.hold(state('cb/b', '1'));
    const e = queue.hold(event('e1'));
    queue.hold(state('cb/a', '2'));
    await expect(first).resolves.toBeUndefined();
    expect([queue.size, queue.superseded]).toEqual([3, 1]);
    const sent: string[] = [];
    queue.flush(async (m) => {
      sent.push(`${m.topic}=${String(m.payload)}`);
    });
    await e;
    expect(sent).toEqual(['cb/b=1', 'cb/bridge/event=e1', 'cb/a=2']);
    expect(queue.size).toBe(0);
  });

  it('drops the oldest event beyond the bound, never a retained publish', async () => {
    const dropped: string[] = [];
    const queue = new OfflinePublishes(2, (topic) => dropped.push(topic));
    const states = Array.from({ length: 5 }, (_, i) => queue.hold(state(`cb/${i}`, 'x')));
    const e1 = queue.hold(event('1'));
    const e2 = queue.hold(event('2'));
    const e3 = queue.hold(event('3'));
    await expect(e1).rejects.toBeInstanceOf(PublishQueueFullError);
    expect(dropped).toEqual(['cb/bridge/event']);
    expect(queue.size).toBe(7);
    const sent: string[] = [];
    queue.flush(async (m) => {
      sent.push(String(m.payload));
    });
    await Promise.all([...states, e2, e3]);
    expect(sent).toEqual(['x', 'x', 'x', 'x', 'x', '2', '3']);
  });

  it('a failed send fails its own promise only; failAll rejects what is held', async () => {
    const queue = new OfflinePublishes(10);
    const a = queue.hold(state('cb/a', '1'));
    const b = queue.hold(state('cb/b', '1'));
    queue.flush(async (m) => {
      if (m.topic === 'cb/a') throw new Error('socket gone');
    });
    await expect(a).rejects.toThrow('socket gone');
    await expect(b).resolves.toBeUndefined();
    const c = queue.hold(event('late'));
    queue.failAll(new Error('closed'));
    await expect(c).rejects.toThrow('closed');
  });
});

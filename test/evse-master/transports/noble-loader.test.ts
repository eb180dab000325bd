/**
 * The lazy loader with the real @stoprocent/noble module: instances are shared and
 * reference-counted, and the last release stops the instance so a new one is made next time.
 * (Only constructing noble opens nothing; nothing here starts the HCI bindings.)
 */
import { describe, expect, it } from 'vitest';
import type { NobleLike } from '../../../src/evse-master/transports/noble-like.js';
import { acquireNoble, injectedNoble } from '../../../src/evse-master/transports/noble-loader.js';
import { FakeBindings, realNobleOver } from './fake-noble-bindings.js';

describe('acquireNoble', () => {
  it('shares one @stoprocent/noble instance between users and replaces it after the last release', async () => {
    const a = await acquireNoble('@stoprocent/noble');
    const b = await acquireNoble('@stoprocent/noble');
    expect(a.noble).toBe(b.noble);
    expect(typeof a.noble.startScanningAsync).toBe('function');
    a.release();
    a.release(); // idempotent: must not count twice
    const c = await acquireNoble('@stoprocent/noble');
    expect(c.noble).toBe(b.noble);
    b.release();
    c.release();
    const d = await acquireNoble('@stoprocent/noble');
    expect(d.noble).not.toBe(b.noble);
    d.release();
  });

  it('leaves an injected noble alone on release', () => {
    const bindings = new FakeBindings([]);
    const noble: NobleLike = realNobleOver('@stoprocent/noble', bindings);
    injectedNoble(noble).release();
    expect(bindings.callsTo('stop')).toEqual([]);
  });
});

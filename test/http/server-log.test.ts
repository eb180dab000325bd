/**
 * What the endpoint writes to the log: wrong tokens at most once a minute (with a count), and never
 * a token, right or wrong, nor a query string.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { type RunningHttpServer, startHttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { get } from './rig.js';

const TOKEN = 'log-token-a1b2c3d4e5f6a7b8';
const WRONG = 'guessed-token-99999999';
let server: RunningHttpServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function capture(): { lines: Array<Record<string, unknown>>; raw: string[]; stream: Writable } {
  const raw: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line));
      }
      done();
    },
  });
  return { lines, raw, stream };
}

describe('HTTP endpoint logging', () => {
  it('logs wrong tokens once a minute with a count, and never a token or a query string', async () => {
    const clock = new ManualClock();
    const log = capture();
    server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      chargers: [],
      mqtt: null,
      version: 't',
      clock,
      logger: createLogger({ level: 'debug', destination: log.stream }),
      processMetrics: false,
    });
    const base = `http://127.0.0.1:${server.port}`;
    const refusals = () => log.lines.filter((l) => l.msg === 'request with a wrong token refused');

    for (let i = 0; i < 5; i++) expect((await get(`${base}/metrics`, { token: WRONG })).status).toBe(401);
    expect(refusals()).toHaveLength(1);
    expect(refusals()[0]).toMatchObject({ level: 40, path: '/metrics', refused: 1 });

    await clock.advance(61_000);
    await get(`${base}/metrics`, { token: WRONG });
    expect(refusals()).toHaveLength(2);
    expect(refusals()[1]).toMatchObject({ refused: 5 });

    await get(`${base}/metrics`, { token: TOKEN });
    await get(`${base}/metrics?token=${TOKEN}&x=${WRONG}`);
    await get(`${base}/sessions/export?user=${WRONG}`, { token: TOKEN });
    // Every request got a debug line with its path only.
    expect(log.lines.filter((l) => l.msg === 'request').map((l) => l.path)).toContain('/sessions/export');
    for (const line of log.raw) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toContain(WRONG);
    }
  });
});

/**
 * The daemon's HTTP endpoint with a token (from secrets.yaml), after a real charging session so
 * there is something to leak: `/metrics` and `/sessions/export` refuse every request without the
 * token in `Authorization: Bearer`, whatever else it carries (a wrong token, the token in the query,
 * as Basic auth, in a cookie or another header) with 401 and a short JSON error that repeats
 * nothing; the right token works; `/healthz` is public, as documented, and says nothing private.
 * The token never shows up in a log line (at trace) or on MQTT.
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { freePort } from '../helpers/mosquitto.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';
import { type DaemonRig, runFor, startDaemonRig, waitUntil } from '../reliability/daemon-rig.js';

const TOKEN = 'http-Tok3n-for-the-security-suite-Qx81';
const REALM = 'Bearer realm="chargebridge"';
const REFUSALS = [
  'this route needs the header Authorization: Bearer <token> (http.token)',
  'the token is not valid',
  'a token in the URL is not accepted (URLs end up in logs); send the header Authorization: Bearer <token>',
];

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function request(url: string, init: { method?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(url, { method: init.method ?? 'GET', headers: init.headers ?? {} });
  return { status: res.status, headers: res.headers, body: await res.text() } satisfies Answer;
}

describe('HTTP endpoint token in the daemon', () => {
  it('refuses every request without the bearer token with a 401 that leaks nothing, serves the right one, keeps /healthz public', async () => {
    const logs: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => logs.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const port = await freePort();
    const rig: DaemonRig = await startDaemonRig({
      extraYaml: [
        'log_level: trace',
        'users:',
        '  - name: alice',
        'http:',
        '  enabled: true',
        '  host: 127.0.0.1',
        `  port: ${port}`,
        '  token: !secret http_token',
      ].join('\n'),
      files: { 'secrets.yaml': `http_token: "${TOKEN}"\n` },
      logger: createLogger({ destination: stream, level: 'trace' }),
      probe: null,
    });
    cleanups.push(() => rig.stop());
    const watcher = await MqttProbe.connect(rig.daemon.mqttUrl, rig.login);
    cleanups.push(() => watcher.close());
    await watcher.subscribe('#');
    const { clock } = rig;
    const base = `http://127.0.0.1:${port}`;

    // One charging session by alice, so the export and the metrics have something to give away.
    const garage = rig.daemon.chargers.find((c) => c.id === 'garage')!;
    await waitUntil(() => garage.getState().link === 'online', clock, { what: 'the BS20 login' });
    await watcher.publish('chargebridge/garage/set/user', 'alice');
    rig.sim().plugIn({ demandA: 16 });
    await runFor(clock, 5_000, 500);
    await watcher.publish('chargebridge/garage/set/charging', 'ON');
    await waitUntil(() => garage.getState().charging, clock, { what: 'charging', stepMs: 1_000 });
    await runFor(clock, 30 * 60_000, 10_000);
    rig.sim().unplug();
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const exported = async () =>
      JSON.parse((await request(`${base}/sessions/export?format=json`, { headers: bearer })).body) as {
        sessions: Array<{ id: string; user: string | null }>;
      };
    await waitUntil(
      () => watcher.on('chargebridge/bridge/event').some((m) => m.text.includes('session_completed')),
      clock,
      {
        what: 'the session to complete',
        stepMs: 1_000,
      },
    );
    const { sessions } = await exported();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.user).toBe('alice');
    const sessionId = sessions[0]!.id;
    const metrics = await request(`${base}/metrics`, { headers: bearer });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^chargebridge_sessions_completed_total\{charger="garage"\} 1$/m);

    // The right token, also with the scheme in another case, and HEAD.
    for (const route of ['/metrics', '/sessions/export?format=csv']) {
      expect(
        (await request(`${base}${route}`, { headers: { authorization: `bearer ${TOKEN}` } })).status,
      ).toBe(200);
      const head = await request(`${base}${route}`, { method: 'HEAD', headers: bearer });
      expect([head.status, head.body]).toEqual([200, '']);
    }

    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const wrongPlaces: Array<[string, string, Record<string, string>]> = [
      ['no token', '', {}],
      ['an empty Authorization header', '', { authorization: '' }],
      ['Bearer and nothing', '', { authorization: 'Bearer ' }],
      ['a wrong token', '', { authorization: 'Bearer not-the-token-0123456789' }],
      ['the token minus its last character', '', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
      ['the token plus a character', '', { authorization: `Bearer ${TOKEN}x` }],
      ['the token in another case', '', { authorization: `Bearer ${TOKEN.toUpperCase()}` }],
      ['the token and more words', '', { authorization: `Bearer ${TOKEN} extra` }],
      ['the token without a scheme', '', { authorization: TOKEN }],
      ['the token as Basic credentials', '', { authorization: `Basic ${b64(`chargebridge:${TOKEN}`)}` }],
      ['the token as a Basic password alone', '', { authorization: `Basic ${TOKEN}` }],
      ['another scheme', '', { authorization: `Token ${TOKEN}` }],
      ['the token in X-Auth-Token', '', { 'x-auth-token': TOKEN }],
      ['the token in Proxy-Authorization', '', { 'proxy-authorization': `Bearer ${TOKEN}` }],
      ['the token in a cookie', '', { cookie: `token=${TOKEN}` }],
      ['the token in the query', `token=${TOKEN}`, {}],
      ['the token in the query and the header', `token=${TOKEN}`, bearer],
      ['a wrong token in the query', 'token=guess', {}],
      ['the token as access_token', `access_token=${TOKEN}`, {}],
    ];
    const refusals: Array<{ what: string; answer: Answer }> = [];
    for (const route of ['/metrics', '/sessions/export']) {
      for (const [what, query, headers] of wrongPlaces) {
        for (const method of ['GET', 'HEAD']) {
          const params = [query, route === '/sessions/export' ? 'format=json' : ''].filter(Boolean).join('&');
          const answer = await request(`${base}${route}${params ? `?${params}` : ''}`, { method, headers });
          refusals.push({ what: `${method} ${route} with ${what}`, answer });
        }
      }
    }
    for (const { what, answer } of refusals) {
      expect({ what, status: answer.status }).toEqual({ what, status: 401 });
      expect(answer.headers.get('www-authenticate'), what).toMatch(/^Bearer realm="chargebridge"/);
      // A refusal says which rule was broken and nothing else: no data, no token, no hint of it.
      if (answer.body !== '') expect(REFUSALS, what).toContain(JSON.parse(answer.body).error);
      for (const secret of [TOKEN, TOKEN.slice(0, 12), sessionId, 'alice', 'chargebridge_']) {
        expect(answer.body, what).not.toContain(secret);
        expect([...answer.headers.values()].join('\n'), what).not.toContain(secret);
      }
    }
    const wwwAuthenticate = (what: string) =>
      refusals.find((r) => r.what === `GET /metrics with ${what}`)?.answer.headers.get('www-authenticate');
    expect(wwwAuthenticate('no token')).toBe(REALM);
    expect(wwwAuthenticate('a wrong token')).toBe(`${REALM}, error="invalid_token"`);
    expect(wwwAuthenticate('the token in the query')).toBe(`${REALM}, error="invalid_request"`);

    // /healthz is public (Docker HEALTHCHECK, uptime monitors) and holds nothing private: no token,
    // no version, no session, no plug or charging state.
    for (const headers of [{}, { authorization: 'Bearer guess' }, bearer]) {
      const health = await request(`${base}/healthz`, { headers });
      expect(health.status).toBe(200);
      const body = JSON.parse(health.body) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['chargers', 'mqtt', 'reasons', 'status', 'uptime_s']);
      expect(body).toMatchObject({
        status: 'ok',
        reasons: [],
        chargers: [{ id: 'garage', kind: 'bs20', link: 'online' }],
      });
      expect(Object.keys((body.chargers as object[])[0] ?? {}).sort()).toEqual(['id', 'kind', 'link']);
      for (const secret of [TOKEN, sessionId, 'alice', 'charging', 'plugged', 'version'])
        expect(health.body).not.toContain(secret);
    }

    // Guessing is logged once a minute, never with what was sent; the token itself nowhere.
    await watcher.publish('homeassistant/status', 'online');
    await runFor(clock, 10_000, 500);
    await rig.stop();
    const wrongTokenLines = logs.filter((l) => l.includes('request with a wrong token refused'));
    expect(wrongTokenLines).toHaveLength(1);
    expect(logs.length).toBeGreaterThan(100);
    for (const needle of [TOKEN, b64(`chargebridge:${TOKEN}`), Buffer.from(TOKEN).toString('hex')]) {
      expect(logs.filter((l) => l.includes(needle))).toEqual([]);
      expect(watcher.received.filter((m) => m.text.includes(needle) || m.topic.includes(needle))).toEqual([]);
    }
    expect(watcher.on('chargebridge/bridge/info').at(-1)?.text).toContain('[redacted]');
  });
});

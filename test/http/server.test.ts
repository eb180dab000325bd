/**
 * The HTTP endpoint over real loopback requests: routes, the token, methods, limits, the export
 * provider, and that no secret (token, PIN, MQTT password) shows up in any answer.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionExportProvider, SessionExportQuery } from '../../src/http/providers.js';
import { type RunningHttpServer, startHttpServer } from '../../src/http/server.js';
import {
  allAnswers,
  answerText,
  type Bs20Rig,
  connectedMqtt,
  get,
  loggedInBs20,
  type MqttRig,
} from './rig.js';

const TOKEN = 'tok-7f3a9c1e5b2d4f6a8c0e';
const PIN = '907153';
const MQTT_PASSWORD = 'mqtt-pa55-Zq8rW';

let bs20: Bs20Rig;
let mqtt: MqttRig;
let server: RunningHttpServer;
let base: string;
const exportQueries: SessionExportQuery[] = [];
const exportProvider: SessionExportProvider = {
  exportSessions(query) {
    exportQueries.push(query);
    return query.format === 'csv'
      ? 'row_type,month,user\r\nsession,2026-03,alice\r\n'
      : JSON.stringify({ sessions: [], filters: query });
  },
};

beforeAll(async () => {
  bs20 = await loggedInBs20({ pin: PIN });
  mqtt = await connectedMqtt({ username: 'chargebridge', password: MQTT_PASSWORD });
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    chargers: [bs20.charger],
    mqtt: mqtt.connection,
    sessionExport: exportProvider,
    version: '1.2.3-test',
    clock: bs20.clock,
    processMetrics: false,
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  await mqtt?.close();
  await bs20?.close();
});

describe('/healthz', () => {
  it('answers 200 without a token while MQTT is connected, with each charger link and nothing more', async () => {
    await bs20.clock.advance(90_000);
    const res = await get(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = JSON.parse(res.body);
    expect(body).toEqual({
      status: 'ok',
      reasons: [],
      uptime_s: 90,
      mqtt: { connected: true, state: 'connected' },
      chargers: [{ id: 'garage', kind: 'bs20', link: 'online' }],
    });
  });

  it('answers HEAD with the headers only', async () => {
    const res = await get(`${base}/healthz`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(20);
  });
});

describe('the token', () => {
  it('is required for /metrics: missing → 401 with a Bearer challenge', async () => {
    const res = await get(`${base}/metrics`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="chargebridge"');
    expect(JSON.parse(res.body).error).toMatch(/Authorization: Bearer/);
  });

  it('wrong → 401 invalid_token; right → 200', async () => {
    const wrong = await get(`${base}/metrics`, { token: `${TOKEN.slice(0, -1)}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="chargebridge", error="invalid_token"');
    const basic = await get(`${base}/metrics`, {
      authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
    });
    expect(basic.status).toBe(401);
    const right = await get(`${base}/metrics`, { token: TOKEN });
    expect(right.status).toBe(200);
    expect(right.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(right.body).toContain('chargebridge_charger_link_up{charger="garage",kind="bs20"} 1');
  });

  it('is not accepted in the URL, even when it is right', async () => {
    const res = await get(`${base}/metrics?token=${TOKEN}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="chargebridge", error="invalid_request"');
    expect(JSON.parse(res.body).error).toMatch(/not accepted/);
  });

  it('is required for the export before the query is even looked at', async () => {
    const before = exportQueries.length;
    const res = await get(`${base}/sessions/export?format=xml`);
    expect(res.status).toBe(401);
    expect(exportQueries.length).toBe(before);
  });
});

describe('methods, paths, bodies', () => {
  it('405 with Allow for anything but GET and HEAD, whatever the body', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await get(`${base}/metrics`, { method, token: TOKEN, body: 'x'.repeat(100_000) });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
    const options = await get(`${base}/healthz`, { method: 'OPTIONS' });
    expect(options.status).toBe(405);
  });

  it('404 for unknown paths, near misses included', async () => {
    for (const path of [
      '/',
      '/metrics/',
      '/Metrics',
      '/healthz/x',
      '/sessions',
      '/admin',
      '/%2e%2e/etc/passwd',
    ]) {
      const res = await get(`${base}${path}`, { token: TOKEN });
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.body).error).toMatch(/routes are \/healthz, \/metrics, \/sessions\/export/);
    }
  });

  it('keeps answering after a client sends a body with GET', async () => {
    const res = await get(`${base}/healthz`, { method: 'POST', body: 'ignored' });
    expect(res.status).toBe(405);
    expect((await get(`${base}/healthz`)).status).toBe(200);
  });
});

describe('/sessions/export', () => {
  it('CSV by default, as a download named after the filters', async () => {
    const res = await get(`${base}/sessions/export?month=2026-03&user=alice`, { token: TOKEN });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="chargebridge-sessions-2026-03-alice.csv"',
    );
    expect(res.body).toBe('row_type,month,user\r\nsession,2026-03,alice\r\n');
    expect(exportQueries.at(-1)).toEqual({ format: 'csv', month: '2026-03', user: 'alice', charger: null });
  });

  it('JSON with a charger filter', async () => {
    const res = await get(`${base}/sessions/export?format=json&charger=garage`, { token: TOKEN });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-disposition')).toContain('filename="chargebridge-sessions-garage.json"');
    expect(JSON.parse(res.body).filters).toEqual({
      format: 'json',
      month: null,
      user: null,
      charger: 'garage',
    });
  });

  it('400 with the reason for a bad query', async () => {
    const month = await get(`${base}/sessions/export?month=2026-13`, { token: TOKEN });
    expect(month.status).toBe(400);
    expect(JSON.parse(month.body).error).toMatch(/YYYY-MM/);
    const unknown = await get(`${base}/sessions/export?mnth=2026-03`, { token: TOKEN });
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body).error).toMatch(/allowed: format, month, user, charger/);
  });
});

describe('servers configured differently', () => {
  it('404 for the export while no provider is wired; 500 without details when the provider fails', async () => {
    const without = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      chargers: [],
      mqtt: null,
      version: 't',
      processMetrics: false,
    });
    const failing = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      chargers: [],
      mqtt: null,
      version: 't',
      processMetrics: false,
      sessionExport: {
        exportSessions: () => {
          throw new Error('cannot read /var/lib/chargebridge/sessions.json');
        },
      },
    });
    try {
      const missing = await get(`http://127.0.0.1:${without.port}/sessions/export`, { token: TOKEN });
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body).error).toMatch(/session export is not available/);
      const broken = await get(`http://127.0.0.1:${failing.port}/sessions/export`, { token: TOKEN });
      expect(broken.status).toBe(500);
      expect(broken.body).not.toContain('/var/lib');
    } finally {
      await without.close();
      await failing.close();
    }
  });

  it('refuses an export larger than maxResponseBytes, saying how to narrow it', async () => {
    const small = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      chargers: [],
      mqtt: null,
      version: 't',
      processMetrics: false,
      maxResponseBytes: 1000,
      sessionExport: { exportSessions: () => 'x'.repeat(1001) },
    });
    try {
      const res = await get(`http://127.0.0.1:${small.port}/sessions/export`, { token: TOKEN });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error).toMatch(/narrow it with month=/);
    } finally {
      await small.close();
    }
  });

  it('refuses to start without a token, and says why a port is unusable', async () => {
    await expect(
      startHttpServer({ host: '127.0.0.1', port: 0, token: '', chargers: [], mqtt: null, version: 't' }),
    ).rejects.toThrow(/refusing to start without a token; set http.token/);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(
        startHttpServer({ host: '127.0.0.1', port, token: TOKEN, chargers: [], mqtt: null, version: 't' }),
      ).rejects.toThrow(`http: cannot listen on 127.0.0.1:${port}: the port is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('closes promptly while a client holds a keep-alive connection', async () => {
    const s = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      chargers: [],
      mqtt: null,
      version: 't',
    });
    expect((await get(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(900);
    await expect(fetch(`http://127.0.0.1:${s.port}/healthz`)).rejects.toThrow();
  });
});

describe('secrets', () => {
  it('appear in no answer: not the token, the PIN or the MQTT password', async () => {
    // One more round over every route with every kind of credential, then look at all answers.
    for (const path of [
      '/healthz',
      '/metrics',
      '/sessions/export',
      '/sessions/export?format=json',
      '/nope',
    ]) {
      await get(`${base}${path}`);
      await get(`${base}${path}`, { token: TOKEN });
      await get(`${base}${path}`, { token: 'wrong-token-000000000' });
      await get(`${base}${path}?token=${TOKEN}`);
    }
    expect(allAnswers.length).toBeGreaterThan(30);
    for (const answer of allAnswers) {
      const text = answerText(answer);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(PIN);
      expect(text).not.toContain(MQTT_PASSWORD);
    }
  });
});

/**
 * The read-only HTTP endpoint (node:http only): `/healthz` without a token, `/metrics` and
 * `/sessions/export` with `Authorization: Bearer <token>`. GET and HEAD only; request bodies are
 * never read; every answer is bounded in size and time, and none repeats the token.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Charger } from '../core/charger.js';
import { type Clock, systemClock } from '../core/clock.js';
import { LogThrottle } from '../core/log-throttle.js';
import { type Logger, silentLogger } from '../log.js';
import { type AuthResult, TokenCheck } from './auth.js';
import { EXPORT_CONTENT_TYPES, exportFileName, parseExportQuery } from './export-query.js';
import { healthReport } from './health.js';
import { closeServer, listen } from './listen.js';
import { collectMetrics } from './metrics.js';
import { ProcessMetrics } from './process-metrics.js';
import { PROMETHEUS_CONTENT_TYPE, renderExposition } from './prometheus.js';
import type {
  MqttStatus,
  OcppMetricsProvider,
  SessionExportProvider,
  SessionMetricsProvider,
} from './providers.js';
import { HttpError, json, type Reply, send } from './reply.js';

export interface HttpServerOptions {
  /** Address to listen on; 127.0.0.1 keeps it to this machine. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Required for /metrics and /sessions/export; the server refuses to start without one. */
  token: string;
  chargers: readonly Charger[];
  mqtt: MqttStatus | null;
  sessions?: SessionMetricsProvider | undefined;
  sessionExport?: SessionExportProvider | undefined;
  ocpp?: readonly OcppMetricsProvider[] | undefined;
  version: string;
  clock?: Clock;
  /** When the daemon started (clock ms), for uptime; defaults to when the server starts. */
  startedAtMs?: number;
  logger?: Logger;
  /** Larger answers are refused (the export could otherwise grow without limit). Default 32 MiB. */
  maxResponseBytes?: number;
  /** Process and event-loop metrics (default true). */
  processMetrics?: boolean;
}

export interface RunningHttpServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  readonly host: string;
  /** Stop accepting, let requests in flight finish briefly, then cut what is left. */
  close(): Promise<void>;
}

const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
const CLOSE_GRACE_MS = 1_000;
const REALM = 'Bearer realm="chargebridge"';
const ROUTES = ['/healthz', '/metrics', '/sessions/export'] as const;
type Route = (typeof ROUTES)[number];

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  if (typeof options.token !== 'string' || options.token.length === 0) {
    throw new Error(
      'http: refusing to start without a token; set http.token (e.g. from `openssl rand -hex 24`) or turn http.enabled off',
    );
  }
  const clock = options.clock ?? systemClock;
  const startedAtMs = options.startedAtMs ?? clock.now();
  const log = (options.logger ?? silentLogger()).child({ component: 'http' });
  const tokens = new TokenCheck(options.token);
  const processMetrics = options.processMetrics === false ? undefined : new ProcessMetrics();
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const uptimeS = () => Math.max(0, (clock.now() - startedAtMs) / 1000);
  // Someone guessing tokens must not flood the log: one line a minute, with the count.
  const refusals = new LogThrottle(clock);

  const routes: Record<Route, { needsToken: boolean; run: (url: URL) => Promise<Reply> }> = {
    '/healthz': {
      needsToken: false,
      run: async () => {
        const report = healthReport({ mqtt: options.mqtt, chargers: options.chargers, uptimeS: uptimeS() });
        return json(report.healthy ? 200 : 503, report.body);
      },
    },
    '/metrics': {
      needsToken: true,
      run: async () => {
        const families = await collectMetrics({
          chargers: options.chargers,
          mqtt: options.mqtt,
          sessions: options.sessions,
          ocpp: options.ocpp,
          process: processMetrics,
          version: options.version,
          uptimeS: uptimeS(),
        });
        return { status: 200, contentType: PROMETHEUS_CONTENT_TYPE, body: renderExposition(families) };
      },
    },
    '/sessions/export': {
      needsToken: true,
      run: async (url) => {
        const provider = options.sessionExport;
        if (!provider) {
          throw new HttpError(404, 'session export is not available: the session store is not running');
        }
        const parsed = parseExportQuery(url.searchParams);
        if (!parsed.ok) throw new HttpError(400, parsed.error);
        const body = await provider.exportSessions(parsed.query);
        if (Buffer.byteLength(body, 'utf8') > maxResponseBytes) {
          throw new HttpError(
            400,
            `the export is larger than ${Math.floor(maxResponseBytes / 1024 / 1024)} MiB; narrow it with month=, user= or charger=`,
          );
        }
        return {
          status: 200,
          contentType: EXPORT_CONTENT_TYPES[parsed.query.format],
          body,
          headers: { 'Content-Disposition': `attachment; filename="${exportFileName(parsed.query)}"` },
        };
      },
    },
  };

  const server = createServer({ maxHeaderSize: 8 * 1024 }, (req, res) => {
    const started = Date.now();
    void handle(req, res).then(
      () =>
        log.debug(
          { method: req.method, path: pathOnly(req.url), status: res.statusCode, ms: Date.now() - started },
          'request',
        ),
      (err: unknown) => log.error({ err: errorText(err) }, 'could not answer a request'),
    );
  });
  // Slow or idle clients cannot hold sockets for long.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 64;
  server.maxConnections = 64;
  server.setTimeout(30_000);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Bodies are never read: drain whatever comes, and end the connection after answering.
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
      res.shouldKeepAlive = false;
    }
    req.resume();
    let reply: Reply;
    try {
      reply = await route(req);
    } catch (err) {
      if (err instanceof HttpError) {
        reply = { ...json(err.status, { error: err.message }), headers: err.headers };
      } else {
        log.error({ err: errorText(err), path: pathOnly(req.url) }, 'request failed');
        reply = json(500, { error: 'internal error; see the chargebridge log' });
      }
    }
    send(res, reply, maxResponseBytes);
  }

  async function route(req: IncomingMessage): Promise<Reply> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw new HttpError(400, 'malformed request target');
    }
    const path = url.pathname as Route;
    const target = ROUTES.includes(path) ? routes[path] : undefined;
    if (!target) throw new HttpError(404, `not found; the routes are ${ROUTES.join(', ')}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(405, 'only GET and HEAD are allowed', { Allow: 'GET, HEAD' });
    }
    if (target.needsToken) requireToken(req, url);
    return target.run(url);
  }

  function requireToken(req: IncomingMessage, url: URL): void {
    if (url.searchParams.has('token')) {
      throw new HttpError(
        401,
        'a token in the URL is not accepted (URLs end up in logs); send the header Authorization: Bearer <token>',
        { 'WWW-Authenticate': `${REALM}, error="invalid_request"` },
      );
    }
    const result: AuthResult = tokens.check(req.headers.authorization);
    if (result === 'missing') {
      throw new HttpError(401, 'this route needs the header Authorization: Bearer <token> (http.token)', {
        'WWW-Authenticate': REALM,
      });
    }
    if (result === 'invalid') {
      const refused = refusals.take('wrong token');
      if (refused !== null) {
        log.warn(
          { path: url.pathname, from: req.socket.remoteAddress, refused },
          'request with a wrong token refused',
        );
      }
      throw new HttpError(401, 'the token is not valid', {
        'WWW-Authenticate': `${REALM}, error="invalid_token"`,
      });
    }
  }

  await listen(server, options.host, options.port).catch((err: unknown) => {
    processMetrics?.stop();
    throw err;
  });
  const address = server.address() as AddressInfo;
  log.info({ host: options.host, port: address.port }, 'HTTP endpoint listening');

  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    host: options.host,
    close() {
      closing ??= (async () => {
        processMetrics?.stop();
        await closeServer(server, CLOSE_GRACE_MS);
      })();
      return closing;
    },
  };
}

/** The path without the query string, which could hold anything (even a token) and is not logged. */
function pathOnly(url: string | undefined): string {
  return (url ?? '').split('?')[0]?.slice(0, 200) ?? '';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

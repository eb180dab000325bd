/**
 * Independent OCPP 1.6J central systems from npm, behind one small interface for the interop tests:
 * @voltbras/ts-ocpp `CentralSystem` and ocpp-ts `OcppServer`, on loopback. Each records what the
 * charge point sent, answers like a plain backend (transaction ids from 1), can call the charge
 * point, and can be stopped and started again on the same port.
 */
import http, { type Server } from 'node:http';
import https from 'node:https';
import { createServer } from 'node:net';
import { CentralSystem } from '@voltbras/ts-ocpp';
import { type OcppClientConnection, OcppServer } from 'ocpp-ts';
import type { ManualClock } from '../../../src/core/clock.js';

export interface Received {
  action: string;
  payload: Record<string, unknown>;
}

export interface TestCentralSystem {
  readonly port: number;
  /** URL to give the charge point (without the station id). */
  readonly url: string;
  readonly received: Received[];
  bootStatus: 'Accepted' | 'Pending' | 'Rejected';
  bootIntervalS: number;
  /** idTagInfo.status in Authorize/StartTransaction answers. */
  idTagStatus: 'Accepted' | 'Invalid' | 'Blocked';
  /** The next call of this action is received but never answered. */
  holdNext: string | null;
  /** Authorization header of the last websocket upgrade. */
  lastAuthorization: string | undefined;
  connected(): boolean;
  /** Sends a call to the charge point; resolves with its answer, rejects with its CALLERROR. */
  send(action: string, payload: Record<string, unknown>): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
  start(): Promise<void>;
  of(action: string): Array<Record<string, unknown>>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** What a simple backend answers to each charge-point call. */
abstract class Backend {
  readonly received: Received[] = [];
  bootStatus: 'Accepted' | 'Pending' | 'Rejected' = 'Accepted';
  bootIntervalS = 300;
  idTagStatus: 'Accepted' | 'Invalid' | 'Blocked' = 'Accepted';
  holdNext: string | null = null;
  lastAuthorization: string | undefined;
  private nextTransactionId = 1;

  constructor(
    readonly port: number,
    readonly clock: ManualClock,
  ) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ocpp`;
  }

  of(action: string): Array<Record<string, unknown>> {
    return this.received.filter((r) => r.action === action).map((r) => r.payload);
  }

  /** True when this call is to go unanswered (recorded all the same). */
  protected held(action: string, payload: Record<string, unknown>): boolean {
    if (this.holdNext !== action) return false;
    this.holdNext = null;
    this.received.push({ action, payload });
    return true;
  }

  protected answer(action: string, payload: Record<string, unknown>): Record<string, unknown> {
    this.received.push({ action, payload });
    const now = new Date(this.clock.now()).toISOString();
    switch (action) {
      case 'BootNotification':
        return { status: this.bootStatus, currentTime: now, interval: this.bootIntervalS };
      case 'Heartbeat':
        return { currentTime: now };
      case 'Authorize':
        return { idTagInfo: { status: this.idTagStatus } };
      case 'StopTransaction':
        return { idTagInfo: { status: 'Accepted' } };
      case 'StartTransaction':
        return { transactionId: this.nextTransactionId++, idTagInfo: { status: this.idTagStatus } };
      case 'DataTransfer':
        return { status: 'Accepted' };
      default:
        return {};
    }
  }
}

/** @voltbras/ts-ocpp CentralSystem. */
export class VoltbrasCentralSystem extends Backend implements TestCentralSystem {
  private cs: CentralSystem | null = null;
  private readonly sockets = new Set<string>();

  static async create(clock: ManualClock): Promise<VoltbrasCentralSystem> {
    const cs = new VoltbrasCentralSystem(await freePort(), clock);
    await cs.start();
    return cs;
  }

  connected(): boolean {
    return this.sockets.size > 0;
  }

  async start(): Promise<void> {
    const cs = new CentralSystem(
      this.port,
      async (request, meta) => {
        this.lastAuthorization = meta.httpRequest.headers.authorization;
        const { action, ocppVersion, ...payload } = request as unknown as Record<string, unknown>;
        if (this.held(String(action), payload)) return new Promise<never>(() => undefined);
        return { ...this.answer(String(action), payload), action, ocppVersion } as never;
      },
      { host: '127.0.0.1', websocketRequestTimeout: 10_000 },
    );
    cs.addConnectionListener((id, status) => {
      if (status === 'connected') this.sockets.add(id);
      else this.sockets.delete(id);
    });
    // The library listens without telling when; its http server is private.
    const server = (cs as unknown as { httpServer: Server }).httpServer;
    if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
    this.cs = cs;
  }

  async stop(): Promise<void> {
    const cs = this.cs;
    this.cs = null;
    this.sockets.clear();
    await cs?.close();
  }

  async send(action: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!this.cs) throw new Error('central system stopped');
    const [chargePointId] = [...this.sockets];
    const result: { isLeft(): boolean; extract(): unknown } = await this.cs.sendRequest({
      chargePointId: chargePointId ?? '',
      ocppVersion: 'v1.6-json',
      action: action as never,
      payload: payload as never,
    });
    if (result.isLeft()) throw result.extract();
    const { action: _a, ocppVersion: _v, ...answer } = result.extract() as unknown as Record<string, unknown>;
    return answer;
  }
}

/** ocpp-ts OcppServer (has no close(): we keep the http server it creates). */
export class OcppTsCentralSystem extends Backend implements TestCentralSystem {
  private server: Server | null = null;
  private connection: OcppClientConnection | null = null;
  /** Rejects an upgrade unless the Authorization header is this (SP1 tests). */
  requiredAuthorization: string | undefined;

  /** With `tls`, a wss:// server (security profile 2). */
  readonly tls: { cert: Buffer; key: Buffer } | undefined;

  constructor(port: number, clock: ManualClock, tls?: { cert: Buffer; key: Buffer }) {
    super(port, clock);
    this.tls = tls;
  }

  static async create(clock: ManualClock, tls?: { cert: Buffer; key: Buffer }): Promise<OcppTsCentralSystem> {
    const cs = new OcppTsCentralSystem(await freePort(), clock, tls);
    await cs.start();
    return cs;
  }

  override get url(): string {
    return `${this.tls ? 'wss' : 'ws'}://127.0.0.1:${this.port}/ocpp`;
  }

  connected(): boolean {
    return this.connection !== null;
  }

  async start(): Promise<void> {
    const ocpp = new OcppServer();
    ocpp.on('authorization', (_id, request, cb) => {
      this.lastAuthorization = request.headers.authorization;
      if (
        this.requiredAuthorization !== undefined &&
        request.headers.authorization !== this.requiredAuthorization
      ) {
        cb(new Error('bad credentials'));
      } else cb();
    });
    ocpp.on('connection', (connection) => {
      this.connection = connection;
      connection.on('close', () => {
        if (this.connection === connection) this.connection = null;
      });
      for (const action of [
        'BootNotification',
        'Heartbeat',
        'StatusNotification',
        'Authorize',
        'StartTransaction',
        'StopTransaction',
        'MeterValues',
        'DataTransfer',
      ]) {
        connection.on(action as 'Heartbeat', (payload: unknown, cb: (response: never) => void) => {
          const request = payload as Record<string, unknown>;
          if (!this.held(action, request)) cb(this.answer(action, request) as never);
        });
      }
    });
    const originalHttp = http.createServer;
    const originalHttps = https.createServer;
    let created: Server | null = null;
    // ocpp-ts creates its http(s) server inside listen() and never exposes it.
    http.createServer = ((...args: Parameters<typeof http.createServer>) => {
      created = originalHttp(...args);
      return created;
    }) as typeof http.createServer;
    https.createServer = ((...args: Parameters<typeof https.createServer>) => {
      created = originalHttps(...args);
      return created;
    }) as typeof https.createServer;
    try {
      ocpp.listen(this.port, this.tls);
    } finally {
      http.createServer = originalHttp;
      https.createServer = originalHttps;
    }
    const server = created as Server | null;
    if (!server) throw new Error('ocpp-ts did not create an http server');
    server.on('upgrade', (_request, socket) => this.upgraded.push(socket));
    if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.connection = null;
    if (!server) return;
    const closed = new Promise((resolve) => server.close(resolve));
    // Upgraded websocket sockets are not tracked by the http server: destroy them too.
    server.closeAllConnections();
    for (const socket of this.upgraded.splice(0)) socket.destroy();
    await closed;
  }

  private readonly upgraded: Array<{ destroy(): void }> = [];

  async send(action: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!this.connection) throw new Error('no charge point connected');
    return (await this.connection.callRequest(action as 'Reset', payload as never)) as unknown as Record<
      string,
      unknown
    >;
  }
}

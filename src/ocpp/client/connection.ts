/**
 * The websocket to the upstream central system: one ocpp-rpc client per connection attempt, our
 * own retry loop from the very first connect (ocpp-rpc has none), the boot state machine
 * (Accepted / Pending / Rejected, ocpp.md §2.1) and the heartbeat.
 *
 * ocpp-rpc traps avoided here (ocpp.md §1.5): its own reconnect is off, so nothing is ever buffered
 * in CONNECTING and delivered late; a call that times out force-closes the socket, so no stale copy
 * can be answered after the fact. Every timer runs on the injected clock.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { TypedEmitter } from '../../core/emitter.js';
import type { Logger } from '../../log.js';
import {
  call,
  createRpcClient,
  isRpcError,
  type RpcClient,
  type RpcClientOptions,
  RpcNotConnectedError,
  RpcState,
} from '../rpc.js';
import { type ChargePointAction, OCPP16_PROTOCOL, type RequestOf, type ResponseOf } from '../types.js';
import { endpointFor } from './identity.js';

export type Registration = 'none' | 'Pending' | 'Rejected' | 'Accepted';

/** How a call ended. Only `error` (a CALLERROR) counts as "the central system failed to process it". */
export type CallOutcome<A extends ChargePointAction> =
  | { ok: true; response: ResponseOf<A> }
  | { ok: false; kind: 'unreachable'; message: string }
  | { ok: false; kind: 'error'; code: string; message: string }
  | { ok: false; kind: 'bug'; message: string };

export interface Credentials {
  /** null: no Basic auth (security profile 0). */
  password: string | Buffer | null;
}

export interface UpstreamConnectionOptions {
  /** ws:// or wss:// URL of the central system, without the station id. */
  url: string;
  stationId: string;
  /** Asked at every connect, so a new AuthorizationKey takes effect on the next one. */
  credentials: () => Credentials;
  tls?: { ca?: Buffer; rejectUnauthorized?: boolean };
  bootRequest: () => RequestOf<'BootNotification'>;
  /** Registers the central system's calls on each new socket. */
  attachHandlers: (client: RpcClient) => void;
  clock: Clock;
  logger: Logger;
  callTimeoutMs: number;
  /** WebSocket pings (real timers inside ocpp-rpc); 0 = off. */
  pingIntervalS: () => number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /** Every frame on the wire (tests validate them). */
  onFrame?: (message: string, outbound: boolean) => void;
}

export type ConnectionEvents = {
  /** The socket is open (before boot). */
  open: [];
  /** Boot answered; `interval` is in seconds. */
  registration: [status: Registration, intervalS: number];
  /** Ready for unsolicited messages: Accepted and open. `booted` is false after a plain reconnect. */
  ready: [booted: boolean];
  /** The socket closed (will be retried unless stopped). */
  lost: [reason: string];
};

export class UpstreamConnection {
  readonly events = new TypedEmitter<ConnectionEvents>();
  private readonly o: UpstreamConnectionOptions;
  private readonly log: Logger;
  private client: RpcClient | null = null;
  private stopped = true;
  private attempt = 0;
  private reconnectTimer: TimerHandle | undefined;
  private bootTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private registrationState: Registration = 'none';
  private acceptedOnce = false;
  private bootInFlight = false;
  private bootSettled: Promise<void> = Promise.resolve();
  private heartbeatIntervalS = 0;
  private lastOutboundAt = 0;

  constructor(options: UpstreamConnectionOptions) {
    this.o = options;
    this.log = options.logger;
  }

  get registration(): Registration {
    return this.registrationState;
  }

  /** Open socket, boot Accepted: unsolicited messages may go. */
  get ready(): boolean {
    return this.isOpen && this.registrationState === 'Accepted';
  }

  get isOpen(): boolean {
    return this.client?.state === RpcState.OPEN;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    const client = this.client;
    this.client = null;
    await client?.close({ code: 1000, reason: 'charge point shutting down' }).catch(() => undefined);
  }

  /** Drops the socket and connects again at once (new credentials, Reset). */
  reconnectNow(reason: string): void {
    if (this.stopped) return;
    this.log.info({ reason }, 'reconnecting to the central system');
    this.attempt = 0;
    const client = this.client;
    if (client) this.dropClient(client, reason, true);
    else {
      this.o.clock.clearTimeout(this.reconnectTimer);
      this.connect();
    }
  }

  /** Forget the registration: the next connect boots again (Reset, TriggerMessage). */
  rebootNeeded(): void {
    this.acceptedOnce = false;
  }

  /** Sends BootNotification now on the open socket (TriggerMessage or retry). */
  boot(): void {
    const client = this.client;
    if (!client || client.state !== RpcState.OPEN || this.bootInFlight) return;
    this.bootInFlight = true;
    this.o.clock.clearTimeout(this.bootTimer);
    this.bootSettled = this.request('BootNotification', this.o.bootRequest(), { allowUnregistered: true })
      .then((outcome) => this.onBootAnswer(client, outcome))
      .finally(() => {
        this.bootInFlight = false;
      });
  }

  /**
   * Resolves once no BootNotification is waiting for its answer. A central-system call that
   * arrives in the same chunk as the boot answer waits for it, so a Rejected boot stays silent.
   */
  whenBootSettled(): Promise<void> {
    return this.bootSettled;
  }

  setHeartbeatInterval(seconds: number): void {
    this.heartbeatIntervalS = seconds;
    this.scheduleHeartbeat();
  }

  /** Sets the ping interval on the live socket too (WebSocketPingInterval). */
  applyPingInterval(): void {
    this.client?.reconfigure({ pingIntervalMs: this.o.pingIntervalS() * 1000 });
  }

  /**
   * One call, never made unless the socket is OPEN (and, unless allowed, boot Accepted). A timeout
   * force-closes the socket; the caller decides what to retry.
   */
  async request<A extends ChargePointAction>(
    action: A,
    params: RequestOf<A>,
    options: { allowUnregistered?: boolean } = {},
  ): Promise<CallOutcome<A>> {
    const client = this.client;
    if (!client || client.state !== RpcState.OPEN)
      return { ok: false, kind: 'unreachable', message: 'not connected' };
    if (!options.allowUnregistered && this.registrationState !== 'Accepted') {
      return { ok: false, kind: 'unreachable', message: `not registered (${this.registrationState})` };
    }
    const abort = new AbortController();
    let timedOut = false;
    const timer = this.o.clock.setTimeout(() => {
      timedOut = true;
      // The answer may still come, or a copy may sit in a buffer: close first, so neither can happen.
      // Closing after the abort let ocpp-rpc write the next queued call (callConcurrency 1) to this
      // socket in between, and the central system got that message twice.
      this.log.warn({ action }, 'central system did not answer in time; reconnecting');
      this.dropClient(client, 'call timeout', false);
      abort.abort(new Error(`${action} timed out`));
    }, this.o.callTimeoutMs);
    this.lastOutboundAt = this.o.clock.now();
    try {
      const response = await call(client, action, params, {
        timeoutMs: 0,
        signal: abort.signal,
        responseCheck: 'warn',
        onIssue: (issue) =>
          this.log.warn({ action, problem: issue.message }, 'central system answered out of schema'),
      });
      this.scheduleHeartbeat();
      return { ok: true, response };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (timedOut) return { ok: false, kind: 'unreachable', message: `${action} timed out` };
      if (err instanceof RpcNotConnectedError || client.state !== RpcState.OPEN || isDisconnect(err)) {
        return { ok: false, kind: 'unreachable', message };
      }
      if (isRpcError(err)) return { ok: false, kind: 'error', code: err.rpcErrorCode, message };
      return { ok: false, kind: 'bug', message };
    } finally {
      this.o.clock.clearTimeout(timer);
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  private connect(): void {
    if (this.stopped) return;
    this.registrationState = this.acceptedOnce ? 'Accepted' : 'none';
    const { password } = this.o.credentials();
    const options: RpcClientOptions = {
      endpoint: endpointFor(this.o.url, this.o.stationId),
      identity: this.o.stationId,
      protocols: [OCPP16_PROTOCOL],
      password,
      callTimeoutMs: 0,
      pingIntervalMs: this.o.pingIntervalS() * 1000,
      reconnect: false,
      strictMode: false,
      callConcurrency: 1,
    };
    if (this.o.tls) {
      options.wsOpts = {
        minVersion: 'TLSv1.2',
        ...(this.o.tls.ca ? { ca: this.o.tls.ca } : {}),
        rejectUnauthorized: this.o.tls.rejectUnauthorized ?? true,
      };
    }
    const client = createRpcClient(options);
    this.client = client;
    this.o.attachHandlers(client);
    if (this.o.onFrame) {
      const onFrame = this.o.onFrame;
      client.on('message', ((event: { message: string; outbound: boolean }) =>
        onFrame(String(event.message), event.outbound)) as never);
    }
    client.on('close', ((event: { reason?: string }) =>
      this.onClose(client, event?.reason ?? 'closed')) as never);
    client.on('socketError', ((err: Error) => this.log.debug({ err: err.message }, 'socket error')) as never);
    client.connect().then(
      () => this.onOpen(client),
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        const status = (err as { code?: unknown }).code;
        this.log.warn({ err: message, status, attempt: this.attempt }, 'cannot reach the central system');
        this.onClose(client, message);
      },
    );
  }

  private onOpen(client: RpcClient): void {
    if (client !== this.client) return;
    this.attempt = 0;
    this.log.info({ url: this.o.url, station: this.o.stationId }, 'connected to the central system');
    this.events.emit('open');
    // The status messages that follow count as traffic: no heartbeat squeezed in between them.
    this.lastOutboundAt = this.o.clock.now();
    if (this.acceptedOnce) {
      this.scheduleHeartbeat();
      this.events.emit('ready', false);
    } else this.boot();
  }

  private onClose(client: RpcClient, reason: string): void {
    if (client !== this.client) return;
    this.client = null;
    this.o.clock.clearTimeout(this.bootTimer);
    this.o.clock.clearTimeout(this.heartbeatTimer);
    this.events.emit('lost', reason);
    this.scheduleReconnect();
  }

  private dropClient(client: RpcClient, reason: string, immediately: boolean): void {
    if (client === this.client) {
      this.client = null;
      this.o.clock.clearTimeout(this.bootTimer);
      this.o.clock.clearTimeout(this.heartbeatTimer);
      this.events.emit('lost', reason);
      if (immediately) this.connect();
      else this.scheduleReconnect();
    }
    void client.close({ force: true }).catch(() => undefined);
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.o.clock.clearTimeout(this.reconnectTimer);
    const delay = Math.min(this.o.reconnectMaxMs, this.o.reconnectInitialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    this.reconnectTimer = this.o.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private onBootAnswer(client: RpcClient, outcome: CallOutcome<'BootNotification'>): void {
    if (client !== this.client || this.stopped) return;
    if (!outcome.ok) {
      if (outcome.kind !== 'unreachable') {
        this.log.warn({ problem: outcome.message }, 'BootNotification failed; retrying');
        this.scheduleBoot(0);
      }
      return;
    }
    const { status, interval } = outcome.response;
    const intervalS = Number.isFinite(interval) && interval > 0 ? interval : 0;
    this.registrationState =
      status === 'Accepted' || status === 'Pending' || status === 'Rejected' ? status : 'Rejected';
    this.log.info({ status: this.registrationState, intervalS }, 'boot answered');
    this.events.emit('registration', this.registrationState, intervalS);
    if (this.registrationState === 'Accepted') {
      this.acceptedOnce = true;
      this.attempt = 0;
      if (intervalS > 0) this.heartbeatIntervalS = intervalS;
      this.scheduleHeartbeat();
      this.events.emit('ready', true);
    } else this.scheduleBoot(intervalS);
  }

  /** Boot again after `intervalS`, or on our backoff when the central system gave none. */
  private scheduleBoot(intervalS: number): void {
    this.o.clock.clearTimeout(this.bootTimer);
    const delay =
      intervalS > 0
        ? intervalS * 1000
        : Math.min(this.o.reconnectMaxMs, this.o.reconnectInitialMs * 2 ** this.attempt++);
    this.bootTimer = this.o.clock.setTimeout(() => {
      this.bootTimer = undefined;
      this.boot();
    }, delay);
  }

  private scheduleHeartbeat(): void {
    this.o.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (!this.ready || this.heartbeatIntervalS <= 0) return;
    const dueAt = this.lastOutboundAt + this.heartbeatIntervalS * 1000;
    this.heartbeatTimer = this.o.clock.setTimeout(
      () => {
        this.heartbeatTimer = undefined;
        void this.request('Heartbeat', {}).then(() => this.scheduleHeartbeat());
      },
      Math.max(0, dueAt - this.o.clock.now()),
    );
  }

  private clearTimers(): void {
    this.o.clock.clearTimeout(this.reconnectTimer);
    this.o.clock.clearTimeout(this.bootTimer);
    this.o.clock.clearTimeout(this.heartbeatTimer);
    this.reconnectTimer = this.bootTimer = this.heartbeatTimer = undefined;
  }
}

function isDisconnect(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

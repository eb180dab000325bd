/**
 * The shapes of ocpp-rpc's objects as we use them, typed so they work under `strict` (its own
 * declarations make every option required, type handlers as Promise-only and `call()` as unknown).
 * Values live in rpc.ts; this file has types only.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** OCPP-J error codes (1.6J errata spelling) a handler may throw with `rpcError()`. */
export type RpcErrorCode =
  | 'NotImplemented'
  | 'NotSupported'
  | 'InternalError'
  | 'ProtocolError'
  | 'SecurityError'
  | 'FormationViolation'
  | 'PropertyConstraintViolation'
  | 'OccurrenceConstraintViolation'
  | 'TypeConstraintViolation'
  | 'GenericError';

export interface RpcErrorLike extends Error {
  rpcErrorCode: string;
  rpcErrorMessage: string;
  details?: Record<string, unknown>;
}

export interface Handshake {
  remoteAddress: string | undefined;
  headers: IncomingMessage['headers'];
  protocols: Set<string>;
  endpoint: string;
  /** Last URL path segment, decoded: the charge point id. */
  identity: string;
  query: URLSearchParams;
  request: IncomingMessage;
  /** Basic-auth password, only when the Basic user name equals the identity. */
  password: Buffer | undefined;
}

export interface CloseOptions {
  code?: number;
  reason?: string;
  awaitPending?: boolean;
  force?: boolean;
}

export interface RawHandlerArgs {
  messageId: string;
  method: string;
  params: unknown;
  signal: AbortSignal;
}

/** The part of an ocpp-rpc client (either side) the wrappers use. */
export interface RpcClient {
  readonly identity: string | undefined;
  readonly protocol: string | undefined;
  readonly state: number;
  connect(): Promise<unknown>;
  call(
    method: string,
    params?: unknown,
    options?: { callTimeoutMs?: number; signal?: AbortSignal },
  ): Promise<unknown>;
  handle(method: string, handler: (args: RawHandlerArgs) => Promise<unknown>): void;
  removeHandler(method: string): void;
  removeAllHandlers(): void;
  close(
    options?: CloseOptions,
  ): Promise<{ code: number | undefined; reason: string | undefined } | undefined>;
  reconfigure(options: Partial<RpcClientOptions>): void;
  sendRaw(message: string): void;
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

/** A connection accepted by an RPCServer. */
export interface RpcServerClient extends RpcClient {
  readonly identity: string;
  readonly handshake: Handshake;
  readonly session: Record<string, unknown>;
}

export interface RpcClientOptions {
  endpoint: string;
  identity: string;
  protocols?: string[];
  /** Basic-auth password (a Buffer works at runtime, ocpp.md §2.8). */
  password?: string | Buffer | null;
  headers?: Record<string, string>;
  callTimeoutMs?: number;
  /** 0 or less turns keep-alive pings off. */
  pingIntervalMs?: number;
  deferPingsOnActivity?: boolean;
  respondWithDetailedErrors?: boolean;
  callConcurrency?: number;
  strictMode?: boolean | string[];
  reconnect?: boolean;
  maxReconnects?: number;
  maxBadMessages?: number;
  backoff?: { initialDelay?: number; maxDelay?: number; factor?: number; randomisationFactor?: number };
  wsOpts?: Record<string, unknown>;
}

export interface RpcServerOptions {
  protocols?: string[];
  callTimeoutMs?: number;
  pingIntervalMs?: number;
  deferPingsOnActivity?: boolean;
  respondWithDetailedErrors?: boolean;
  callConcurrency?: number;
  strictMode?: boolean | string[];
  maxBadMessages?: number;
  wssOptions?: Record<string, unknown>;
}

export type AuthCallback = (
  accept: (session?: Record<string, unknown>, protocol?: string) => void,
  reject: (code: number, message: string) => void,
  handshake: Handshake,
  signal: AbortSignal,
) => void;

export interface RpcServer {
  auth(callback: AuthCallback): void;
  listen(port: number, host?: string, options?: { signal?: AbortSignal }): Promise<Server>;
  readonly handleUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>;
  close(options?: CloseOptions): Promise<void>;
  reconfigure(options: Partial<RpcServerOptions>): void;
  on(event: 'client', listener: (client: RpcServerClient) => void): unknown;
  on(event: 'error' | 'upgradeAborted' | 'closing' | 'close', listener: (arg: unknown) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

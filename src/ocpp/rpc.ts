/**
 * The one place that touches ocpp-rpc's untyped surface (ocpp.md §1.5 "Unusable TS types").
 *
 * - ocpp-rpc is CommonJS: plain node only sees a few named exports, so we take the default
 *   export and destructure it.
 * - `call()` / `handle()` / `handleRaw()` are typed per OCPP 1.6 action (src/ocpp/types.ts).
 * - `call()` never queues on a socket that is not OPEN (a buffered call is delivered late after a
 *   reconnect, ocpp.md §1.5) and validates what we send before it leaves.
 * - Inbound data is checked with ocpp-rpc's own 1.6 schemas: `handle()` answers a non-conforming
 *   call with the proper CALLERROR; `handleRaw()` hands the raw params to a tolerant parser and
 *   reports the schema problem instead (real chargers send slightly wrong data).
 */
import ocppRpc from 'ocpp-rpc';
import standardValidators from 'ocpp-rpc/lib/standard-validators.js';
import type {
  RpcClient,
  RpcClientOptions,
  RpcErrorCode,
  RpcErrorLike,
  RpcServer,
  RpcServerOptions,
} from './rpc-types.js';
import { OCPP16_PROTOCOL, type Ocpp16Action, type RequestOf, type ResponseOf } from './types.js';

export type {
  AuthCallback,
  CloseOptions,
  Handshake,
  RawHandlerArgs,
  RpcClient,
  RpcClientOptions,
  RpcErrorCode,
  RpcErrorLike,
  RpcServer,
  RpcServerClient,
  RpcServerOptions,
} from './rpc-types.js';

const rpc = ocppRpc as unknown as OcppRpcModule;

/** ocpp-rpc's classes and helpers, with types that work under `strict`. */
export const RPCServer = rpc.RPCServer;
export const RPCClient = rpc.RPCClient;
export const createRPCError = rpc.createRPCError;
export const NOREPLY: unique symbol = rpc.NOREPLY as never;
export const RPCError = rpc.RPCError;
export const TimeoutError = rpc.TimeoutError;

/** Websocket-level states of an ocpp-rpc client (same numbers as `ws`). */
export const RpcState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

interface OcppRpcModule {
  RPCServer: new (options: RpcServerOptions) => RpcServer;
  RPCClient: new (options: RpcClientOptions) => RpcClient;
  createRPCError: (type: string, message?: string, details?: Record<string, unknown>) => RpcErrorLike;
  NOREPLY: symbol;
  RPCError: abstract new (...args: never[]) => RpcErrorLike;
  TimeoutError: abstract new (...args: never[]) => Error;
}

interface SchemaValidator {
  subprotocol: string;
  validate(schemaId: string, params: unknown): unknown;
}

export function createRpcServer(options: RpcServerOptions): RpcServer {
  return new RPCServer(options);
}

export function createRpcClient(options: RpcClientOptions): RpcClient {
  return new RPCClient(options);
}

/** An OCPP-J CALLERROR to throw from a handler. */
export function rpcError(
  code: RpcErrorCode,
  message: string,
  details?: Record<string, unknown>,
): RpcErrorLike {
  return createRPCError(code, message, details ?? {});
}

export function isRpcError(err: unknown): err is RpcErrorLike {
  return err instanceof Error && typeof (err as Partial<RpcErrorLike>).rpcErrorCode === 'string';
}

const ocpp16Validator = (standardValidators as unknown as SchemaValidator[]).find(
  (v) => v.subprotocol === OCPP16_PROTOCOL,
);

/**
 * Checks `payload` against the OCPP 1.6 schema of `action` (`kind` 'req' or 'conf').
 * Returns null when it conforms, else the RPC error ocpp-rpc would send (code + readable text).
 */
export function checkOcpp16(action: string, kind: 'req' | 'conf', payload: unknown): RpcErrorLike | null {
  if (!ocpp16Validator) return rpcError('InternalError', 'ocpp-rpc has no OCPP 1.6 schemas');
  try {
    ocpp16Validator.validate(`urn:${action}.${kind}`, payload);
    return null;
  } catch (err) {
    return isRpcError(err) ? err : rpcError('InternalError', String(err));
  }
}

/** A schema problem in data a peer sent (reported, then tolerated or answered with CALLERROR). */
export interface RpcIssue {
  action: string;
  kind: 'call' | 'result';
  code: string;
  message: string;
  payload: unknown;
}

export type IssueListener = (issue: RpcIssue) => void;

/** The peer is not connected: nothing was sent. */
export class RpcNotConnectedError extends Error {
  constructor(action: string) {
    super(`cannot send ${action}: not connected`);
    this.name = 'RpcNotConnectedError';
  }
}

/** The peer answered with something that does not conform to the schema (`response` holds it). */
export class RpcInvalidResponseError extends Error {
  readonly response: unknown;
  constructor(action: string, detail: string, response: unknown) {
    super(`invalid ${action} response: ${detail}`);
    this.name = 'RpcInvalidResponseError';
    this.response = response;
  }
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * 'strict' (default): a non-conforming answer rejects with RpcInvalidResponseError.
   * 'warn': it is reported to `onIssue` and returned as received — read it defensively.
   */
  responseCheck?: 'strict' | 'warn';
  onIssue?: IssueListener;
}

/**
 * Sends one OCPP 1.6 call and awaits its answer. Rejects without sending when the socket is not
 * OPEN or when `params` does not conform (our bug, never the peer's); rejects with ocpp-rpc's
 * TimeoutError, an RPC error (the peer's CALLERROR) or an Error on disconnect otherwise.
 */
export async function call<A extends Ocpp16Action>(
  client: RpcClient,
  action: A,
  params: RequestOf<A>,
  options: CallOptions = {},
): Promise<ResponseOf<A>> {
  if (client.state !== RpcState.OPEN) throw new RpcNotConnectedError(action);
  const outboundProblem = checkOcpp16(action, 'req', params);
  if (outboundProblem) {
    throw new Error(`refusing to send non-conforming ${action}: ${outboundProblem.message}`);
  }
  const callOptions: { callTimeoutMs?: number; signal?: AbortSignal } = {};
  if (options.timeoutMs !== undefined) callOptions.callTimeoutMs = options.timeoutMs;
  if (options.signal) callOptions.signal = options.signal;
  const response = await client.call(action, params, callOptions);
  const problem = checkOcpp16(action, 'conf', response);
  if (problem) {
    options.onIssue?.({
      action,
      kind: 'result',
      code: problem.rpcErrorCode,
      message: problem.message,
      payload: response,
    });
    if ((options.responseCheck ?? 'strict') === 'strict') {
      throw new RpcInvalidResponseError(action, problem.message, response);
    }
  }
  return response as ResponseOf<A>;
}

export interface HandlerContext<P> {
  params: P;
  messageId: string;
  /** Aborts when the socket drops before the answer is sent. */
  signal: AbortSignal;
}

export interface RawHandlerContext extends HandlerContext<unknown> {
  /** The schema problem in `params`, or null when they conform. */
  issue: RpcErrorLike | null;
}

export type Handler<A extends Ocpp16Action> = (
  ctx: HandlerContext<RequestOf<A>>,
) => ResponseOf<A> | typeof NOREPLY | Promise<ResponseOf<A> | typeof NOREPLY>;

export type RawHandler<A extends Ocpp16Action> = (
  ctx: RawHandlerContext,
) => ResponseOf<A> | typeof NOREPLY | Promise<ResponseOf<A> | typeof NOREPLY>;

export interface HandleOptions {
  onIssue?: IssueListener;
  /** Called when a handler throws something that is not an RPC error (a bug): it is answered InternalError. */
  onHandlerError?: (action: string, err: unknown) => void;
}

/**
 * Registers a handler for inbound `action` calls whose params conform to the 1.6 schema.
 * Non-conforming params get the matching CALLERROR (FormationViolation, …) and never reach it.
 */
export function handle<A extends Ocpp16Action>(
  client: RpcClient,
  action: A,
  handler: Handler<A>,
  options: HandleOptions = {},
): void {
  client.handle(action, async ({ params, messageId, signal }) => {
    const issue = checkOcpp16(action, 'req', params);
    if (issue) {
      options.onIssue?.({
        action,
        kind: 'call',
        code: issue.rpcErrorCode,
        message: issue.message,
        payload: params,
      });
      throw issue;
    }
    return runHandler(action, options, () => handler({ params: params as RequestOf<A>, messageId, signal }));
  });
}

/**
 * Registers a handler that sees the params as received, with the schema verdict beside them, for
 * actions where real chargers deviate and a tolerant parser does better than a CALLERROR.
 */
export function handleRaw<A extends Ocpp16Action>(
  client: RpcClient,
  action: A,
  handler: RawHandler<A>,
  options: HandleOptions = {},
): void {
  client.handle(action, async ({ params, messageId, signal }) => {
    const issue = checkOcpp16(action, 'req', params);
    if (issue) {
      options.onIssue?.({
        action,
        kind: 'call',
        code: issue.rpcErrorCode,
        message: issue.message,
        payload: params,
      });
    }
    return runHandler(action, options, () => handler({ params, messageId, signal, issue }));
  });
}

/** OCPP 2.0.1 framework codes ocpp-rpc uses for frames it cannot read, and their 1.6J equivalents. */
const OCPP16_CODE_FOR: Record<string, string> = {
  RpcFrameworkError: 'FormationViolation',
  MessageTypeNotSupported: 'NotSupported',
  FormatViolation: 'FormationViolation',
  OccurenceConstraintViolation: 'OccurrenceConstraintViolation',
};

/**
 * ocpp-rpc answers unreadable frames with 2.0.1 error codes (RpcFrameworkError,
 * MessageTypeNotSupported) that 1.6J does not have, and with message id "-1" when the frame's type
 * is unknown. Its `badMessage` event hands us the reply before it is sent: fix both in place for
 * 1.6 connections. A readable call can get a 2.0.1 code too (RpcFrameworkError for a message id
 * still in use); the outbound `response` event hands us that CALLERROR before it is sent.
 */
export function speakOcpp16Errors(client: RpcClient): void {
  client.on('response', ((info: { outbound?: boolean; payload?: unknown[] }) => {
    const reply = info?.payload;
    if (!info?.outbound || client.protocol !== OCPP16_PROTOCOL || !Array.isArray(reply) || reply[0] !== 4)
      return;
    const code = OCPP16_CODE_FOR[String(reply[2])];
    if (code) reply[2] = code;
  }) as never);
  client.on('badMessage', ((info: { buffer?: Buffer | string; response?: unknown[] | null }) => {
    const reply = info?.response;
    if (client.protocol !== OCPP16_PROTOCOL || !Array.isArray(reply) || reply[0] !== 4) return;
    const code = OCPP16_CODE_FOR[String(reply[2])];
    if (code) reply[2] = code;
    if (reply[1] === '-1') {
      try {
        const frame: unknown = JSON.parse(String(info.buffer));
        if (Array.isArray(frame) && typeof frame[1] === 'string') reply[1] = frame[1];
      } catch {
        // Not JSON: there is no id to echo.
      }
    }
  }) as never);
}

async function runHandler(action: string, options: HandleOptions, fn: () => unknown): Promise<unknown> {
  try {
    return await fn();
  } catch (err) {
    if (isRpcError(err)) throw err;
    options.onHandlerError?.(action, err);
    // Internal details stay in our log, not on the wire.
    throw rpcError('InternalError', `could not process ${action}`);
  }
}

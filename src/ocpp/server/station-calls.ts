/**
 * One call from the central system to a station, with every way it can fail turned into a
 * ChargerCommandError a user can read: not connected (nothing sent, nothing queued), no answer in
 * time, refused with a CALLERROR, or answered with something unreadable.
 */
import { ChargerCommandError } from '../../core/charger.js';
import {
  call,
  type IssueListener,
  isRpcError,
  RpcInvalidResponseError,
  RpcNotConnectedError,
  type RpcServerClient,
  TimeoutError,
} from '../rpc.js';
import type { CentralSystemAction, RequestOf, ResponseOf } from '../types.js';

export interface StationCallOptions {
  timeoutMs: number;
  onIssue?: IssueListener;
}

export async function callStation<A extends CentralSystemAction>(
  client: RpcServerClient | null,
  stationId: string,
  action: A,
  params: RequestOf<A>,
  options: StationCallOptions,
): Promise<ResponseOf<A>> {
  if (!client) throw offline(stationId, action);
  try {
    // Answers are read defensively by the callers: a slightly wrong one is logged, not fatal.
    return await call(client, action, params, {
      timeoutMs: options.timeoutMs,
      responseCheck: 'warn',
      ...(options.onIssue ? { onIssue: options.onIssue } : {}),
    });
  } catch (err) {
    throw commandError(stationId, action, err, options.timeoutMs, client);
  }
}

function offline(stationId: string, action: string): ChargerCommandError {
  return new ChargerCommandError('offline', `station ${stationId} is not connected; ${action} was not sent`);
}

function commandError(
  stationId: string,
  action: string,
  err: unknown,
  timeoutMs: number,
  client: RpcServerClient,
): ChargerCommandError {
  if (err instanceof ChargerCommandError) return err;
  if (err instanceof RpcNotConnectedError) return offline(stationId, action);
  if (err instanceof TimeoutError) {
    return new ChargerCommandError(
      'timeout',
      `station ${stationId} did not answer ${action} within ${Math.round(timeoutMs / 1000)} s`,
    );
  }
  if (err instanceof RpcInvalidResponseError) {
    return new ChargerCommandError(
      'rejected',
      `station ${stationId} answered ${action} with an invalid message`,
    );
  }
  if (isRpcError(err)) {
    const unsupported = err.rpcErrorCode === 'NotImplemented' || err.rpcErrorCode === 'NotSupported';
    return new ChargerCommandError(
      unsupported ? 'not_supported' : 'rejected',
      `station ${stationId} answered ${action} with ${err.rpcErrorCode}${err.rpcErrorMessage ? `: ${err.rpcErrorMessage}` : ''}`,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  // ocpp-rpc rejects the calls in flight when the socket drops.
  if (client.state !== 1 || /disconnect|closed|not open/i.test(message)) {
    return new ChargerCommandError('offline', `station ${stationId} went away before answering ${action}`);
  }
  return new ChargerCommandError('rejected', `${action} to station ${stationId} failed: ${message}`);
}

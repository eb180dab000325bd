/**
 * The central system's calls, registered on each new socket. Handlers stay thin: they pass the
 * checked params to the part that owns the answer. Calls that fail the 1.6 schema get the proper
 * CALLERROR from rpc.ts; actions we do not offer (reservations, local list, firmware) get
 * NotImplemented from ocpp-rpc since no handler is registered for them. While the boot is Rejected,
 * nothing is answered (§4.2.1).
 */
import type { Logger } from '../../log.js';
import { handle, NOREPLY, type RpcClient } from '../rpc.js';
import type { CentralSystemAction, RequestOf, ResponseOf } from '../types.js';
import type { CurrentControl } from './current-control.js';
import type { RemoteControl } from './remote-control.js';

export interface CsmsTargets {
  remote: RemoteControl;
  current: CurrentControl;
  getConfiguration: (request: RequestOf<'GetConfiguration'>) => ResponseOf<'GetConfiguration'>;
  changeConfiguration: (request: RequestOf<'ChangeConfiguration'>) => ResponseOf<'ChangeConfiguration'>;
  triggerMessage: (request: RequestOf<'TriggerMessage'>) => ResponseOf<'TriggerMessage'>;
  /** Boot answered Rejected: stay silent. */
  silenced: () => boolean;
  /** Resolves when no boot answer is pending (one may arrive in the same chunk as a call). */
  bootSettled: () => Promise<void>;
  logger: Logger;
}

export function attachCsmsHandlers(client: RpcClient, t: CsmsTargets): void {
  const on = <A extends CentralSystemAction>(action: A, answer: (params: RequestOf<A>) => ResponseOf<A>) => {
    handle(
      client,
      action,
      async ({ params }) => {
        await t.bootSettled();
        if (t.silenced()) return NOREPLY;
        t.logger.debug({ action }, 'call from the central system');
        return answer(params);
      },
      {
        onIssue: (issue) =>
          t.logger.warn({ action, problem: issue.message }, 'central system call out of schema'),
        onHandlerError: (name, err) =>
          t.logger.error(
            { action: name, err: err instanceof Error ? err.message : String(err) },
            'handler failed',
          ),
      },
    );
  };
  on('RemoteStartTransaction', (p) => t.remote.remoteStart(p));
  on('RemoteStopTransaction', (p) => t.remote.remoteStop(p));
  on('ChangeAvailability', (p) => t.remote.changeAvailability(p));
  on('Reset', (p) => t.remote.reset(p));
  on('UnlockConnector', (p) => t.remote.unlock(p));
  on('SetChargingProfile', (p) => t.current.setProfile(p));
  on('ClearChargingProfile', (p) => t.current.clear(p));
  on('GetCompositeSchedule', (p) => t.current.composite(p));
  on('GetConfiguration', (p) => t.getConfiguration(p));
  on('ChangeConfiguration', (p) => t.changeConfiguration(p));
  on('TriggerMessage', (p) => t.triggerMessage(p));
  // No vendor extensions (TC_062).
  on('DataTransfer', () => ({ status: 'UnknownVendorId' }));
}

/**
 * StatusNotification for connectors 0 and 1 whenever the mapped status changes, in the order the
 * changes happened. Statuses are never queued: one that could not be sent is sent again, as it is
 * then, at the next reconnect.
 */
import type { Charger } from '../../core/charger.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../log.js';
import { ocppTimestamp, type RequestOf } from '../types.js';
import type { ConfigurationKeys } from './config-keys.js';
import type { UpstreamConnection } from './connection.js';
import { type ConnectorStatus, chargePointStatus, connectorStatus, sameStatus } from './status-mapper.js';
import type { TransactionTracker } from './transactions.js';

export interface StatusReporterOptions {
  charger: Charger;
  tracker: TransactionTracker;
  keys: ConfigurationKeys;
  connection: UpstreamConnection;
  clock: Clock;
  logger: Logger;
}

export class StatusReporter {
  private readonly o: StatusReporterOptions;
  private readonly lastSent = new Map<number, ConnectorStatus>();
  private chainTail: Promise<unknown> = Promise.resolve();

  constructor(options: StatusReporterOptions) {
    this.o = options;
  }

  /** Connector 0 or 1 status as it would be sent now. */
  statusOf(connectorId: 0 | 1): ConnectorStatus {
    const { charger, tracker } = this.o;
    const state = charger.getState();
    const operative = this.o.keys.operative;
    if (connectorId === 0) return chargePointStatus(state, { operative });
    return connectorStatus(state, {
      operative,
      transactionOpen: tracker.open !== null,
      pausedByEvse: tracker.paused,
      awaitingStart: tracker.awaitingStart,
    });
  }

  /** After (re)connecting: both connectors, whatever was sent before. */
  sendAll(): void {
    this.lastSent.clear();
    this.send(0, true);
    this.send(1, true);
  }

  /** Something changed: send what differs from the last status sent. */
  refresh(): void {
    if (!this.o.connection.ready) return;
    for (const connectorId of [0, 1] as const) this.send(connectorId, false);
  }

  /** TriggerMessage(StatusNotification): allowed while the boot is Pending too. */
  sendTriggered(connectorId: number | undefined): void {
    for (const c of [0, 1] as const)
      if (connectorId === undefined || connectorId === c) this.send(c, true, true);
  }

  /** Runs `step` after every status message queued so far. */
  chain(step: () => Promise<unknown>): void {
    this.chainTail = this.chainTail
      .then(step)
      .catch((err: unknown) =>
        this.o.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'upstream message failed',
        ),
      );
  }

  private send(connectorId: 0 | 1, always: boolean, allowUnregistered = false): void {
    const status = this.statusOf(connectorId);
    if (!always && sameStatus(this.lastSent.get(connectorId) ?? null, status)) return;
    this.lastSent.set(connectorId, status);
    const request: RequestOf<'StatusNotification'> = {
      connectorId,
      status: status.status,
      errorCode: status.errorCode,
      timestamp: ocppTimestamp(this.o.clock.now()),
    };
    if (status.info !== undefined) request.info = status.info;
    if (status.vendorErrorCode !== undefined) request.vendorErrorCode = status.vendorErrorCode;
    this.chain(async () => {
      const outcome = await this.o.connection.request('StatusNotification', request, { allowUnregistered });
      if (!outcome.ok && this.lastSent.get(connectorId) === status) this.lastSent.delete(connectorId);
    });
  }
}

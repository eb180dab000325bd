/**
 * StartTransaction and StopTransaction for one station: the ledger assigns and closes transaction
 * ids, the authorizer answers the idTag, and the connector's Charger learns the transaction (with
 * the user its tag, or the remote start before it, names).
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../log.js';
import type { IdTagInfo } from '../types.js';
import type { IdTagAuthorizer } from './authorizer.js';
import { mergeReading } from './connector-state.js';
import type { StartInput, StopInput } from './inbound.js';
import { parseMeterValues } from './meter-values.js';
import type { OcppStationCharger } from './station-charger.js';
import type { TransactionLedger, TransactionRecord } from './transactions.js';

export interface TransactionContext {
  stationId: string;
  /** false for a Pending station: its tags are answered Invalid. */
  accepted: boolean;
  ledger: TransactionLedger;
  authorizer: IdTagAuthorizer;
  clock: Clock;
  log: Logger;
  connector(connectorId: number, what: string): OcppStationCharger | undefined;
  seen(): void;
}

export async function startTransaction(
  ctx: TransactionContext,
  input: StartInput,
): Promise<{ transactionId: number; idTagInfo: IdTagInfo }> {
  const now = ctx.clock.now();
  // A Pending station must not charge, and must not fill the ledger on disk either (it may be
  // anything on the network): Invalid, with a transaction id no one is ever given.
  if (!ctx.accepted) {
    ctx.log.debug({ connector: input.connectorId }, 'StartTransaction from a station not accepted: Invalid');
    return { transactionId: 0, idTagInfo: { status: 'Invalid' } };
  }
  const decision = ctx.authorizer.authorize(input.idTag);
  const result = await ctx.ledger.start({
    stationId: ctx.stationId,
    connectorId: input.connectorId,
    idTag: input.idTag,
    meterStartWh: input.meterStartWh,
    startTimestamp: input.timestampText,
    startedAt: input.timestamp ?? now,
  });
  const { record } = result;
  const idTagInfo: IdTagInfo = decision.idTagInfo;
  if (result.replay) {
    ctx.log.info(
      { transactionId: record.id },
      'replayed StartTransaction: answered with the id it already has',
    );
    ctx.seen();
    return { transactionId: record.id, idTagInfo };
  }
  const charger = ctx.connector(input.connectorId, 'StartTransaction');
  const intent = charger?.takeRemoteStart(input.idTag) ?? null;
  const user = decision.user ?? intent?.user ?? null;
  // Our own default tag names nobody: the session tracker then falls back to the selected user.
  const ownTag = input.idTag.toUpperCase() === ctx.authorizer.defaultIdTag.toUpperCase();
  charger?.emitTag(input.idTag, user);
  charger?.apply((f) => {
    f.transaction = {
      id: record.id,
      idTag: record.idTag,
      user,
      reportIdTag: !ownTag,
      startedAt: record.startedAt,
      meterStartWh: record.meterStartWh,
      stoppedAt: null,
      meterStopWh: null,
      stopReason: null,
    };
    f.stoppedSinceStatus = false;
    f.lastSeenAt = now;
  });
  if (!charger) ctx.seen();
  ctx.log.info(
    { transactionId: record.id, connector: input.connectorId, user, idTag: input.idTag },
    'transaction started',
  );
  return { transactionId: record.id, idTagInfo };
}

/** Always answered, also for ids we never issued (a CALLERROR only makes the charger retry, then drop it). */
export async function stopTransaction(
  ctx: TransactionContext,
  input: StopInput,
): Promise<{ idTagInfo?: IdTagInfo }> {
  const now = ctx.clock.now();
  const answer = input.idTag ? { idTagInfo: ctx.authorizer.authorize(input.idTag).idTagInfo } : {};
  // Another station's transaction is not this station's to close (ids are small and guessable).
  const known = ctx.ledger.get(input.transactionId);
  if (!known || known.stationId !== ctx.stationId) {
    ctx.log.warn(
      { transactionId: input.transactionId },
      'StopTransaction for a transaction we do not know; answered anyway',
    );
    ctx.seen();
    return answer;
  }
  // A re-sent StopTransaction (its answer was lost): closed already, nothing more to change.
  if (known.stoppedAt !== null) {
    ctx.log.info({ transactionId: known.id }, 'repeated StopTransaction: answered, nothing changed');
    ctx.seen();
    return answer;
  }
  let record: TransactionRecord;
  try {
    record =
      (await ctx.ledger.stop(input.transactionId, {
        meterStopWh: input.meterStopWh,
        stoppedAt: input.timestamp ?? now,
        reason: input.reason ?? 'Local',
      })) ?? known;
  } catch (err) {
    ctx.log.error(
      { err: String(err), transactionId: input.transactionId },
      'could not save a stopped transaction',
    );
    record = ctx.ledger.get(input.transactionId) ?? known;
  }
  const final =
    input.transactionData === undefined ? null : parseMeterValues({ meterValue: input.transactionData });
  const charger = ctx.connector(record.connectorId, 'StopTransaction');
  const stopped = record;
  charger?.apply((f) => {
    const tx = f.transaction;
    if (tx?.id === stopped.id) {
      tx.stoppedAt = stopped.stoppedAt;
      tx.meterStopWh = stopped.meterStopWh;
      tx.stopReason = stopped.stopReason;
      f.stoppedSinceStatus = true;
    }
    if (final) f.meter = mergeReading(f.meter, final.reading);
    f.meter.energyImportWh = Math.max(f.meter.energyImportWh ?? 0, input.meterStopWh);
    f.lastSeenAt = now;
  }, stopped.stopReason);
  if (!charger) ctx.seen();
  ctx.log.info(
    { transactionId: record.id, reason: record.stopReason, meterStopWh: input.meterStopWh },
    'transaction stopped',
  );
  return answer;
}

/**
 * The thin layer between a station's websocket and its OcppStation: one handler per action that
 * reads the params tolerantly (inbound.ts), hands them to the station and returns the answer. No
 * wildcard handler: an action we do not know is answered NotImplemented by ocpp-rpc itself.
 */

import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../log.js';
import { type HandleOptions, handleRaw, type RpcServerClient, rpcError } from '../rpc.js';
import { ocppTimestamp } from '../types.js';
import { type Parsed, parseBoot, parseIdTag, parseStart, parseStatus, parseStop } from './inbound.js';
import { parseMeterValues } from './meter-values.js';
import type { OcppStation } from './station.js';

export interface HandlerDeps {
  clock: Clock;
  logger: Logger;
  options: HandleOptions;
}

function unwrap<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw parsed.error;
  return parsed.value;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function registerStationHandlers(
  client: RpcServerClient,
  station: OcppStation,
  deps: HandlerDeps,
): void {
  const { options, clock } = deps;
  const log = deps.logger.child({ station: station.stationId });
  const now = () => ocppTimestamp(clock.now());
  let first = true;
  // After the answer to the first call has gone out: refresh the station's state (ocpp.md §3 item 9).
  const afterFirst = () => {
    if (!first) return;
    first = false;
    setTimeout(() => {
      if (station.isCurrent(client)) void station.refresh();
    }, 0);
  };

  handleRaw(
    client,
    'BootNotification',
    ({ params }) => {
      const answer = station.onBoot(unwrap(parseBoot(params)));
      if (answer.status === 'Accepted') afterFirst();
      return { ...answer, currentTime: now() };
    },
    options,
  );

  handleRaw(
    client,
    'Heartbeat',
    () => {
      station.seen();
      afterFirst();
      return { currentTime: now() };
    },
    options,
  );

  handleRaw(
    client,
    'StatusNotification',
    ({ params }) => {
      station.onStatus(unwrap(parseStatus(params)));
      afterFirst();
      return {};
    },
    options,
  );

  handleRaw(
    client,
    'Authorize',
    ({ params }) => ({ idTagInfo: station.onAuthorize(unwrap(parseIdTag(params))) }),
    options,
  );

  handleRaw(
    client,
    'StartTransaction',
    async ({ params }) => {
      const answer = await station.onStart(unwrap(parseStart(params)));
      afterFirst();
      return answer;
    },
    options,
  );

  handleRaw(
    client,
    'StopTransaction',
    async ({ params }) => {
      const parsed = parseStop(params);
      // Always answered (ocpp.md §3 item 4): a CALLERROR only makes the charger retry, then drop it.
      if (!parsed.ok) {
        log.warn(
          { error: parsed.error.message },
          'StopTransaction we cannot read; answered so the charger moves on',
        );
        station.seen();
        return {};
      }
      return station.onStop(parsed.value);
    },
    options,
  );

  handleRaw(
    client,
    'MeterValues',
    ({ params }) => {
      if (!isRecord(params)) throw rpcError('TypeConstraintViolation', 'MeterValues must be an object');
      station.onMeterValues(parseMeterValues(params));
      afterFirst();
      return {};
    },
    options,
  );

  handleRaw(
    client,
    'DataTransfer',
    ({ params }) => {
      station.seen();
      log.info(
        { vendorId: isRecord(params) ? params.vendorId : undefined },
        'DataTransfer from station (no vendor extensions known)',
      );
      return { status: 'UnknownVendorId' };
    },
    options,
  );

  for (const action of [
    'DiagnosticsStatusNotification',
    'FirmwareStatusNotification',
    'SecurityEventNotification',
  ] as const) {
    handleRaw(
      client,
      action,
      ({ params }) => {
        station.seen();
        log.info({ action, params }, 'station notification');
        return {};
      },
      options,
    );
  }
}

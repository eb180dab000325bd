/**
 * `<base>/bridge/request/ocpp/…`: the station operations Home Assistant has no entity for, for
 * scripts and automations. `station` is the chargebridge id from `ocpp_server.stations[].id`.
 *
 *   ocpp/stations                  → every station, connected or not
 *   ocpp/reset                     {station, type?: soft|hard}
 *   ocpp/availability              {station, connector?: 0…n, operative: bool}
 *   ocpp/unlock                    {station, connector?}
 *   ocpp/trigger                   {station, message, connector?}
 *   ocpp/get_configuration         {station, keys?: [..]}
 *   ocpp/change_configuration      {station, key, value}
 *   ocpp/clear_limit               {station, connector?}
 *   ocpp/data_transfer             {station, vendor_id, message_id?, data?}
 *   ocpp/forget_station            {station}  (one accepted by `unknown_stations: accept`)
 */
import { z } from 'zod';
import type { BridgeApi } from '../../mqtt/bridge-api.js';
import type { OcppCentralSystem } from './central-system.js';
import * as ops from './operations.js';
import type { OcppStation } from './station.js';

const station = z.string().min(1).max(64);
const connector = z.int().min(0).max(8);
const TRIGGERS = [
  'BootNotification',
  'DiagnosticsStatusNotification',
  'FirmwareStatusNotification',
  'Heartbeat',
  'MeterValues',
  'StatusNotification',
] as const;

export function registerOcppRequests(api: Pick<BridgeApi, 'register'>, server: OcppCentralSystem): void {
  const find = (id: string): OcppStation => {
    const found = server.knownStations().find((s) => s.stationId === id);
    if (!found) {
      const known = server
        .knownStations()
        .map((s) => s.stationId)
        .join(', ');
      throw new Error(`unknown OCPP station '${id}' (configured: ${known || 'none'})`);
    }
    return found;
  };

  api.register('ocpp/stations', z.object({}), () => ({
    stations: server.knownStations().map(ops.summarise),
  }));
  api.register('ocpp/reset', z.object({ station, type: z.enum(['soft', 'hard']).default('soft') }), (r) =>
    ops.reset(find(r.station), r.type === 'hard' ? 'Hard' : 'Soft'),
  );
  api.register(
    'ocpp/availability',
    z.object({ station, connector: connector.default(0), operative: z.boolean() }),
    (r) => ops.changeAvailability(find(r.station), r.connector, r.operative),
  );
  api.register('ocpp/unlock', z.object({ station, connector: connector.default(1) }), (r) =>
    ops.unlockConnector(find(r.station), r.connector),
  );
  api.register(
    'ocpp/trigger',
    z.object({ station, message: z.enum(TRIGGERS), connector: connector.optional() }),
    (r) => ops.triggerMessage(find(r.station), r.message, r.connector),
  );
  api.register(
    'ocpp/get_configuration',
    z.object({ station, keys: z.array(z.string().min(1).max(50)).max(100).default([]) }),
    (r) => ops.getConfiguration(find(r.station), r.keys),
  );
  api.register(
    'ocpp/change_configuration',
    z.object({ station, key: z.string().min(1).max(50), value: z.string().max(500) }),
    (r) => ops.changeConfiguration(find(r.station), r.key, r.value),
  );
  api.register('ocpp/clear_limit', z.object({ station, connector: connector.default(1) }), (r) =>
    ops.clearLimit(find(r.station), r.connector),
  );
  api.register(
    'ocpp/data_transfer',
    z.object({
      station,
      vendor_id: z.string().min(1).max(255),
      message_id: z.string().min(1).max(50).optional(),
      data: z.string().optional(),
    }),
    (r) => ops.dataTransfer(find(r.station), r.vendor_id, r.message_id, r.data),
  );
  api.register('ocpp/forget_station', z.object({ station }), async (r) => {
    if (!(await server.forgetAccepted(r.station)))
      throw new Error(`'${r.station}' is not a station accepted by unknown_stations: accept`);
    return { forgotten: r.station, note: 'it leaves Home Assistant when chargebridge restarts' };
  });
}

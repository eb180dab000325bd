/**
 * Charger ids must be unique across sections: `chargers[].id` and the ids an enabled OCPP server gives
 * its stations' connectors (`<id>`, then `<id>_<n>` for connector n ≥ 2, see
 * ocpp/server/station-config.ts). The daemon refuses to start on a clash, so `config check` reports
 * it here with the key to change rather than letting the start fail.
 */
import type { z } from 'zod';
import { reportAt } from './fields.js';

interface RawConfig {
  chargers?: unknown;
  ocpp_server?: unknown;
}

export function checkChargerIdsAcrossSections(config: RawConfig, check: z.RefinementCtx): void {
  const server = config.ocpp_server as { enabled?: unknown; stations?: unknown } | undefined;
  if (server?.enabled !== true || !Array.isArray(server.stations) || !Array.isArray(config.chargers)) return;
  const chargerAt = new Map<string, number>();
  config.chargers.forEach((entry, index) => {
    const id = (entry as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && !chargerAt.has(id)) chargerAt.set(id, index);
  });
  server.stations.forEach((entry, index) => {
    const s = entry as { id?: unknown; connectors?: unknown } | null;
    if (typeof s?.id !== 'string') return;
    const connectors = typeof s.connectors === 'number' ? s.connectors : 1;
    for (let n = 1; n <= connectors; n++) {
      const id = n === 1 ? s.id : `${s.id}_${n}`;
      const clash = chargerAt.get(id);
      if (clash === undefined) continue;
      const derived = n === 1 ? '' : ` (connector ${n} of this station is the charger "${id}")`;
      reportAt(
        check,
        ['ocpp_server', 'stations', index, 'id'],
        `clashes with chargers[${clash}].id "${id}"${derived}; each charger needs its own id: rename one of them`,
      );
    }
  });
}

/**
 * `chargebridge scan`: list the EVSE Master chargers (advertised name `ACP#…`) heard over
 * Bluetooth LE, so the user can put the address into the config.
 */
import {
  type DiscoveredCharger,
  type ScanForChargersOptions,
  scanForChargers,
} from '../evse-master/transports/ble-scan.js';
import { NOBLE_PACKAGES, type NoblePackage } from '../evse-master/transports/noble-like.js';
import { TransportError } from '../evse-master/transports/transport.js';

const DEFAULT_SECONDS = 10;

const USAGE = `usage: chargebridge scan [--seconds N] [--noble @stoprocent/noble|@abandonware/noble]
  --seconds N   listen for N seconds (default ${DEFAULT_SECONDS})
  --noble PKG   Bluetooth library to use (default @stoprocent/noble)
`;

export interface ScanCliDeps {
  scan?: (options: ScanForChargersOptions) => Promise<DiscoveredCharger[]>;
}

interface ScanArgs {
  seconds: number;
  noblePackage: NoblePackage;
}

function parseArgs(args: string[]): ScanArgs | string {
  const parsed: ScanArgs = { seconds: DEFAULT_SECONDS, noblePackage: '@stoprocent/noble' };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = args[i + 1];
    if (arg === '--seconds') {
      const seconds = Number(value);
      if (value === undefined || !Number.isFinite(seconds) || seconds <= 0 || seconds > 600) {
        return `--seconds needs a number of seconds between 0 and 600, got ${value ?? 'nothing'}`;
      }
      parsed.seconds = seconds;
      i++;
    } else if (arg === '--noble') {
      const pkg = NOBLE_PACKAGES.find((p) => p === value);
      if (!pkg) return `--noble must be one of ${NOBLE_PACKAGES.join(', ')}, got ${value ?? 'nothing'}`;
      parsed.noblePackage = pkg;
      i++;
    } else {
      return `unknown option ${arg}`;
    }
  }
  return parsed;
}

export function formatChargerTable(chargers: readonly DiscoveredCharger[]): string {
  const header = ['ADDRESS', 'NAME', 'RSSI'];
  const rows = chargers.map((c) => [c.address, c.localName, `${c.rssiDbm} dBm`]);
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((r) => (r[col] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, col) => cell.padEnd(widths[col] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export async function runScan(
  args: string[],
  out: { write(s: string): void },
  deps: ScanCliDeps = {},
): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    out.write(USAGE);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    out.write(`chargebridge scan: ${parsed}\n${USAGE}`);
    return 2;
  }
  const scan = deps.scan ?? scanForChargers;
  out.write(`scanning for ${parsed.seconds} s with ${parsed.noblePackage}…\n`);
  let chargers: DiscoveredCharger[];
  try {
    chargers = await scan({
      noblePackage: parsed.noblePackage,
      durationMs: Math.round(parsed.seconds * 1000),
    });
  } catch (err) {
    if (err instanceof TransportError && err.code === 'no_adapter') {
      out.write(`chargebridge scan: ${err.message}\n`);
    } else {
      out.write(`chargebridge scan: scan failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    return 1;
  }
  if (chargers.length === 0) {
    out.write(
      `no EVSE Master charger (Bluetooth name ACP#…) heard in ${parsed.seconds} s. ` +
        'Is it powered and in range? A charger connected to the phone app or another bridge ' +
        'accepts no second connection and may not advertise.\n',
    );
    return 0;
  }
  out.write(formatChargerTable(chargers));
  return 0;
}

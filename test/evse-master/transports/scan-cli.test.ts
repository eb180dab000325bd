/** `chargebridge scan` (src/cli/scan.ts): argument handling and what the user reads. */
import { describe, expect, it } from 'vitest';
import { formatChargerTable, runScan } from '../../../src/cli/scan.js';
import { ManualClock } from '../../../src/core/clock.js';
import {
  type ScanForChargersOptions,
  scanForChargers,
} from '../../../src/evse-master/transports/ble-scan.js';
import { noAdapterMessage } from '../../../src/evse-master/transports/noble-loader.js';
import { TransportError } from '../../../src/evse-master/transports/transport.js';
import { CDD_SERVICES, FakeBindings, FFE_SERVICES, realNobleOver } from './fake-noble-bindings.js';

function output() {
  let text = '';
  return {
    out: {
      write: (s: string) => {
        text += s;
      },
    },
    text: () => text,
  };
}

describe('runScan', () => {
  it('prints a table of the chargers heard, strongest first (real noble classes, fake radio)', async () => {
    const clock = new ManualClock();
    const bindings = new FakeBindings([
      {
        id: '9ca50ec8a212',
        address: '9c:a5:0e:c8:a2:12',
        localName: 'ACP#EVSE0158',
        rssi: -80,
        services: CDD_SERVICES,
      },
      {
        id: '9ca50ec80001',
        address: '9c:a5:0e:c8:00:01',
        localName: 'ACP#Garage',
        rssi: -55,
        services: FFE_SERVICES,
      },
    ]);
    const noble = realNobleOver('@abandonware/noble', bindings);
    const seen: ScanForChargersOptions[] = [];
    const { out, text } = output();
    const exit = runScan(['--seconds', '3', '--noble', '@abandonware/noble'], out, {
      scan: (options) => {
        seen.push(options);
        return scanForChargers({ ...options, clock, noble });
      },
    });
    await clock.advance(3000);
    expect(await exit).toBe(0);
    expect(seen[0]).toMatchObject({ noblePackage: '@abandonware/noble', durationMs: 3000 });
    expect(text()).toBe(
      'scanning for 3 s with @abandonware/noble…\n' +
        'ADDRESS            NAME          RSSI\n' +
        '9c:a5:0e:c8:00:01  ACP#Garage    -55 dBm\n' +
        '9c:a5:0e:c8:a2:12  ACP#EVSE0158  -80 dBm\n',
    );
  });

  it('defaults to 10 s with @stoprocent/noble', async () => {
    const seen: ScanForChargersOptions[] = [];
    const { out } = output();
    await runScan([], out, {
      scan: async (options) => {
        seen.push(options);
        return [];
      },
    });
    expect(seen[0]).toMatchObject({ noblePackage: '@stoprocent/noble', durationMs: 10_000 });
  });

  it('says so when no charger was heard', async () => {
    const { out, text } = output();
    expect(await runScan(['--seconds', '2'], out, { scan: async () => [] })).toBe(0);
    expect(text()).toContain('no EVSE Master charger (Bluetooth name ACP#…) heard in 2 s');
  });

  it('prints the no-adapter explanation and exits 1 when there is no Bluetooth adapter', async () => {
    const { out, text } = output();
    const code = await runScan([], out, {
      scan: async () => {
        throw new TransportError('no_adapter', noAdapterMessage('unsupported'));
      },
    });
    expect(code).toBe(1);
    expect(text()).toContain('chargebridge scan: no Bluetooth adapter found (noble state: unsupported)');
    expect(text()).toContain('CAP_NET_RAW');
  });

  it('reports other failures and exits 1', async () => {
    const { out, text } = output();
    const code = await runScan([], out, {
      scan: async () => {
        throw new Error('boom');
      },
    });
    expect(code).toBe(1);
    expect(text()).toContain('scan failed: boom');
  });

  it.each([
    [['--seconds'], '--seconds needs'],
    [['--seconds', 'abc'], '--seconds needs'],
    [['--seconds', '0'], '--seconds needs'],
    [['--noble', 'noble'], '--noble must be one of @stoprocent/noble, @abandonware/noble'],
    [['--verbose'], 'unknown option --verbose'],
  ])('rejects %j with exit 2 and the usage', async (args, complaint) => {
    const { out, text } = output();
    let called = false;
    const code = await runScan(args, out, {
      scan: async () => {
        called = true;
        return [];
      },
    });
    expect(code).toBe(2);
    expect(called).toBe(false);
    expect(text()).toContain(complaint);
    expect(text()).toContain('usage: chargebridge scan');
  });

  it('prints the usage for --help', async () => {
    const { out, text } = output();
    expect(await runScan(['--help'], out)).toBe(0);
    expect(text()).toContain('--seconds N');
  });
});

describe('formatChargerTable', () => {
  it('aligns columns to the widest cell', () => {
    expect(formatChargerTable([{ address: 'x', localName: 'ACP#A-very-long-name', rssiDbm: -100 }])).toBe(
      'ADDRESS  NAME                  RSSI\nx        ACP#A-very-long-name  -100 dBm\n',
    );
  });
});
